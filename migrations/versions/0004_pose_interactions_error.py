"""poses: why the interaction analysis (ProLIF) failed, stored with the pose

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 07:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('pose', schema=None) as batch_op:
        batch_op.add_column(sa.Column('interactions_error', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('pose', schema=None) as batch_op:
        batch_op.drop_column('interactions_error')
