"""Fixtures for campaign tests: targets loaded by the real ingest loader, receptors prepared once
per test session by jobs.receptors (then copied into each test database), a tiny drug library.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

# the campaign helpers live with the reliability drills, which build the same small campaign
from bench.drills._campaign import (  # noqa: F401  (re-exported for the tests of tests/jobs)
    FAST,
    TEST_DRUGS,
    TEST_LIBRARY,
    TEST_TARGETS,
    add_library,
    load_targets,
    prepare_receptors,
)
from dockdb.config import Config
from dockdb.db import Database
from dockdb.models import Receptor, Target


@pytest.fixture(scope="session")
def prepared_receptors(tmp_path_factory: pytest.TempPathFactory, mirror: Path) -> dict[str, dict[str, Any]]:
    """Receptors of TEST_TARGETS prepared once by jobs.receptors.ensure_receptor."""
    return prepare_receptors(tmp_path_factory.mktemp("receptors"), mirror)


@pytest.fixture
def campaign_db(db: Database, config: Config, prepared_receptors: dict[str, dict[str, Any]]) -> Database:
    """A migrated database with the registry's targets, prepared test receptors and the test library."""
    load_targets(db, config)
    with db.session() as s:
        for key, values in prepared_receptors.items():
            tid = s.scalar(select(Target.id).where(Target.key == key))
            s.add(Receptor(target_id=tid, **values))
    add_library(db)
    return db


@pytest.fixture
def reap() -> Iterator[list[int]]:
    """Process groups started by a test, killed at its end (only those)."""
    groups: list[int] = []
    yield groups
    for pgid in groups:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
