"""actors: a kind (staff, portal, system) and an id, no foreign key to staff_user

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 12:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

# table -> the prefix of its <prefix>_kind / <prefix>_id actor columns
ACTORS = {
    'audit_event': 'actor',
    'job_run': 'owner',
    'interaction': 'logged_by',
    'ticket': 'opened_by',
    'preference_change': 'actor',
    'duplicate_dismissal': 'dismissed_by',
    'merged_record': 'merged_by',
    'contact_import': 'uploaded_by',
}


def _check(prefix):
    return (f"({prefix}_kind = 'system' AND {prefix}_id IS NULL) OR "
            f"({prefix}_kind IN ('staff', 'portal') AND {prefix}_id IS NOT NULL)")


def upgrade():
    for table, prefix in ACTORS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column(f'{prefix}_kind', sa.String(length=10), nullable=True))
        # Every id recorded so far is a staff user's; no id was the system.
        op.execute(f"UPDATE {table} SET {prefix}_kind = CASE WHEN {prefix}_id IS NULL "
                   f"THEN 'system' ELSE 'staff' END")
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(f'{prefix}_kind', existing_type=sa.String(length=10),
                                  nullable=False)
            batch_op.drop_constraint(f'fk_{table}_{prefix}_id_staff_user', type_='foreignkey')
            batch_op.create_check_constraint(op.f(f'ck_{table}_{prefix}_actor'), _check(prefix))
    # The actor's kind says where a preference change came from (staff, portal, system).
    with op.batch_alter_table('preference_change', schema=None) as batch_op:
        batch_op.drop_column('source')


def downgrade():
    with op.batch_alter_table('preference_change', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source', sa.String(length=10), nullable=True))
    op.execute("UPDATE preference_change SET source = CASE WHEN actor_kind = 'portal' "
               "THEN 'portal' ELSE 'staff' END")
    for table, prefix in ACTORS.items():
        op.execute(f"UPDATE {table} SET {prefix}_id = NULL WHERE {prefix}_kind <> 'staff'")
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(op.f(f'ck_{table}_{prefix}_actor'), type_='check')
            batch_op.create_foreign_key(f'fk_{table}_{prefix}_id_staff_user', 'staff_user',
                                        [f'{prefix}_id'], ['id'])
            batch_op.drop_column(f'{prefix}_kind')
