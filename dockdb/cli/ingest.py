"""`dockdb ingest ...`: load the public sources and user libraries."""

from __future__ import annotations

from pathlib import Path

import click

from dockdb.cli.common import EXIT_ERROR, EXIT_OK, EXIT_PARTIAL, AppContext, echo_json, pass_app

MAX_BAD_LINES = 50


@click.group()
def ingest() -> None:
    """Load drugs, targets and evidence from the public sources (or a mirror), and user libraries."""


def _run(app: AppContext, sources: list[str] | None, as_json: bool, progress: bool) -> int:
    from ingest.steps import ingest_all

    report = ingest_all(app.db, app.config, sources, progress=progress)
    if as_json:
        echo_json(report.as_dict())
    else:
        click.echo(report.table())
        drugs = next((s for s in report.sources if s.name == "drugs" and s.ok), None)
        if drugs is not None and "fda_filled_from_chembl" in drugs.details:
            d = drugs.details
            click.echo(f"FDA-approved ids without a DrugCentral structure: {d['fda_filled_from_broad']} took the "
                       f"Repurposing Hub's, {d['fda_filled_from_chembl']} a ChEMBL assay file's, "
                       f"{d['fda_without_structure']} have none")
    for s in report.failed:
        click.echo(f"error: source {s.name} failed and was rolled back: {s.error}", err=True)
    if report.ok:
        return EXIT_OK
    return EXIT_ERROR if len(report.failed) == len(report.sources) else EXIT_PARTIAL


_json = click.option("--json", "as_json", is_flag=True, help="Machine-readable report.")
_progress = click.option("--progress/--no-progress", default=True, show_default=True, help="Show progress bars.")


@ingest.command("all")
@_json
@_progress
@pass_app
def all_cmd(app: AppContext, as_json: bool, progress: bool) -> int:
    """Load every source, each in its own transaction, and print a summary per source."""
    return _run(app, None, as_json, progress)


def _group_command(group: str, steps: tuple[str, ...]) -> None:
    @ingest.command(group, help=f"Load the {group} source(s): {', '.join(steps)}.")
    @_json
    @_progress
    @pass_app
    def cmd(app: AppContext, as_json: bool, progress: bool) -> int:
        return _run(app, [group], as_json, progress)


def _register() -> None:
    from ingest.steps import GROUPS

    for group, steps in GROUPS.items():
        _group_command(group, steps)


_register()


@ingest.command("library")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--name", required=True, help="Library name (an existing library gains the new members).")
@click.option("--description", default=None, help="Free-text description of the library.")
@_json
@pass_app
def library_cmd(app: AppContext, file: Path, name: str, description: str | None, as_json: bool) -> int:
    """Load a .smi (SMILES [name]), .csv/.tsv (smiles column) or .sdf FILE as library NAME.

    Exit code 0: every row loaded; 4: some rows bad (reported, skipped); 3: nothing loaded.
    """
    from ingest.userlib import load_user_library

    report = load_user_library(app.db, file, name, app.config, description)
    if as_json:
        echo_json(report.as_dict())
    else:
        click.echo(f"library {report.library}: loaded {report.loaded} of {report.read} rows "
                   f"({report.new_drugs} new drugs, {report.duplicates} duplicates, {len(report.bad)} bad)")
    for line, reason in report.bad[:MAX_BAD_LINES]:
        click.echo(f"{file.name}:{line}: {reason}", err=True)
    if len(report.bad) > MAX_BAD_LINES:
        click.echo(f"... and {len(report.bad) - MAX_BAD_LINES} more bad rows", err=True)
    if report.loaded == 0:
        click.echo(f"error: nothing loaded from {file}; fix the rows above", err=True)
    return report.exit_code


@ingest.command("moonshot")
@click.option("--n", "n", type=click.IntRange(min=1), default=100, show_default=True,
              help="Actives and inactives each: the library holds 2N compounds.")
@click.option("--seed", type=int, default=42, show_default=True, help="Seed of the stratified sample.")
@_json
@pass_app
def moonshot_cmd(app: AppContext, n: int, seed: int, as_json: bool) -> int:
    """COVID Moonshot Mpro compounds: library moonshot-mpro-N (N actives with IC50 ≤ 1 µM, N inactives
    > 99.5 µM) and their results in assay moonshot-mpro, for `dockdb validate enrichment` on 3clpro.

    Deterministic for a seed; running it again changes nothing.
    """
    from ingest.moonshot import load_moonshot

    report = load_moonshot(app.db, app.config, n=n, seed=seed)
    if as_json:
        echo_json(report.as_dict())
    else:
        d = report.details
        click.echo(f"library {d['library']}: {d['actives']} actives + {d['inactives']} inactives sampled from "
                   f"{d['actives_available']} + {d['inactives_available']} ({d['new_drugs']} new drugs, "
                   f"{report.inserted} rows inserted, {report.updated} updated; {report.rejected} rows rejected)")
    return EXIT_OK
