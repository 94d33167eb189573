"""reports: dashboards per user (dashboard_widget) and the cache of widget numbers
(dashboard_cache)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-01 21:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'dashboard_widget',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=40), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('period', sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['staff_user.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('user_id', 'key', name='uq_dashboard_widget_key'),
        sa.UniqueConstraint('user_id', 'position', name='uq_dashboard_widget_place'),
    )
    op.create_table(
        'dashboard_cache',
        sa.Column('key', sa.String(length=40), nullable=False),
        sa.Column('period', sa.String(length=20), nullable=False),
        sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('key', 'period'),
    )


def downgrade():
    op.drop_table('dashboard_cache')
    op.drop_table('dashboard_widget')
