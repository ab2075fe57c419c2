"""`dockdb db ...` and `dockdb stats`."""

from __future__ import annotations

import click

from dockdb.cli.common import AppContext, echo_json, pass_app
from dockdb.stats import row_counts


@click.group()
def db() -> None:
    """Create and inspect the database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target revision.")
@pass_app
def upgrade_cmd(app: AppContext, revision: str) -> None:
    """Create or migrate the schema (safe to run again)."""
    from dockdb.migrate import upgrade

    database = app.raw_db()
    database.check_connection()
    before, after = upgrade(database.engine, revision)
    if before == after:
        click.echo(f"database {database.masked_url} already at revision {after}; nothing to do")
    else:
        click.echo(f"database {database.masked_url} upgraded from {before or 'empty'} to {after}")


@db.command("current")
@pass_app
def current_cmd(app: AppContext) -> None:
    """Show the schema revision of the database and the head revision."""
    from dockdb.migrate import head_revision

    database = app.raw_db()
    current = database.current_revision()
    head = head_revision()
    state = "at head" if current == head else "behind head: run `dockdb db upgrade`"
    click.echo(f"{database.masked_url}: revision {current or 'none'} (head {head}, {state})")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_app
def stats(app: AppContext, as_json: bool) -> None:
    """Count every kind of row: drugs, targets, campaigns, poses, annotations."""
    counts = row_counts(app.db)
    if as_json:
        echo_json(counts)
        return
    width = max(len(k) for k in counts)
    for key, value in counts.items():
        click.echo(f"{key:<{width}}  {value:>10,}")
