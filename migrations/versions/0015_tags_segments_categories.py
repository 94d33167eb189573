"""tags, saved segments and computed categories

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 20:32:27
"""
import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('tag',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('name_key', sa.String(length=60), nullable=False),
    sa.Column('colour', sa.String(length=7), nullable=True),
    sa.Column('description', sa.String(length=300), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tag')),
    sa.UniqueConstraint('name_key', name=op.f('uq_tag_name_key'))
    )
    op.create_table('segment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('shared', sa.Boolean(), nullable=False),
    sa.Column('rules', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['staff_user.id'], name=op.f('fk_segment_owner_id_staff_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_segment'))
    )
    with op.batch_alter_table('segment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_segment_owner_id'), ['owner_id'], unique=False)

    op.create_table('customer_category',
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('computed_on', sa.Date(), nullable=False),
    sa.Column('revenue_12m', sa.Integer(), nullable=False),
    sa.Column('value_tier', sa.String(length=1), nullable=True),
    sa.Column('orders_12m', sa.Integer(), nullable=False),
    sa.Column('last_order_on', sa.Date(), nullable=True),
    sa.Column('cadence_days', sa.Integer(), nullable=True),
    sa.Column('days_since_order', sa.Integer(), nullable=True),
    sa.Column('churn_risk', sa.String(length=10), nullable=True),
    sa.Column('interactions_90d', sa.Integer(), nullable=False),
    sa.Column('engagement', sa.String(length=10), nullable=False),
    sa.Column('recency', sa.Integer(), nullable=True),
    sa.Column('frequency', sa.Integer(), nullable=True),
    sa.Column('monetary', sa.Integer(), nullable=True),
    sa.CheckConstraint("churn_risk IS NULL OR churn_risk IN ('low', 'rising', 'high')", name=op.f('ck_customer_category_churn_risk_known')),
    sa.CheckConstraint("value_tier IS NULL OR value_tier IN ('A', 'B', 'C')", name=op.f('ck_customer_category_value_tier_known')),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_customer_category_customer_id_customer')),
    sa.PrimaryKeyConstraint('customer_id', name=op.f('pk_customer_category'))
    )
    with op.batch_alter_table('customer_category', schema=None) as batch_op:
        batch_op.create_index('ix_customer_category_churn', ['churn_risk', 'customer_id'], unique=False)
        batch_op.create_index('ix_customer_category_tier', ['value_tier', 'customer_id'], unique=False)

    op.create_table('customer_tag',
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('tag_id', sa.Integer(), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('added_by_kind', sa.String(length=10), nullable=False),
    sa.Column('added_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("(added_by_kind = 'system' AND added_by_id IS NULL) OR (added_by_kind IN ('staff', 'portal') AND added_by_id IS NOT NULL)", name=op.f('ck_customer_tag_added_by_actor')),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_customer_tag_customer_id_customer')),
    sa.ForeignKeyConstraint(['tag_id'], ['tag.id'], name=op.f('fk_customer_tag_tag_id_tag')),
    sa.PrimaryKeyConstraint('customer_id', 'tag_id', name=op.f('pk_customer_tag'))
    )
    with op.batch_alter_table('customer_tag', schema=None) as batch_op:
        batch_op.create_index('ix_customer_tag_tag', ['tag_id', 'customer_id'], unique=False)



def downgrade():
    with op.batch_alter_table('customer_tag', schema=None) as batch_op:
        batch_op.drop_index('ix_customer_tag_tag')

    op.drop_table('customer_tag')
    with op.batch_alter_table('customer_category', schema=None) as batch_op:
        batch_op.drop_index('ix_customer_category_tier')
        batch_op.drop_index('ix_customer_category_churn')

    op.drop_table('customer_category')
    with op.batch_alter_table('segment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_segment_owner_id'))

    op.drop_table('segment')
    op.drop_table('tag')
