"""`dockdb doctor`: what is configured, installed and reachable."""

from __future__ import annotations

import click

from dockdb.cli.common import EXIT_ERROR, EXIT_OK, AppContext, echo_json, pass_app
from dockdb.doctor import diagnose


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_app
def doctor(app: AppContext, as_json: bool) -> int:
    """Show the configuration in effect, database state, tool versions and CUDA."""
    report = diagnose(app.config)
    if as_json:
        echo_json(report)
    else:
        click.echo("configuration (passwords masked):")
        for key, value in report["config"].items():
            click.echo(f"  {key:<18} {value}")
        click.echo(f"data directory: {report['home']['path']} (from {report['home']['from']})")
        dbr = report["database"]
        mark = "ok" if dbr["ok"] else "PROBLEM"
        click.echo(f"database: {mark}: {dbr['message']}")
        click.echo("software:")
        for name, version in report["versions"].items():
            click.echo(f"  {name:<18} {version or 'not installed'}")
        click.echo(f"cuda: {report['cuda']}")
    return EXIT_OK if report["database"]["ok"] else EXIT_ERROR
