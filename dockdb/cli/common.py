"""What every CLI command shares: lazily built config/database and error handling."""

from __future__ import annotations

import json
import sys
import warnings
from dataclasses import dataclass, field
from typing import Any

import click

from dockdb.config import PROJECT_HOME_NAME, Config, user_home
from dockdb.db import Database
from dockdb.errors import DockDBError, NotMigratedError

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_NOTHING = 3
EXIT_PARTIAL = 4


@dataclass
class AppContext:
    """Per-invocation state of the CLI: global option overrides, and the config and database built lazily from them."""
    overrides: dict[str, Any] = field(default_factory=dict)
    _config: Config | None = None
    _db: Database | None = None

    @property
    def config(self) -> Config:
        """The settings: defaults, then ``DOCKDB_*`` variables, then the global options given on the command line."""
        if self._config is None:
            self._config = Config.load(**{k: v for k, v in self.overrides.items() if v is not None})
        return self._config

    @property
    def db(self) -> Database:
        """The database, checked reachable and migrated to head."""
        if self._db is None:
            db = Database.from_config(self.config)
            try:
                db.require_head()
            except NotMigratedError as e:
                if self.config.database_url is None and self.config.home == user_home():
                    raise NotMigratedError(
                        f"{e}, or, for the database the main job filled, run this inside its clone "
                        f"(where {PROJECT_HOME_NAME}/ is) or set DOCKDB_HOME"
                    ) from None
                raise
            self._db = db
        return self._db

    def raw_db(self) -> Database:
        """The database without the migration check (for `db upgrade`, `doctor`)."""
        return self._db if self._db is not None else Database.from_config(self.config)


pass_app = click.make_pass_decorator(AppContext)


def echo_json(data: Any) -> None:
    """Print *data* as indented JSON on stdout (values JSON cannot hold are written with ``str``)."""
    click.echo(json.dumps(data, indent=2, sort_keys=False, default=str))


def run_cli(group: click.Group, argv: list[str]) -> None:
    """Run *group*; a :class:`DockDBError` becomes one line on stderr and its exit code."""
    # Third-party deprecation notices (MDAnalysis via ProLIF, ...) are for developers, not users.
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", category=FutureWarning)
    try:
        rc = group.main(args=argv, prog_name="dockdb", standalone_mode=False)
    except DockDBError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(e.exit_code)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    sys.exit(rc if isinstance(rc, int) else EXIT_OK)
