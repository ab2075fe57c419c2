"""The 3D viewer library (3Dmol.js) installed from npm into ``webapp/static/vendor/node_modules``.

It is never committed: ``webapp/install_assets.sh`` runs ``npm ci`` from the committed
``package.json``/``package-lock.json``.  Pages work without it and say how to install it.
"""

from __future__ import annotations

from pathlib import Path

VENDOR_DIR = Path(__file__).resolve().parents[1] / "static" / "vendor"
VIEWER_JS = VENDOR_DIR / "node_modules" / "3dmol" / "build" / "3Dmol-min.js"
INSTALL_HINT = "3D viewer not installed: run webapp/install_assets.sh (npm ci in webapp/static/vendor)"


def viewer_path() -> Path:
    """Where this app looks for 3Dmol-min.js (``DOCKDB_VIEWER_JS`` in the app config)."""
    from flask import current_app

    return Path(current_app.config.get("DOCKDB_VIEWER_JS", VIEWER_JS))


def viewer_available() -> bool:
    """True when the 3Dmol.js file is installed under webapp/static/vendor."""
    return viewer_path().is_file()
