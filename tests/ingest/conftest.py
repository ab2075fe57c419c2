"""A database loaded once per test module and backend by a full `ingest all` (run twice)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from dockdb.config import Config
from dockdb.db import Database
from dockdb.migrate import upgrade
from ingest.steps import IngestReport, ingest_all
from tests.conftest import _backend_params, postgres_schema_url
from tests.environment import require_mirror


@dataclass
class Loaded:
    db: Database
    config: Config
    first: IngestReport
    second: IngestReport
    counts_after_first: dict[str, int]


@pytest.fixture(scope="session")
def std_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One DOCKDB_HOME for the loaded databases, so the standardisation cache is shared."""
    return tmp_path_factory.mktemp("ingest-home")


@pytest.fixture(scope="module", params=_backend_params())
def module_db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('loaded') / 'loaded.sqlite'}"
        return
    with postgres_schema_url() as url:
        yield url


@pytest.fixture(scope="module")
def loaded(module_db_url: str, std_home: Path) -> Iterator[Loaded]:
    from dockdb.stats import row_counts

    mirror = require_mirror()
    db = Database(module_db_url)
    upgrade(db.engine)
    config = Config.load(environ={}, home=std_home, database_url=module_db_url, mirror=mirror)
    first = ingest_all(db, config)
    counts = row_counts(db)
    second = ingest_all(db, config)
    yield Loaded(db, config, first, second, counts)
    db.dispose()
