"""sign-in failure window: failed sign-ins count only within LOCKOUT_WINDOW_MINUTES of the first

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 15:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    # Existing counts have no window: the next failure of each starts a new count.
    with op.batch_alter_table('sign_in_throttle', schema=None) as batch_op:
        batch_op.add_column(sa.Column('window_started_at', sa.DateTime(timezone=True),
                                      nullable=True))


def downgrade():
    with op.batch_alter_table('sign_in_throttle', schema=None) as batch_op:
        batch_op.drop_column('window_started_at')
