from __future__ import annotations

import json

from dockdb import __version__
from dockdb.migrate import head_revision
from dockdb.stats import COUNTED
from tests.conftest import run_cli


def test_version() -> None:
    res = run_cli(["--version"])
    assert res.exit_code == 0 and __version__ in res.stdout


def test_db_upgrade_current_stats(cli_env: dict[str, str]) -> None:
    res = run_cli(["db", "upgrade"], cli_env)
    assert res.exit_code == 0, res.stderr
    assert f"to {head_revision()}" in res.stdout
    res = run_cli(["db", "upgrade"], cli_env)
    assert res.exit_code == 0 and "nothing to do" in res.stdout
    res = run_cli(["db", "current"], cli_env)
    assert res.exit_code == 0 and "at head" in res.stdout
    res = run_cli(["stats", "--json"], cli_env)
    assert res.exit_code == 0
    counts = json.loads(res.stdout)
    assert counts == {key: 0 for key in COUNTED}  # every counted table, each empty after the migrations
    res = run_cli(["stats"], cli_env)
    assert res.exit_code == 0
    assert [ln.split() for ln in res.stdout.splitlines()] == [[key, "0"] for key in COUNTED]


def test_unmigrated_database_is_one_clear_line(cli_env: dict[str, str]) -> None:
    res = run_cli(["stats"], cli_env)
    assert res.exit_code == 1
    assert res.stderr.count("\n") == 1 and "dockdb db upgrade" in res.stderr
    assert "Traceback" not in res.stderr + res.stdout


def test_unreachable_database_masks_password_and_names_fix() -> None:
    env = {"DOCKDB_DATABASE_URL": "postgresql://someone:hunter2@127.0.0.1:1/nodb"}
    res = run_cli(["stats"], env)
    assert res.exit_code == 1
    assert "hunter2" not in res.stderr and "someone:***@" in res.stderr
    assert "DOCKDB_DATABASE_URL" in res.stderr and "Traceback" not in res.stderr
    assert res.stderr.count("\n") == 1


def test_wrong_url_and_unknown_setting() -> None:
    res = run_cli(["stats"], {"DOCKDB_DATABASE_URL": "mysql-ish:/nope"})
    assert res.exit_code == 1 and "invalid database URL" in res.stderr
    res = run_cli(["stats"], {"DOCKDB_COLOUR": "blue"})
    assert res.exit_code == 2 and "DOCKDB_COLOUR" in res.stderr and "DOCKDB_DATABASE_URL" in res.stderr


def _expected_cuda() -> str:
    """What doctor must say about CUDA on this machine, asked of torch directly."""
    import importlib.util

    if importlib.util.find_spec("torch") is None:
        return "unknown: torch is not installed (pip install 'dockdb[gpu]')"
    import torch

    if torch.cuda.is_available():
        return f"usable: {torch.cuda.device_count()} device(s), {torch.cuda.get_device_name(0)}"
    return "not usable: torch sees no CUDA device (engines run on CPU)"


def test_doctor_reports_config_database_and_versions(cli_env: dict[str, str]) -> None:
    res = run_cli(["doctor", "--json"], cli_env)
    assert res.exit_code == 1  # not migrated yet
    report = json.loads(res.stdout)
    assert report["database"]["ok"] is False and "dockdb db upgrade" in report["database"]["message"]
    assert run_cli(["db", "upgrade"], cli_env).exit_code == 0
    res = run_cli(["doctor", "--json"], cli_env)
    assert res.exit_code == 0
    report = json.loads(res.stdout)
    assert report["database"]["ok"] is True
    for tool in ("rdkit", "meeko", "vina", "openmm"):
        assert report["versions"][tool], tool
    assert report["cuda"] == _expected_cuda()
    assert report["config"]["database_url"] == cli_env["DOCKDB_DATABASE_URL"]
