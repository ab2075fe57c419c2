"""The `dockdb` command line: thin commands over the same API the tests call.

Exit codes: 0 ok, 1 error, 2 bad input/usage, 3 nothing done, 4 partial success.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from dockdb import __version__
from dockdb.cli.common import EXIT_NOTHING, EXIT_OK, EXIT_PARTIAL, AppContext, run_cli

__all__ = ["EXIT_NOTHING", "EXIT_OK", "EXIT_PARTIAL", "main"]

# Sub-command groups are imported only when used, so `dockdb --help` stays fast and a
# group never pulls in heavy science or web stacks for another group.
_LAZY_COMMANDS: dict[str, str] = {
    "db": "dockdb.cli.db:db",
    "stats": "dockdb.cli.db:stats",
    "doctor": "dockdb.cli.doctor:doctor",
    "ingest": "dockdb.cli.ingest:ingest",
    "target": "dockdb.cli.target:target",
    "dock": "dockdb.cli.dock:dock",
    "campaign": "dockdb.cli.campaign:campaign",
    "serve": "dockdb.cli.serve:serve",
    "validate": "dockdb.cli.validate:validate",
}


class LazyGroup(click.Group):
    """Click group that imports a subcommand's module only when it is looked up (to run it or show its help)."""
    def list_commands(self, ctx: click.Context) -> list[str]:
        """Names of the eagerly registered and the lazily loaded subcommands, sorted."""
        return sorted(set(super().list_commands(ctx)) | set(_LAZY_COMMANDS))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The subcommand *cmd_name*, importing its module first when it is a lazy one."""
        target = _LAZY_COMMANDS.get(cmd_name)
        if target is None:
            return super().get_command(ctx, cmd_name)
        module_name, attr = target.split(":")
        return getattr(importlib.import_module(module_name), attr)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="dockdb")
@click.option("--database-url", envvar=None, default=None, help="Database URL (overrides DOCKDB_DATABASE_URL).")
@click.option("--home", default=None, type=click.Path(file_okay=False), help="Data directory (overrides DOCKDB_HOME).")
@click.option(
    "--mirror", default=None, type=click.Path(), help="Local mirror of the sources (overrides DOCKDB_MIRROR)."
)
@click.pass_context
def cli(ctx: click.Context, database_url: str | None, home: str | None, mirror: str | None) -> None:
    """DockDB: dock approved drugs into SARS-CoV-2 and host targets, and browse the evidence."""
    ctx.obj = AppContext(overrides={"database_url": database_url, "home": home, "mirror": mirror})


def main(argv: list[str] | None = None) -> Any:
    """Entry point of the ``dockdb`` console script: run the CLI on *argv* (default: the process arguments)."""
    return run_cli(cli, argv if argv is not None else sys.argv[1:])


if __name__ == "__main__":  # pragma: no cover
    main()
