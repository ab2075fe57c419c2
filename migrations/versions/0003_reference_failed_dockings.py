"""reference scores: a published 0.0 is a failed docking, stored as a missing score

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 06:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('reference_score', schema=None) as batch_op:
        batch_op.alter_column('score', existing_type=sa.Float(), nullable=True)
    # DockCoV2 lists 0.0 for the compounds its docking failed on (arsenic trioxide, bortezomib, ...)
    op.execute("UPDATE reference_score SET score = NULL WHERE score = 0")


def downgrade() -> None:
    op.execute("UPDATE reference_score SET score = 0 WHERE score IS NULL")
    with op.batch_alter_table('reference_score', schema=None) as batch_op:
        batch_op.alter_column('score', existing_type=sa.Float(), nullable=False)
