"""contact import: the preview stored once (its summary and rows, encrypted), the column
mapping and default kind, and mappings remembered per header

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 14:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('contact_import', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mapping', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('default_kind', sa.String(length=20), nullable=False,
                                      server_default='restaurant'))
        batch_op.add_column(sa.Column('checked', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('checked_for', sa.String(length=80), nullable=True))
    op.create_table(
        'import_mapping',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('header_key', sa.String(length=64), nullable=False),
        sa.Column('fields', sa.JSON(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('header_key'),
    )
    op.create_table(
        'contact_import_row',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('import_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('shown', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['import_id'], ['contact_import.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_contact_import_row_position', 'contact_import_row',
                    ['import_id', 'position'], unique=True)
    # Previews from before this revision were never stored: their page offers to check again.
    op.execute("UPDATE contact_import SET status = 'checking' WHERE status = 'previewed'")


def downgrade():
    op.execute("UPDATE contact_import SET status = 'previewed' "
               "WHERE status IN ('checking', 'unreadable')")
    op.drop_index('ix_contact_import_row_position', table_name='contact_import_row')
    op.drop_table('contact_import_row')
    op.drop_table('import_mapping')
    with op.batch_alter_table('contact_import', schema=None) as batch_op:
        batch_op.drop_column('checked_for')
        batch_op.drop_column('checked')
        batch_op.drop_column('default_kind')
        batch_op.drop_column('mapping')
