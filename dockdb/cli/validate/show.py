"""`dockdb validate show`: list stored validation runs, optionally write their figures."""

from __future__ import annotations

from pathlib import Path

import click

from dockdb.cli.common import EXIT_NOTHING, EXIT_OK, AppContext, echo_json, pass_app
from jobs.validation.kinds import kind_names


@click.command()
@click.option("--kind", type=click.Choice(list(kind_names())), default=None)
@click.option("--plots-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write each run's figures here as PNG files.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_app
def show(app: AppContext, kind: str | None, plots_dir: Path | None, as_json: bool) -> int:
    """Show the newest run of each validation (kind, label, engine)."""
    from jobs.validation.store import latest_runs, write_plots

    with app.db.session() as s:
        runs = latest_runs(s, kind)
        if not runs:
            click.echo("no validation runs stored yet; run `dockdb validate --help` to see the kinds", err=True)
            return EXIT_NOTHING
        if as_json:
            echo_json([
                {"id": r.id, "kind": r.kind, "label": r.label, "engine": r.engine, "summary": r.summary,
                 "n_items": r.n_items, "command": r.command, "created_at": r.created_at}
                for r in runs
            ])
        for r in runs:
            if not as_json:
                click.echo(f"#{r.id} {r.kind} {r.label} engine={r.engine or '-'} items={r.n_items}  {r.command}")
            if plots_dir is not None:
                for path in write_plots(r, plots_dir):
                    if not as_json:
                        click.echo(f"  wrote {path}")
    return EXIT_OK
