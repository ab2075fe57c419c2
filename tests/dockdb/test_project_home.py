"""One database: commands run inside a clone act on the clone's `.dockdb/`, the one the main job fills."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dockdb.config import Config, project_home, user_home
from dockdb.db import Database
from tests.conftest import REPO, run_cli
from tests.webapp.dataset import build


@pytest.fixture
def clone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A directory standing for a fresh clone, with a private per-user directory and no DOCKDB_HOME."""
    root = tmp_path / "clone"
    (root / "deep" / "er").mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.delenv("DOCKDB_HOME", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "user-data"))
    monkeypatch.chdir(root)
    return root


def test_home_is_the_nearest_project_directory(clone: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert project_home() is None and Config.load(environ={}).home == user_home()
    (clone / ".dockdb").mkdir()
    monkeypatch.chdir(clone / "deep" / "er")
    assert project_home() == clone / ".dockdb"
    assert Config.load(environ={}).home == clone / ".dockdb"
    assert Config.load(environ={"DOCKDB_HOME": str(tmp_path / "h")}).home == tmp_path / "h"
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert Config.load(environ={}).home == user_home()


def test_the_main_jobs_database_is_the_one_readme_commands_use(clone: Path, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    # what scripts/run-demo.sh does in the clone's root before filling the database
    assert "mkdir -p .dockdb" in (REPO / "scripts" / "run-demo.sh").read_text()
    (clone / ".dockdb").mkdir()
    assert run_cli(["db", "upgrade"]).exit_code == 0
    assert (clone / ".dockdb" / "dockdb.sqlite").is_file()
    database = Database(f"sqlite:///{clone / '.dockdb' / 'dockdb.sqlite'}")
    build(database)
    database.dispose()

    monkeypatch.chdir(clone / "deep" / "er")  # any directory inside the clone
    listed = run_cli(["campaign", "list"])
    assert listed.exit_code == 0 and "demo-3clpro" in listed.stdout, listed
    stats = run_cli(["stats", "--json"])
    assert stats.exit_code == 0 and json.loads(stats.stdout)["campaigns"] == 1, stats
    doctor = run_cli(["doctor", "--json"])
    report = json.loads(doctor.stdout)
    assert report["home"]["path"] == str(clone / ".dockdb") and ".dockdb/" in report["home"]["from"]
    assert report["database"]["ok"], report["database"]

    # outside the clone: the per-user database, and the error says how to reach the main job's
    monkeypatch.chdir(tmp_path / "elsewhere")
    outside = run_cli(["stats"])
    assert outside.exit_code == 1 and len(outside.stderr.strip().splitlines()) == 1, outside
    assert "dockdb db upgrade" in outside.stderr and ".dockdb/" in outside.stderr and "DOCKDB_HOME" in outside.stderr
