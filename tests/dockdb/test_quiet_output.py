"""No warning floods: packaging metadata setuptools accepts silently, a local Dask cluster that picks a free
dashboard port instead of warning that 8787 is taken."""

from __future__ import annotations

import socket
import subprocess
import sys
import tomllib

from tests.conftest import REPO


def test_license_is_an_spdx_string() -> None:
    """setuptools deprecates `project.license` as a TOML table; the SPDX string needs setuptools >= 77."""
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert pyproject["project"]["license"] == "MIT"
    assert "setuptools>=77" in pyproject["build-system"]["requires"]


_CLUSTER = """
from jobs.cluster import open_cluster

if __name__ == "__main__":
    with open_cluster(local_workers=1) as handle:
        print("sum", handle.client.submit(sum, [1, 2]).result())
"""


def test_local_cluster_does_not_warn_when_the_dashboard_port_is_taken(tmp_path) -> None:
    script = tmp_path / "cluster.py"
    script.write_text(_CLUSTER)
    with socket.socket() as busy:
        try:
            busy.bind(("127.0.0.1", 8787))
            busy.listen()
        except OSError:
            pass  # someone else holds 8787 already, which is the situation under test
        r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=180, cwd=REPO)
    assert r.returncode == 0 and "sum 3" in r.stdout, r.stderr
    assert "already in use" not in r.stderr and "Warning" not in r.stderr, r.stderr
