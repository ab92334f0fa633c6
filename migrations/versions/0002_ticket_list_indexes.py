"""ticket list indexes: each order and filter of the ticket list served by an index

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 03:50:00

Issue 6 (docs/performance.md): at 1,000,000 tickets the list reads its page's ids from an
index that serves its scope, filter and order.
- ix_tickets_lead_deadline_id: a subtree scope or unit filter, in deadline order;
- ix_tickets_status_deadline_id replaces ix_tickets_status_deadline (its prefix): the
  status filter in deadline order, ties broken by id without a sort;
- ix_tickets_due_deadline_id, partial on PostgreSQL and SQLite (MariaDB has no partial
  indexes: there it is a plain index on deadline, id): the open tickets that owe work,
  i.e. the overdue and near-due filters, in deadline order; on PostgreSQL it carries the
  status and next review date, so that counting overdue tickets reads the index alone.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

# Frozen here: the states of deadlines.DUE_STATES when this revision was written.
DUE_WHERE = "status IN ('assigned', 'in_progress', 'returned', 'long_term')"


def upgrade():
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index('ix_tickets_lead_deadline_id', ['lead_unit_id', 'deadline', 'id'],
                              unique=False)
        batch_op.create_index('ix_tickets_status_deadline_id', ['status', 'deadline', 'id'],
                              unique=False)
        batch_op.drop_index('ix_tickets_status_deadline')
    op.create_index('ix_tickets_due_deadline_id', 'tickets', ['deadline', 'id'],
                    unique=False, postgresql_include=['status', 'next_review_on'],
                    postgresql_where=sa.text(DUE_WHERE), sqlite_where=sa.text(DUE_WHERE))


def downgrade():
    op.drop_index('ix_tickets_due_deadline_id', table_name='tickets')
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index('ix_tickets_status_deadline', ['status', 'deadline'], unique=False)
        batch_op.drop_index('ix_tickets_status_deadline_id')
        batch_op.drop_index('ix_tickets_lead_deadline_id')
