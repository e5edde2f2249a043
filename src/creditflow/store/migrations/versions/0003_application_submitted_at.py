"""applications.submitted_at: when the applicant submitted (documents then travel with the submit)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 20:40:00.000000

Why: uploads before `submit` no longer signal the workflow one by one; the submit hands it the
document list. The API sets this column before reading that list, and an upload signals only when it
finds the column set, so an upload racing the submit is never lost (api/routes/applications.py).
Additive and nullable; downgrading drops it.
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('applications') as batch:
        batch.add_column(sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('applications') as batch:
        batch.drop_column('submitted_at')
