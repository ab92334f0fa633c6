"""a finding's tickets index carries what the roll-up reads: the findings' states are
counted from the index alone

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 14:10:00

Issue 6 (docs/performance.md): the roll-up counts each finding's state from its tickets in
finding order. ix_tickets_finding_rollup replaces ix_tickets_finding_id: the same column
(it still serves the foreign key) and, on PostgreSQL, the ticket's status, timeline, due
and planned dates, so that the finding side of the whole organisation's roll-up reads the
index (60 MB at a million tickets, against 13 MB without the columns) and not the
tickets: the whole organisation's roll-up took 0.60 s without them, 0.47 s with them.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

COLUMNS = ['status', 'timeline', 'deadline', 'next_review_on', 'planned_completion_on',
           'submitted_on', 'deadline_at_submission']


def upgrade():
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index('ix_tickets_finding_rollup', ['finding_id'], unique=False,
                              postgresql_include=COLUMNS)
        batch_op.drop_index('ix_tickets_finding_id')


def downgrade():
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index('ix_tickets_finding_id', ['finding_id'], unique=False)
        batch_op.drop_index('ix_tickets_finding_rollup')
