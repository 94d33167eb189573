"""credit: prices, orders, credit accounts, invoices, payments, the append-only ledger,
credit alerts and an email outbox

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 17:31:54

The ledger refuses UPDATE and DELETE in the database itself (a trigger on PostgreSQL and on
SQLite), not only in the ORM: a mistake is corrected by a reversing entry.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('invoice_counter',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_invoice_counter'))
    )
    op.create_table('price',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('size', sa.String(length=20), nullable=False),
    sa.Column('tier', sa.String(length=20), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=True),
    sa.Column('valid_from', sa.DateTime(timezone=True), nullable=False),
    sa.Column('set_by_kind', sa.String(length=10), nullable=False),
    sa.Column('set_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("(set_by_kind = 'system' AND set_by_id IS NULL) OR (set_by_kind IN ('staff', 'portal') AND set_by_id IS NOT NULL)", name=op.f('ck_price_set_by_actor')),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_price_product_id_product')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_price'))
    )
    with op.batch_alter_table('price', schema=None) as batch_op:
        batch_op.create_index('ix_price_lookup', ['product_id', 'size', 'tier', 'valid_from'], unique=False)

    op.create_table('credit_account',
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('credit_limit', sa.Integer(), nullable=True),
    sa.Column('terms', sa.String(length=10), nullable=False),
    sa.Column('hold', sa.String(length=10), nullable=True),
    sa.Column('hold_reason', sa.Text(), nullable=True),
    sa.Column('hold_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint('credit_limit IS NULL OR credit_limit >= 0', name=op.f('ck_credit_account_credit_limit_not_negative')),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_credit_account_customer_id_customer')),
    sa.PrimaryKeyConstraint('customer_id', name=op.f('pk_credit_account'))
    )
    op.create_table('outbox_email',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('subject', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], name=op.f('fk_outbox_email_contact_id_contact')),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_outbox_email_customer_id_customer')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_email'))
    )
    with op.batch_alter_table('outbox_email', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_email_customer_id'), ['customer_id'], unique=False)

    op.create_table('payment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('method', sa.String(length=20), nullable=False),
    sa.Column('reference', sa.Text(), nullable=True),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_kind', sa.String(length=10), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("(created_by_kind = 'system' AND created_by_id IS NULL) OR (created_by_kind IN ('staff', 'portal') AND created_by_id IS NOT NULL)", name=op.f('ck_payment_created_by_actor')),
    sa.CheckConstraint('amount > 0', name=op.f('ck_payment_payment_amount_positive')),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_payment_customer_id_customer')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment'))
    )
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.create_index('ix_payment_customer', ['customer_id', 'received_on', 'id'],
                              unique=False)

    op.create_table('sales_order',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('delivery_date', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('credit_reasons', sa.JSON(), nullable=True),
    sa.Column('override_reason', sa.Text(), nullable=True),
    sa.Column('override_by_kind', sa.String(length=10), nullable=True),
    sa.Column('override_by_id', sa.Integer(), nullable=True),
    sa.Column('created_by_kind', sa.String(length=10), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("(created_by_kind = 'system' AND created_by_id IS NULL) OR (created_by_kind IN ('staff', 'portal') AND created_by_id IS NOT NULL)", name=op.f('ck_sales_order_created_by_actor')),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_sales_order_customer_id_customer')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sales_order'))
    )
    with op.batch_alter_table('sales_order', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sales_order_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sales_order_delivery_date'), ['delivery_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_sales_order_status'), ['status'], unique=False)

    op.create_table('invoice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('issue_date', sa.Date(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('terms', sa.String(length=10), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('memo', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_kind', sa.String(length=10), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("(created_by_kind = 'system' AND created_by_id IS NULL) OR (created_by_kind IN ('staff', 'portal') AND created_by_id IS NOT NULL)", name=op.f('ck_invoice_created_by_actor')),
    sa.CheckConstraint('due_date >= issue_date', name=op.f('ck_invoice_invoice_due_after_issue')),
    sa.CheckConstraint('total > 0', name=op.f('ck_invoice_invoice_total_positive')),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_invoice_customer_id_customer')),
    sa.ForeignKeyConstraint(['order_id'], ['sales_order.id'], name=op.f('fk_invoice_order_id_sales_order')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice')),
    sa.UniqueConstraint('number', name=op.f('uq_invoice_number')),
    sa.UniqueConstraint('order_id', name=op.f('uq_invoice_order_id'))
    )
    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invoice_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_invoice_due_date'), ['due_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_invoice_issue_date'), ['issue_date'], unique=False)

    op.create_table('order_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('size', sa.String(length=20), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('packaging_id', sa.Integer(), nullable=True),
    sa.Column('unit_price', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['order_id'], ['sales_order.id'], name=op.f('fk_order_line_order_id_sales_order'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['packaging_id'], ['packaging.id'], name=op.f('fk_order_line_packaging_id_packaging')),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_order_line_product_id_product')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_line'))
    )
    with op.batch_alter_table('order_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_order_line_order_id'), ['order_id'], unique=False)

    op.create_table('credit_alert',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=True),
    sa.Column('raised_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('seen_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_credit_alert_customer_id_customer')),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoice.id'], name=op.f('fk_credit_alert_invoice_id_invoice')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_alert'))
    )
    with op.batch_alter_table('credit_alert', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_credit_alert_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_credit_alert_raised_at'), ['raised_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_credit_alert_seen_at'), ['seen_at'], unique=False)

    op.create_table('invoice_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('description', sa.String(length=200), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('unit_price', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoice.id'], name=op.f('fk_invoice_line_invoice_id_invoice')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice_line'))
    )
    with op.batch_alter_table('invoice_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invoice_line_invoice_id'), ['invoice_id'], unique=False)

    op.create_table('ledger_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('applied', sa.Integer(), nullable=True),
    sa.Column('invoice_id', sa.Integer(), nullable=True),
    sa.Column('payment_id', sa.Integer(), nullable=True),
    sa.Column('reverses_id', sa.Integer(), nullable=True),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('memo', sa.Text(), nullable=True),
    sa.Column('actor_kind', sa.String(length=10), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("(actor_kind = 'system' AND actor_id IS NULL) OR (actor_kind IN ('staff', 'portal') AND actor_id IS NOT NULL)", name=op.f('ck_ledger_entry_actor_actor')),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_ledger_entry_customer_id_customer')),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoice.id'], name=op.f('fk_ledger_entry_invoice_id_invoice')),
    sa.ForeignKeyConstraint(['payment_id'], ['payment.id'], name=op.f('fk_ledger_entry_payment_id_payment')),
    sa.ForeignKeyConstraint(['reverses_id'], ['ledger_entry.id'], name=op.f('fk_ledger_entry_reverses_id_ledger_entry')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_entry')),
    sa.UniqueConstraint('reverses_id', name=op.f('uq_ledger_entry_reverses_id'))
    )
    with op.batch_alter_table('ledger_entry', schema=None) as batch_op:
        # Each index also holds the amounts its reads sum, so they read the index alone: a
        # customer's balance and ledger pages; what is settled of each invoice (farm-wide, or
        # a customer's); what is used of each payment.
        batch_op.create_index('ix_ledger_entry_customer',
                              ['customer_id', 'occurred_on', 'id', 'amount'], unique=False)
        batch_op.create_index('ix_ledger_entry_invoice', ['invoice_id', 'applied'], unique=False)
        batch_op.create_index('ix_ledger_entry_customer_settled',
                              ['customer_id', 'invoice_id', 'applied'], unique=False,
                              sqlite_where=sa.text('applied IS NOT NULL'),
                              postgresql_where=sa.text('applied IS NOT NULL'))
        batch_op.create_index('ix_ledger_entry_payment',
                              ['payment_id', 'kind', 'applied', 'amount'], unique=False)
    _ledger_append_only()


def _ledger_append_only():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            CREATE FUNCTION ledger_entry_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'ledger entries are append-only: reverse one instead';
            END;
            $$ LANGUAGE plpgsql""")
        op.execute("""
            CREATE TRIGGER ledger_entry_append_only BEFORE UPDATE OR DELETE ON ledger_entry
            FOR EACH ROW EXECUTE FUNCTION ledger_entry_append_only()""")
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(f"""
                CREATE TRIGGER ledger_entry_no_{action.lower()} BEFORE {action} ON ledger_entry
                BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only: reverse one instead');
                END""")


