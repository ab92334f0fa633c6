"""dashboard figures: the office dashboard's counts kept for province-sized scopes

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 07:00:00

Issue 6 (docs/performance.md): counting a scope of a million tickets takes seconds, so the
dashboard of such a scope shows the figures counted last (by the request that found none,
or by the scheduler when an audit event newer than their stamp says they moved).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('dashboard_figures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('counted_on', sa.Date(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('stamp', sa.BigInteger(), nullable=False),
    sa.Column('counted_at', sa.DateTime(), nullable=False),
    sa.Column('read_at', sa.DateTime(), nullable=False),
    sa.Column('seconds', sa.Float(), nullable=False),
    sa.Column('figures', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_dashboard_figures_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dashboard_figures')),
    sa.UniqueConstraint('key', name=op.f('uq_dashboard_figures_key'))
    )


def downgrade():
    op.drop_table('dashboard_figures')
