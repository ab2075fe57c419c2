"""What the suite needs from the machine, resolved in one place: the data mirror, PyTorch,
Chromium, Playwright, the portal's 3Dmol.js asset and Slurm (slurm-wlm, munge).

Outside CI a missing requirement skips the tests that need it, with the reason and the fix.
With ``CI=true`` (``.ci/run`` sets it) it fails them instead, and :func:`ci_check` stops the
session before the first test with one line naming everything missing, so CI cannot stay
green by skipping.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import NoReturn

import pytest

from bench.drills._common import mirror_dir  # the one mirror resolver of tests and drills

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("DOCKDB_TEST_CHROMIUM", "/usr/bin/chromium")


def in_ci() -> bool:
    """True when ``CI`` is set to a true value (``true``, ``1``, ``yes``)."""
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def missing(reason: str) -> NoReturn:
    """Skip the current test for ``reason`` (a one-line fix); fail it under ``CI=true``."""
    if in_ci():
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason, allow_module_level=True)


MIRROR_FIX = "no data mirror: set DOCKDB_MIRROR to the shared data directory (../shared/data)"


def require_mirror() -> Path:
    """The data mirror, or skip (fail in CI)."""
    path = mirror_dir()
    if path is None:
        missing(MIRROR_FIX)
    return path


def require_module(name: str, fix: str) -> ModuleType:
    """``import name``, or skip (fail in CI) saying ``fix``."""
    try:
        return importlib.import_module(name)
    except ImportError:
        missing(f"{name} not importable: {fix}")


def viewer_js() -> Path:
    from webapp.pages.assets import VIEWER_JS

    return Path(VIEWER_JS)


REQUIREMENTS: dict[str, tuple[str, Callable[[], bool]]] = {
    # name: (fix, probe returning True when present)
    "data mirror": (MIRROR_FIX, lambda: mirror_dir() is not None),
    "torch": ("pip install torch (scripts/test.sh installs the CPU build)",
              lambda: importlib.util.find_spec("torch") is not None),
    "playwright": ("pip install -e '.[test]'", lambda: importlib.util.find_spec("playwright") is not None),
    "chromium": (f"apt-get install -y chromium (or set DOCKDB_TEST_CHROMIUM; looked for {CHROMIUM})",
                 lambda: shutil.which(CHROMIUM) is not None),
    "3Dmol.js": ("run webapp/install_assets.sh (needs npm)", lambda: viewer_js().is_file()),
    "slurm": ("apt-get install -y slurm-wlm munge, as root (scripts/test.sh does)",
              lambda: all(os.access(f"/usr/sbin/{d}", os.X_OK) for d in ("munged", "slurmctld", "slurmd"))),
}


def absent() -> list[str]:
    """Names of :data:`REQUIREMENTS` this machine lacks, each with its fix."""
    return [f"{name} ({fix})" for name, (fix, probe) in REQUIREMENTS.items() if not probe()]


def ci_check() -> None:
    """Under ``CI=true``, stop the session when any requirement is absent."""
    if in_ci() and (lacking := absent()):
        raise pytest.UsageError("CI=true but the machine lacks: " + "; ".join(lacking))
