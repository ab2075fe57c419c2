"""Diagnostics behind `dockdb doctor`."""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping
from importlib import metadata
from typing import Any

from dockdb.config import PROJECT_HOME_NAME, Config, project_home, user_home
from dockdb.db import Database
from dockdb.errors import DockDBError

TOOLS = ("rdkit", "meeko", "vina", "openmm", "pdbfixer", "torch", "sqlalchemy", "dask", "distributed", "flask")


def tool_version(name: str) -> str | None:
    """Installed version of distribution *name*, or None when it is not installed."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def software_versions() -> dict[str, str | None]:
    """Installed version (or None) of each scientific and web package DockDB relies on."""
    return {name: tool_version(name) for name in TOOLS}


def cuda_status() -> str:
    """One line saying whether torch is installed and sees a CUDA device, and which."""
    if tool_version("torch") is None:
        return "unknown: torch is not installed (pip install 'dockdb[gpu]')"
    try:
        torch = importlib.import_module("torch")
        if torch.cuda.is_available():
            return f"usable: {torch.cuda.device_count()} device(s), {torch.cuda.get_device_name(0)}"
        return "not usable: torch sees no CUDA device (engines run on CPU)"
    except Exception as e:  # a broken torch install must not break doctor
        return f"not usable: torch failed to import ({e.__class__.__name__}: {e})"


def database_status(config: Config) -> dict[str, Any]:
    """Whether the configured database is reachable and at the head revision, with a one-line message."""
    try:
        db = Database.from_config(config)
        try:
            db.require_head()
            revision = db.current_revision()
        finally:
            db.dispose()
    except DockDBError as e:
        return {"ok": False, "message": str(e)}
    return {"ok": True, "message": f"{db.masked_url} reachable, schema at head revision {revision}"}


def home_origin(config: Config, environ: Mapping[str, str] | None = None) -> str:
    """Where the data directory in effect comes from, so a user can tell which database a command uses."""
    environ = os.environ if environ is None else environ
    if environ.get("DOCKDB_HOME"):
        return "set by DOCKDB_HOME"
    if config.home == project_home():
        return f"the project's {PROJECT_HOME_NAME}/ found from the current directory"
    if config.home == user_home():
        return f"the per-user default; no {PROJECT_HOME_NAME}/ in the current directory or above"
    return "set by --home"


def diagnose(config: Config) -> dict[str, Any]:
    """Everything ``dockdb doctor`` reports: settings, home, database, package versions and CUDA."""
    return {
        "config": config.as_dict(mask=True),
        "home": {"path": str(config.home), "from": home_origin(config)},
        "database": database_status(config),
        "versions": software_versions(),
        "cuda": cuda_status(),
    }
