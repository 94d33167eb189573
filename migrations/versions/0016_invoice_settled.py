"""invoice.settled: a customer's open invoices read without summing its whole history

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 21:10:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ALTER TABLE (no batch copy: on SQLite a copy of invoice trips the foreign keys
    # pointing at it)
    op.add_column('invoice', sa.Column('settled', sa.Boolean(), server_default=sa.false(),
                                       nullable=False))
    op.execute("UPDATE invoice SET settled = (SELECT coalesce(sum(applied), 0) FROM ledger_entry"
               " WHERE ledger_entry.invoice_id = invoice.id AND applied IS NOT NULL)"
               " >= invoice.total")
    op.create_index('ix_invoice_customer_open', 'invoice',
                    ['customer_id', 'settled', 'due_date', 'id'], unique=False)
    op.drop_index('ix_invoice_customer_id', table_name='invoice')


def downgrade():
    op.create_index('ix_invoice_customer_id', 'invoice', ['customer_id'], unique=False)
    op.drop_index('ix_invoice_customer_open', table_name='invoice')
    op.execute("ALTER TABLE invoice DROP COLUMN settled")  # SQLite >= 3.35 and PostgreSQL
