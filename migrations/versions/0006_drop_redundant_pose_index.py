"""poses: drop ix_pose_result_id, redundant with the unique (result_id, rank) index

The unique constraint uq_pose_result_id_rank is an index whose leading column is result_id,
so it serves every lookup and delete by result_id; the extra index only cost each pose insert
an index entry (issue 16, writer throughput).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 17:15:00
"""

from __future__ import annotations

from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('pose', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pose_result_id'))


def downgrade() -> None:
    with op.batch_alter_table('pose', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pose_result_id'), ['result_id'], unique=False)