def _drop_ledger_triggers():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS ledger_entry_append_only ON ledger_entry")
        op.execute("DROP FUNCTION IF EXISTS ledger_entry_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS ledger_entry_no_update")
        op.execute("DROP TRIGGER IF EXISTS ledger_entry_no_delete")


def downgrade():
    _drop_ledger_triggers()
    with op.batch_alter_table('ledger_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_ledger_entry_payment')
        batch_op.drop_index('ix_ledger_entry_customer_settled')
        batch_op.drop_index('ix_ledger_entry_invoice')
        batch_op.drop_index('ix_ledger_entry_customer')

    op.drop_table('ledger_entry')
    with op.batch_alter_table('invoice_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invoice_line_invoice_id'))

    op.drop_table('invoice_line')
    with op.batch_alter_table('credit_alert', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_credit_alert_seen_at'))
        batch_op.drop_index(batch_op.f('ix_credit_alert_raised_at'))
        batch_op.drop_index(batch_op.f('ix_credit_alert_customer_id'))

    op.drop_table('credit_alert')
    with op.batch_alter_table('order_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_order_line_order_id'))

    op.drop_table('order_line')
    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invoice_issue_date'))
        batch_op.drop_index(batch_op.f('ix_invoice_due_date'))
        batch_op.drop_index(batch_op.f('ix_invoice_customer_id'))

    op.drop_table('invoice')
    with op.batch_alter_table('sales_order', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sales_order_status'))
        batch_op.drop_index(batch_op.f('ix_sales_order_delivery_date'))
        batch_op.drop_index(batch_op.f('ix_sales_order_customer_id'))

    op.drop_table('sales_order')
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.drop_index('ix_payment_customer')

    op.drop_table('payment')
    with op.batch_alter_table('outbox_email', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_email_customer_id'))

    op.drop_table('outbox_email')
    op.drop_table('credit_account')
    with op.batch_alter_table('price', schema=None) as batch_op:
        batch_op.drop_index('ix_price_lookup')

    op.drop_table('price')
    op.drop_table('invoice_counter')
