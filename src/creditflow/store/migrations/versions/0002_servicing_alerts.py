"""servicing alert tasks: early-warning actions of credit lines in the officers' `servicing` queue

Revision ID: 0002
Revises: 0001
Create Date: 2025-11-26 10:00:00.000000

Why a table: the review inbox needs one list across all lines, an SLA and a resolution
(creditflow.store.alerts). The table is additive; downgrading drops it and its open tasks.
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('servicing_alerts',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('queue', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('application_id', sa.String(length=80), nullable=False),
    sa.Column('workflow_id', sa.String(length=120), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('reason_code', sa.String(length=80), nullable=True),
    sa.Column('rule_id', sa.String(length=80), nullable=True),
    sa.Column('policy_version', sa.String(length=64), nullable=True),
    sa.Column('sla_policy_version', sa.String(length=64), nullable=False),
    sa.Column('raised_on', sa.Date(), nullable=False),
    sa.Column('raised_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sla_due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('evidence_seq', sa.Integer(), nullable=True),
    sa.Column('product', sa.String(length=40), nullable=True),
    sa.Column('balance', sa.Float(), nullable=True),
    sa.Column('credit_limit', sa.Float(), nullable=True),
    sa.Column('grade', sa.String(length=2), nullable=True),
    sa.Column('bucket', sa.String(length=10), nullable=True),
    sa.Column('days_past_due', sa.Integer(), nullable=True),
    sa.Column('assignee', sa.String(length=200), nullable=True),
    sa.Column('resolved_by', sa.String(length=200), nullable=True),
    sa.Column('resolved_role', sa.String(length=40), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolution_comment', sa.Text(), nullable=True),
    sa.Column('resolution_evidence_seq', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key', name='uq_servicing_alert_key')
    )
    with op.batch_alter_table('servicing_alerts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_servicing_alerts_application_id'), ['application_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_servicing_alerts_status'), ['status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('servicing_alerts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_servicing_alerts_status'))
        batch_op.drop_index(batch_op.f('ix_servicing_alerts_application_id'))

    op.drop_table('servicing_alerts')
