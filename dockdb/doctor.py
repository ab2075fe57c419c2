"""Diagnostics behind `dockdb doctor`."""

from __future__ import annotations

import importlib
from importlib import metadata
from typing import Any

from dockdb.config import Config
from dockdb.db import Database
from dockdb.errors import DockDBError

TOOLS = ("rdkit", "meeko", "vina", "openmm", "pdbfixer", "torch", "sqlalchemy", "dask", "distributed", "flask")


def tool_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def software_versions() -> dict[str, str | None]:
    return {name: tool_version(name) for name in TOOLS}


def cuda_status() -> str:
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


def diagnose(config: Config) -> dict[str, Any]:
    return {
        "config": config.as_dict(mask=True),
        "database": database_status(config),
        "versions": software_versions(),
        "cuda": cuda_status(),
    }
