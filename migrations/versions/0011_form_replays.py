"""form replays: the one-time key of each form that created something, and where its result is

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 10:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'form_replay',
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('actor_kind', sa.String(length=10), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('result_url', sa.String(length=500), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(actor_kind = 'system' AND actor_id IS NULL) OR "
            "(actor_kind IN ('staff', 'portal') AND actor_id IS NOT NULL)",
            name=op.f('ck_form_replay_actor_actor'),
        ),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_form_replay')),
    )
    with op.batch_alter_table('form_replay', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_form_replay_created_at'), ['created_at'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('form_replay', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_form_replay_created_at'))
    op.drop_table('form_replay')
