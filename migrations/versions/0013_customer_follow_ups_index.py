"""customer follow-ups index: a customer's open follow-ups (its Overview) without reading
every interaction of the customer

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 17:45:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

OPEN = "follow_up_due IS NOT NULL AND follow_up_done_at IS NULL AND deleted_at IS NULL"


def upgrade():
    with op.batch_alter_table('interaction', schema=None) as batch_op:
        batch_op.create_index('ix_interaction_customer_follow_ups',
                              ['customer_id', 'follow_up_due', 'id'], unique=False,
                              sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN))


def downgrade():
    with op.batch_alter_table('interaction', schema=None) as batch_op:
        batch_op.drop_index('ix_interaction_customer_follow_ups')
