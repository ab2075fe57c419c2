"""How the portal is served: the main job's server has no debugger, `--debug` stays on loopback, 405 says Allow."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from dockdb.db import Database
from tests.conftest import REPO, run_cli
from tests.webapp.conftest import Portal
from tests.webapp.dataset import build


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def demo_server(db: Database, db_url: str, tmp_path: Path) -> Iterator[str]:
    """`scripts/run-demo.sh --serve-only`: the main job's own serve step, on a free port, over a small database."""
    build(db)
    port = _free_port()
    env = {
        # the virtualenv is not activated, as when a user runs scripts/run-demo.sh: nothing of it on PATH
        "PATH": ":".join(p for p in os.environ.get("PATH", "/usr/bin:/bin").split(":")
                         if Path(p).resolve() != Path(sys.executable).parent.resolve()),
        "HOME": str(tmp_path),
        "DOCKDB_HOME": str(tmp_path / "home"),
        "DOCKDB_DATABASE_URL": db_url,
        "PORT": str(port),
        "WEB_CONCURRENCY": "1",
    }
    log = (tmp_path / "server.log").open("wb")
    proc = subprocess.Popen([str(REPO / "scripts" / "run-demo.sh"), "--serve-only"], cwd=tmp_path, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, (tmp_path / "server.log").read_text()[-2000:]
            try:
                requests.get(f"{base}/api/v1/stats", timeout=5)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "the server did not answer within 90 s"
                time.sleep(0.3)
        yield base
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def test_main_job_serves_without_debugger(demo_server: str) -> None:
    home = requests.get(f"{demo_server}/", timeout=10)
    assert home.status_code == 200 and "DockDB" in home.text
    assert home.headers.get("Server", "").lower().startswith("gunicorn"), home.headers
    console = requests.get(f"{demo_server}/console", timeout=10)
    assert console.status_code == 404
    assert "werkzeug" not in console.text.lower() and "debugger" not in console.text.lower()
    post = requests.post(f"{demo_server}/api/v1/stats", timeout=10)
    assert post.status_code == 405 and "GET" in post.headers["Allow"]


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "example.org"])
def test_debug_on_a_shared_host_is_refused_in_one_line(host: str, tmp_path: Path) -> None:
    env = {"DOCKDB_HOME": str(tmp_path), "DOCKDB_DATABASE_URL": f"sqlite:///{tmp_path / 'none.sqlite'}"}
    r = run_cli(["serve", "--debug", "--host", host, "--port", str(_free_port())], env=env)
    assert r.exit_code == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "--debug" in lines[0] and "127.0.0.1" in lines[0], r.stderr
    assert "Traceback" not in r.stderr


def test_method_not_allowed_names_the_allowed_methods(portal: Portal) -> None:
    for url in ("/api/v1/stats", "/targets/3clpro", "/api/v1/drugs"):
        for method in ("post", "put", "delete"):
            r = getattr(portal.client, method)(url)
            assert r.status_code == 405, (url, method)
            allowed = {m.strip() for m in r.headers["Allow"].split(",")}
            assert {"GET", "HEAD"} <= allowed and method.upper() not in allowed, (url, r.headers)
