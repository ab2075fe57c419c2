"""Shared fixtures: a clean database per test on SQLite *and* PostgreSQL, the data mirror.

PostgreSQL isolation: each test gets its own schema in the `test` database, selected
through the connection's ``search_path``, and dropped afterwards.  The server URL comes
from ``DOCKDB_TEST_POSTGRES_URL`` (default ``postgresql://postgres@127.0.0.1:5432/test``).
Set ``DOCKDB_TEST_BACKENDS=sqlite`` to run on SQLite only (CI runs both).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from dockdb.config import Config
from dockdb.db import Database
from dockdb.migrate import upgrade
from tests.environment import ci_check, mirror_dir, require_mirror

REPO = Path(__file__).resolve().parents[1]
__all__ = ["REPO", "mirror_dir", "run_cli"]
POSTGRES_URL = os.environ.get("DOCKDB_TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test")
BACKENDS = [b.strip() for b in os.environ.get("DOCKDB_TEST_BACKENDS", "sqlite,postgres").split(",") if b.strip()]


def pytest_sessionstart(session: pytest.Session) -> None:
    ci_check()


@pytest.fixture(scope="session")
def mirror() -> Path:
    return require_mirror()


@pytest.fixture(autouse=True)
def _clean_dockdb_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Tests never touch the user's data directory or database."""
    for name in list(os.environ):
        if name.startswith("DOCKDB_") and not name.startswith("DOCKDB_TEST_") and name != "DOCKDB_MIRROR":
            monkeypatch.delenv(name)
    monkeypatch.setenv("DOCKDB_HOME", str(tmp_path / "dockdb-home"))


def _backend_params() -> list:
    params = []
    for b in BACKENDS:
        marks = [pytest.mark.postgres] if b == "postgres" else []
        params.append(pytest.param(b, marks=marks, id=b))
    return params


@pytest.fixture(params=_backend_params())
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of an empty database (no schema), on each backend in turn."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.sqlite'}"
        return
    with postgres_schema_url() as url:
        yield url


@contextmanager
def postgres_schema_url() -> Iterator[str]:
    """URL of a new, empty PostgreSQL schema (via ``search_path``), dropped on exit."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as e:  # pragma: no cover - environment problem, not a test result
        pytest.fail(f"PostgreSQL not reachable at {POSTGRES_URL}: {e}")
    sep = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    """A migrated, empty database."""
    database = Database(db_url)
    upgrade(database.engine)
    yield database
    database.dispose()


@pytest.fixture
def config(db_url: str, tmp_path: Path) -> Config:
    return Config.load(environ={}, home=tmp_path / "home", database_url=db_url, mirror=mirror_dir())


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


def run_cli(args: list[str], env: dict[str, str] | None = None) -> CliResult:
    """Run `dockdb ARGS` in-process exactly as the console script does."""
    from dockdb.cli import main

    runner = CliRunner()
    with runner.isolation(env=env) as streams:
        try:
            main(args)
            code = 0
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        out, err = streams[0].getvalue().decode(), streams[1].getvalue().decode()
    return CliResult(code, out, err)


@pytest.fixture
def cli_env(db_url: str, tmp_path: Path) -> dict[str, str]:
    env = {"DOCKDB_DATABASE_URL": db_url, "DOCKDB_HOME": str(tmp_path / "home")}
    m = mirror_dir()
    if m is not None:
        env["DOCKDB_MIRROR"] = str(m)
    return env
