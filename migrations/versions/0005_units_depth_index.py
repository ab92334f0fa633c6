"""units by depth: the dashboard's unit filter reads its levels from an index

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 05:30:00

Issue 6 (docs/performance.md): every dashboard view offers the units of the two levels
below the viewer's scope (a province's cities and counties). Without an index that query
read all 50,000 units of a province-sized tree (3.6 ms of the database's time per view at
a million tickets on PostgreSQL); with ix_units_depth it reads the 180 it shows.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.create_index('ix_units_depth', ['depth'], unique=False)


def downgrade():
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.drop_index('ix_units_depth')
