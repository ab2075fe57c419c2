"""`dockdb validate agreement`: per-target Spearman between DockCoV2's published scores and ours."""

from __future__ import annotations

import shlex
from typing import Any

import click

from dockdb.cli.common import AppContext, pass_app
from dockdb.cli.validate._report import report_runs
from jobs.validation.defaults import DEFAULT_BOOTSTRAP, DEFAULT_SEED


def _fmt(v: Any, spec: str = ".2f") -> str:
    return "–" if v is None else format(v, spec)


def _ci(v: list[float] | None) -> str:
    return "" if not v else f"[{v[0]:.2f}, {v[1]:.2f}]"


def print_table(targets: list[dict[str, Any]]) -> None:
    """Print one aligned row per target: pairs, Spearman with its 95% CI, and mean score difference."""
    click.echo(f"{'target':<12} {'n':>6} {'spearman':>9} {'95% CI':<16} {'mean ours−DockCoV2':>19}")
    for t in targets:
        click.echo(f"{t['target']:<12} {t['n']:>6} {_fmt(t['spearman']):>9} {_ci(t['spearman_ci']):<16} "
                   f"{_fmt(t['mean_diff'], '+.2f'):>19}")


def canonical_command(campaigns: tuple[str, ...], n_boot: int, seed: int) -> str:
    """The command that reproduces the run (every option spelled out, no database URL)."""
    args = ["dockdb", "validate", "agreement"]
    for c in campaigns:
        args += ["--campaign", c]
    return shlex.join([*args, "--bootstrap", str(n_boot), "--seed", str(seed)])


@click.command()
@click.option("--campaign", "campaigns", multiple=True, required=True,
              help="Campaign id or name; repeat for several (e.g. a focused and a blind campaign).")
@click.option("--bootstrap", "n_boot", type=click.IntRange(min=0), default=DEFAULT_BOOTSTRAP, show_default=True,
              help="Bootstrap resamples for the Spearman interval (0: none).")
@click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True, help="Seed of the bootstrap.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
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
