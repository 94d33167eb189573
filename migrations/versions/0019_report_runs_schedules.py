"""reports: report runs with their stored (encrypted, chunked) files, schedules, the inbox's
read marks and the report outbox

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-01 21:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'report_schedule',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('report_key', sa.String(length=40), nullable=False),
        sa.Column('params', sa.JSON(), nullable=False),
        sa.Column('period', sa.String(length=20), nullable=False),
        sa.Column('owner_id', sa.Integer(), nullable=False),
        sa.Column('role', sa.String(length=20), nullable=True),
        sa.Column('frequency', sa.String(length=10), nullable=False),
        sa.Column('weekday', sa.Integer(), nullable=True),
        sa.Column('day', sa.Integer(), nullable=True),
        sa.Column('at_time', sa.String(length=5), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_run_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('next_run_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['owner_id'], ['staff_user.id']),
        sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_report_schedule_owner_id', 'report_schedule', ['owner_id'])
    op.create_index('ix_report_schedule_next_run_at', 'report_schedule', ['next_run_at'])
    op.create_table(
        'report_run',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('report_key', sa.String(length=40), nullable=False),
        sa.Column('params', sa.JSON(), nullable=False),
        sa.Column('owner_id', sa.Integer(), nullable=False),
        sa.Column('role', sa.String(length=20), nullable=True),
        sa.Column('schedule_id', sa.Integer(), nullable=True),
        sa.Column('job_run_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('row_count', sa.Integer(), nullable=True),
        sa.Column('pdf_rows', sa.Integer(), nullable=True),
        sa.Column('csv_size', sa.Integer(), nullable=True),
        sa.Column('pdf_size', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['owner_id'], ['staff_user.id']),
        sa.ForeignKeyConstraint(['schedule_id'], ['report_schedule.id']),
        sa.ForeignKeyConstraint(['job_run_id'], ['job_run.id']),
        sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_report_run_owner_id', 'report_run', ['owner_id'])
    op.create_index('ix_report_run_role', 'report_run', ['role'])
    op.create_index('ix_report_run_schedule_id', 'report_run', ['schedule_id'])
    op.create_index('ix_report_run_expires_at', 'report_run', ['expires_at'])
    op.create_table(
        'report_chunk',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('run_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=4), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(['run_id'], ['report_run.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('run_id', 'kind', 'seq', name='uq_report_chunk'))
    op.create_table(
        'report_read',
        sa.Column('run_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['run_id'], ['report_run.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['staff_user.id']),
        sa.PrimaryKeyConstraint('run_id', 'user_id'))
    op.create_table(
        'report_email',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('staff_user_id', sa.Integer(), nullable=False),
        sa.Column('run_id', sa.Integer(), nullable=True),
        sa.Column('subject', sa.String(length=200), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['staff_user_id'], ['staff_user.id']),
        sa.ForeignKeyConstraint(['run_id'], ['report_run.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_report_email_staff_user_id', 'report_email', ['staff_user_id'])


def downgrade():
    op.drop_table('report_email')
    op.drop_table('report_read')
    op.drop_table('report_chunk')
    op.drop_table('report_run')
    op.drop_table('report_schedule')
