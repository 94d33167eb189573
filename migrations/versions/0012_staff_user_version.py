"""staff user version: admins' edits of a staff user (role, disabled) detect conflicts

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 10:00:00

Last sign-in needs no column: staff_user.last_sign_in_at exists since 0001 and sign-in sets it.
Chained after 0010 while another branch may add an 0011; re-chain at merge.
"""
import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('staff_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1',
                                      nullable=False))


def downgrade():
    with op.batch_alter_table('staff_user', schema=None) as batch_op:
        batch_op.drop_column('version')
