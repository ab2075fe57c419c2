"""The portal's realistic test dataset (bench/drills/_dataset.py, shared with the drills),
behind the suite's data-mirror check: without a mirror its tests skip (fail under CI)."""

from __future__ import annotations

from bench.drills._dataset import DRUGS, N_POSES, Dataset
from bench.drills._dataset import build as _build
from dockdb.db import Database
from tests.environment import require_mirror

__all__ = ["DRUGS", "N_POSES", "Dataset", "build"]


def build(db: Database) -> Dataset:
    """Fill ``db`` with the dataset (skips, or fails under CI, without the data mirror)."""
    require_mirror()
    return _build(db)
