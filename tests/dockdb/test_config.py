from __future__ import annotations

from pathlib import Path

import pytest

from dockdb.config import Config, mask_url
from dockdb.errors import ConfigError


def test_defaults_then_env_then_arguments(tmp_path: Path) -> None:
    cfg = Config.load(environ={})
    assert cfg.database_url is None
    assert cfg.effective_database_url == f"sqlite:///{cfg.home / 'dockdb.sqlite'}"

    env = {"DOCKDB_HOME": str(tmp_path / "h"), "DOCKDB_DATABASE_URL": "sqlite:///env.db", "DOCKDB_MAX_PAGE_SIZE": "50"}
    cfg = Config.load(environ=env)
    assert cfg.home == tmp_path / "h"
    assert cfg.effective_database_url == "sqlite:///env.db"
    assert cfg.max_page_size == 50

    cfg = Config.load(environ=env, database_url="sqlite:///arg.db", max_page_size=10)
    assert cfg.effective_database_url == "sqlite:///arg.db"
    assert cfg.max_page_size == 10
    assert cfg.home == tmp_path / "h"


def test_unknown_env_key_is_rejected_by_name() -> None:
    with pytest.raises(ConfigError) as err:
        Config.load(environ={"DOCKDB_DATABSE_URL": "sqlite://"})
    msg = str(err.value)
    assert "DOCKDB_DATABSE_URL" in msg and "DOCKDB_DATABASE_URL" in msg and "\n" not in msg


def test_unknown_argument_is_rejected() -> None:
    with pytest.raises(ConfigError, match="'colour'"):
        Config.load(environ={}, colour="blue")


def test_bad_values_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="DOCKDB_MAX_PAGE_SIZE"):
        Config.load(environ={"DOCKDB_MAX_PAGE_SIZE": "many"})
    with pytest.raises(ConfigError, match="DOCKDB_CACHE_TTL_S"):
        Config.load(environ={"DOCKDB_CACHE_TTL_S": "-1"})
    assert Config.load(environ={"DOCKDB_CACHE_TTL_S": "0"}).cache_ttl_s == 0
    with pytest.raises(ConfigError, match="DOCKDB_MIRROR"):
        Config.load(environ={"DOCKDB_MIRROR": str(tmp_path / "missing")})
    with pytest.raises(ConfigError, match="DOCKDB_SECRET_KEY"):
        Config.load(environ={"DOCKDB_ENV": "production"})


def test_mask_url_hides_password() -> None:
    assert mask_url("postgresql://u:s3cret@h:5432/db") == "postgresql://u:***@h:5432/db"
    cfg = Config.load(environ={}, database_url="postgresql://u:s3cret@h/db", secret_key="k")
    shown = cfg.as_dict()
    assert "s3cret" not in shown["database_url"] and shown["secret_key"] == "***"
