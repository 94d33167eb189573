"""catalogue: growing data per product (days to harvest, yield per tray, loss allowance) for the
sowing plan, with typical values for the starting catalogue

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01 21:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

# The same as crm.catalogue.services.STARTING_GROWING (a migration keeps its own copy):
# name -> (days from sowing to harvest, grams per 10x20 tray, loss allowance %).
STARTING_GROWING = {
    "Pea shoots": (11, 400, 10), "Sunflower": (9, 450, 10), "Radish": (8, 275, 5),
    "Broccoli": (11, 225, 10), "Kale": (10, 225, 10), "Arugula": (9, 170, 10),
    "Mustard": (9, 200, 10), "Cilantro": (18, 140, 15), "Basil": (18, 125, 15),
    "Beet": (14, 170, 15), "Amaranth": (12, 110, 15), "Spicy mix": (9, 220, 10),
    "Rainbow mix": (10, 220, 10), "Wheatgrass": (9, 500, 10),
}


def upgrade():
    with op.batch_alter_table('product') as batch:
        batch.add_column(sa.Column('days_to_harvest', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('tray_yield_g', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('loss_pct', sa.Integer(), nullable=False, server_default='0'))
        batch.add_column(sa.Column('growing_version', sa.Integer(), nullable=False,
                                   server_default='1'))
    product = sa.table('product', sa.column('name', sa.String),
                       sa.column('days_to_harvest', sa.Integer),
                       sa.column('tray_yield_g', sa.Integer), sa.column('loss_pct', sa.Integer))
    for name, (days, grams, loss) in STARTING_GROWING.items():
        op.execute(product.update().where(product.c.name == name).values(
            days_to_harvest=days, tray_yield_g=grams, loss_pct=loss))


def downgrade():
    with op.batch_alter_table('product') as batch:
        batch.drop_column('growing_version')
        batch.drop_column('loss_pct')
        batch.drop_column('tray_yield_g')
        batch.drop_column('days_to_harvest')
