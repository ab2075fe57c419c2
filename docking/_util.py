"""Small shared helpers for the docking package (hashing, tool versions, temp files)."""

from __future__ import annotations

import hashlib
import json
from importlib import metadata
from typing import Any

__all__ = ["sha256_of", "tool_versions"]


def sha256_of(*parts: Any) -> str:
    """sha256 hex digest of the JSON encoding of ``parts`` (strings are hashed as given)."""
    h = hashlib.sha256()
    for part in parts:
        text = part if isinstance(part, str) else json.dumps(part, sort_keys=True, default=str)
        h.update(text.encode("utf-8"))
        h.update(b"\x00")
    return h.hexdigest()


def tool_versions(*packages: str) -> dict[str, str]:
    """Installed versions of the named distributions ('unknown' when not found)."""
    out: dict[str, str] = {}
    for name in packages:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "unknown"
    return out
