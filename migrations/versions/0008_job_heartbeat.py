"""job run heartbeat: when a running job last said it is alive

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 13:20:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('job_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_job_run_status', ['status'])


def downgrade():
    with op.batch_alter_table('job_run', schema=None) as batch_op:
        batch_op.drop_index('ix_job_run_status')
        batch_op.drop_column('heartbeat_at')
