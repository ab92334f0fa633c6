"""units by name: a unit filter given by name, code or id reads three index entries

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 11:15:00

Issue 6 (docs/performance.md): `scoping.find_unit` resolves the list's unit filter
(`?unit=…`) by id, code or exact name in one statement. Without an index on the name,
PostgreSQL read the units in id order until the end of a province-sized tree (50,000
units, 5 ms of every filtered list view at a million tickets); with ix_units_name it
combines the three indexes.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.create_index('ix_units_name', ['name'], unique=False)


def downgrade():
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.drop_index('ix_units_name')
