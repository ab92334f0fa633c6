"""lead unit and status index covers the overdue rule: a subtree's overdue tickets are
counted from the index alone

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 03:00:00

Issue 6 (docs/performance.md): a county supervisor's overdue list counted its 5,652
overdue tickets by reading each ticket row (27 ms at a million tickets on PostgreSQL).
ix_tickets_lead_status_deadline_id replaces ix_tickets_lead_status_deadline: the same
leading columns, with the id (the page's keyset) and, on PostgreSQL, the next review date
that the overdue rule reads for long-term tickets, so that counting and paging a subtree's
overdue or near-due tickets never reads the table (6.7 ms).
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index('ix_tickets_lead_status_deadline_id',
                              ['lead_unit_id', 'status', 'deadline', 'id'], unique=False,
                              postgresql_include=['next_review_on'])
        batch_op.drop_index('ix_tickets_lead_status_deadline')


def downgrade():
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index('ix_tickets_lead_status_deadline',
                              ['lead_unit_id', 'status', 'deadline'], unique=False)
        batch_op.drop_index('ix_tickets_lead_status_deadline_id')
