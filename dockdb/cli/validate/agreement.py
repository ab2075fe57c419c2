"""`dockdb validate agreement`: per-target Spearman between DockCoV2's published scores and ours."""

from __future__ import annotations

from typing import Any

import click

from dockdb.cli.common import AppContext, pass_app
from dockdb.cli.validate._report import bootstrap_options, command_line, interval, number, report_runs


def print_table(targets: list[dict[str, Any]]) -> None:
    """Print one aligned row per target: pairs, Spearman with its 95% CI, and mean score difference."""
    click.echo(f"{'target':<12} {'n':>6} {'spearman':>9} {'95% CI':<16} {'mean ours−DockCoV2':>19}")
    for t in targets:
        click.echo(f"{t['target']:<12} {t['n']:>6} {number(t['spearman']):>9} {interval(t['spearman_ci']):<16} "
                   f"{number(t['mean_diff'], '+.2f'):>19}")


def canonical_command(campaigns: tuple[str, ...], n_boot: int, seed: int) -> str:
    """The command that reproduces the run (every option spelled out, no database URL)."""
    args = ["dockdb", "validate", "agreement"]
    for c in campaigns:
        args += ["--campaign", c]
    return command_line(args, n_boot, seed)


@click.command()
@click.option("--campaign", "campaigns", multiple=True, required=True,
              help="Campaign id or name; repeat for several (e.g. a focused and a blind campaign).")
@bootstrap_options("Bootstrap resamples for the Spearman interval (0: none).")
@pass_app
def agreement(app: AppContext, campaigns: tuple[str, ...], n_boot: int, seed: int, quiet: bool,
              as_json: bool) -> int:
    """Pair each campaign's best score per drug and target with DockCoV2's published score.

    Stores one run per campaign, labelled by its pocket kind (focused or blind), with a scatter
    plot. Exit 0 all stored, 3 no campaign had a drug matched to DockCoV2, 4 some had none.
    """
    from jobs.validation.agreement import run_agreement

    results = run_agreement(app.db, list(campaigns), n_boot=n_boot, seed=seed, progress_bar=not quiet,
                            command=canonical_command(campaigns, n_boot, seed))
    return report_runs(results, as_json, lambda r: f"campaign {r.campaign} ({r.pocket} pocket):", print_table)
