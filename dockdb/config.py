"""DockDB's one configuration object.

Values come from, in increasing priority: built-in defaults, ``DOCKDB_*`` environment
variables, then explicit keyword arguments.  Unknown keys -- as arguments or as
``DOCKDB_*`` variables -- are rejected by name with the list of valid ones.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from platformdirs import user_data_dir

from dockdb.errors import ConfigError

ENV_PREFIX = "DOCKDB_"
# DOCKDB_TEST_* variables configure the test suite (e.g. its PostgreSQL URL), not DockDB.
_PASSTHROUGH_PREFIXES = ("DOCKDB_TEST_",)


PROJECT_HOME_NAME = ".dockdb"


def project_home(start: Path | None = None) -> Path | None:
    """The nearest ``.dockdb`` directory in *start* (default: the current directory) or a parent.

    The main job (``scripts/run-demo.sh``) creates one in the clone, so every ``dockdb`` command run
    inside the clone acts on the database the main job filled, like ``git`` finds its ``.git``.
    """
    try:
        here = (start if start is not None else Path.cwd()).resolve()
    except OSError:  # the current directory was deleted
        return None
    for directory in (here, *here.parents):
        candidate = directory / PROJECT_HOME_NAME
        if candidate.is_dir():
            return candidate
    return None


def user_home() -> Path:
    """The per-user data directory, used outside any project."""
    return Path(user_data_dir("dockdb", appauthor=False))


def _default_home() -> Path:
    return project_home() or user_home()


def _to_bool(name: str, value: str) -> bool:
    low = value.strip().lower()
    if low in {"1", "true", "yes", "on"}:
        return True
    if low in {"0", "false", "no", "off", ""}:
        return False
    raise ConfigError(f"{ENV_PREFIX}{name.upper()}={value!r} is not a boolean; use 1/0, true/false or yes/no")


def _to_int(name: str, value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ConfigError(f"{ENV_PREFIX}{name.upper()}={value!r} is not an integer; give a whole number") from None


@dataclass(frozen=True)
class Config:
    """Settings in effect.  Build it with :meth:`Config.load`, not directly."""

    home: Path = field(default_factory=_default_home)
    database_url: str | None = None
    mirror: Path | None = None
    secret_key: str | None = None
    env: str = "development"
    log_level: str = "INFO"
    max_page_size: int = 500
    max_upload_bytes: int = 20 * 1024 * 1024
    query_timeout_s: int = 10
    cache_ttl_s: int = 30
    offline: bool = False

    # ------------------------------------------------------------------ building
    @classmethod
    def keys(cls) -> list[str]:
        """Names of every setting (the dataclass fields), in declaration order."""
        return [f.name for f in fields(cls)]

    @classmethod
    def load(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Config:
        """Defaults, then ``DOCKDB_*`` variables from *environ*, then *overrides*."""
        environ = os.environ if environ is None else environ
        valid = cls.keys()
        values: dict[str, Any] = {}
        for name, raw in environ.items():
            if not name.startswith(ENV_PREFIX) or name.startswith(_PASSTHROUGH_PREFIXES):
                continue
            key = name[len(ENV_PREFIX) :].lower()
            if key not in valid:
                names = ", ".join(ENV_PREFIX + k.upper() for k in valid)
                raise ConfigError(f"unknown environment variable {name}; valid DOCKDB_* variables are: {names}")
            values[key] = cls._coerce(key, raw)
        for key, value in overrides.items():
            if key not in valid:
                raise ConfigError(f"unknown configuration key {key!r}; valid keys are: {', '.join(valid)}")
            if value is not None:
                values[key] = cls._coerce(key, value) if isinstance(value, str) else value
        cfg = cls(**values)
        return cfg._validated()

    @classmethod
    def _coerce(cls, key: str, raw: str) -> Any:
        if key in {"home", "mirror"}:
            return Path(raw).expanduser() if raw else None
        if key in {"max_page_size", "max_upload_bytes", "query_timeout_s", "cache_ttl_s"}:
            return _to_int(key, raw)
        if key == "offline":
            return _to_bool(key, raw)
        return raw or None

    def _validated(self) -> Config:
        if self.env not in {"development", "production", "testing"}:
            raise ConfigError(f"DOCKDB_ENV={self.env!r} is invalid; use development, production or testing")
        if self.home is None:
            raise ConfigError("DOCKDB_HOME is empty; set it to a writable directory")
        if self.mirror is not None and not self.mirror.is_dir():
            raise ConfigError(
                f"DOCKDB_MIRROR={self.mirror} is not a directory; point it at a mirror of the sources or unset it"
            )
        if self.env == "production" and not self.secret_key:
            raise ConfigError("DOCKDB_ENV=production needs DOCKDB_SECRET_KEY; set it to a long random string")
        for key in ("max_page_size", "max_upload_bytes", "query_timeout_s"):
            if getattr(self, key) <= 0:
                raise ConfigError(f"DOCKDB_{key.upper()} must be positive")
        if self.cache_ttl_s < 0:
            raise ConfigError("DOCKDB_CACHE_TTL_S must be 0 (no portal caching) or a number of seconds")
        return self

    def with_(self, **changes: Any) -> Config:
        """A copy with *changes* applied (same validation)."""
        unknown = set(changes) - set(self.keys())
        if unknown:
            raise ConfigError(
                f"unknown configuration key(s) {sorted(unknown)}; valid keys are: {', '.join(self.keys())}"
            )
        return replace(self, **changes)._validated()

    # ------------------------------------------------------------------ derived
    @property
    def effective_database_url(self) -> str:
        """``database_url`` when set, else the SQLite file ``dockdb.sqlite`` in ``home``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.home / 'dockdb.sqlite'}"

    @property
    def cache_dir(self) -> Path:
        """Where downloaded source files are kept: ``home/sources``."""
        return self.home / "sources"

    def as_dict(self, mask: bool = True) -> dict[str, str]:
        """Settings as strings, with passwords and secrets masked."""
        out: dict[str, str] = {}
        for key in self.keys():
            value = getattr(self, key)
            if key == "database_url":
                value = self.effective_database_url
                if mask:
                    value = mask_url(value)
            elif key == "secret_key" and mask and value:
                value = "***"
            out[key] = "" if value is None else str(value)
        return out


_PASSWORD_RE = re.compile(r"(://[^:/@]+:)([^@]*)(@)")


def mask_url(url: str) -> str:
    """Hide the password of a database URL: ``postgresql://u:***@host/db``."""
    return _PASSWORD_RE.sub(r"\1***\3", url)
