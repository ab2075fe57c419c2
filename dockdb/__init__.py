"""DockDB: an open drug-repurposing docking database and portal."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
