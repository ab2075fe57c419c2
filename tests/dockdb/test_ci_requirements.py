"""Under CI=true a missing requirement fails the run; elsewhere it skips, with its fix."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.environment import REPO

PROBE = '''
from tests.environment import require_mirror

def test_needs_mirror():
    require_mirror()
'''


def _pytest(tmp_path: Path, ci: str | None, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env.update(DOCKDB_MIRROR=str(tmp_path / "no-mirror"), PYTHONPATH=str(REPO))
    if ci is not None:
        env["CI"] = ci
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rs", *args],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)


def test_missing_mirror_skips_outside_ci_with_the_fix(tmp_path: Path) -> None:
    (tmp_path / "test_probe.py").write_text(PROBE)
    res = _pytest(tmp_path, None, "test_probe.py")
    assert res.returncode == 0, res.stdout
    assert "1 skipped" in res.stdout and "set DOCKDB_MIRROR to the shared data directory" in res.stdout


def test_missing_mirror_fails_the_test_under_ci(tmp_path: Path) -> None:
    (tmp_path / "test_probe.py").write_text(PROBE)
    res = _pytest(tmp_path, "true", "test_probe.py")
    assert res.returncode == 1, res.stdout
    assert "1 failed" in res.stdout and "CI=true and no data mirror" in res.stdout


def test_ci_session_stops_before_the_first_test_naming_what_is_missing(tmp_path: Path) -> None:
    res = _pytest(tmp_path, "true", "--collect-only", "-q", str(REPO / "tests" / "dockdb" / "test_config.py"))
    assert res.returncode != 0
    assert "CI=true but the machine lacks: data mirror (" in res.stderr + res.stdout


def test_ci_run_refuses_to_start_without_a_mirror(tmp_path: Path) -> None:
    """``.ci/run`` no longer unsets DOCKDB_MIRROR (which made most of the suite skip)."""
    clone = tmp_path / "clone"
    (clone / ".ci").mkdir(parents=True)
    (clone / ".ci" / "run").write_text((REPO / ".ci" / "run").read_text())
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "DOCKDB_MIRROR")}
    res = subprocess.run(["bash", str(clone / ".ci" / "run")], env=env, capture_output=True, text=True, timeout=60)
    assert res.returncode == 1
    assert res.stderr.strip() == "error: no data mirror: put it at ../shared/data or set DOCKDB_MIRROR"
