"""segments: a customer's orders by day and status, read from one index (last order, orders in a
window)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 21:10:00
"""
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_sales_order_customer_day', 'sales_order',
                    ['customer_id', 'delivery_date', 'status'], unique=False)


def downgrade():
    op.drop_index('ix_sales_order_customer_day', table_name='sales_order')
