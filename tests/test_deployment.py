"""No Docker engine runs here: check the compose file and Dockerfile agree with the code."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def _compose() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


def test_services_and_images() -> None:
    compose = _compose()
    services = compose["services"]
    assert set(services) == {"postgres", "migrate", "dask-scheduler", "dask-worker", "web"}
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["migrate"]["build"] == "."
    built = services["migrate"]["image"]
    for name in ("dask-scheduler", "dask-worker", "web"):
        assert services[name]["image"] == built, name
    assert (REPO / "Dockerfile").is_file()


def test_commands_are_real() -> None:
    services = _compose()["services"]
    assert services["migrate"]["command"] == ["dockdb", "db", "upgrade"]
    worker = services["dask-worker"]
    assert "tcp://dask-scheduler:8786" in worker["command"]
    assert "GPU=1" in worker["command"]
    devices = worker["deploy"]["resources"]["reservations"]["devices"]
    assert devices[0]["driver"] == "nvidia" and "gpu" in devices[0]["capabilities"]
    web = services["web"]["command"]
    assert web[0] == "gunicorn"
    module, _attr = web[-1].split(":")
    assert importlib.util.find_spec(module) is not None, f"{module} (gunicorn target) does not exist"
    # the console script the commands call is the one pyproject installs
    assert re.search(r'^dockdb = "dockdb\.cli:main"$', (REPO / "pyproject.toml").read_text(), re.M)


def test_one_shared_database_url() -> None:
    services = _compose()["services"]
    urls = {
        name: s["environment"]["DOCKDB_DATABASE_URL"]
        for name, s in services.items()
        if "environment" in s and "DOCKDB_DATABASE_URL" in s["environment"]
    }
    assert set(urls) == {"migrate", "dask-worker", "web"}
    assert len(set(urls.values())) == 1
    url = next(iter(urls.values()))
    pg = services["postgres"]["environment"]
    assert url.startswith("postgresql://" + pg["POSTGRES_USER"]) and url.endswith("@postgres:5432/" + pg["POSTGRES_DB"])
    # migrations finish before workers and web start
    assert services["web"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
