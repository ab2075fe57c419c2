"""`dockdb validate enrichment`: ROC AUC and enrichment factors of the docking score for known actives."""

from __future__ import annotations

from typing import Any

import click

from dockdb.cli.common import AppContext, pass_app
from dockdb.cli.validate._report import bootstrap_options, command_line, interval, number, report_runs


def print_table(targets: list[dict[str, Any]]) -> None:
    """Print one aligned row per target: size, actives, AUC and EF1%/EF5% with CIs, the size baseline and a note."""
    click.echo(f"{'target':<12} {'n':>6} {'actives':>7} {'AUC':>5} {'95% CI':<14} {'EF1%':>6} {'EF5%':>6} "
               f"{'EF5% CI':<14} {'size AUC':>8}  note")
    for t in targets:
        click.echo(f"{t['target']:<12} {t['n']:>6} {t['n_actives']:>7} {number(t['auc']):>5} "
                   f"{interval(t['auc_ci']):<14} {number(t['ef1']):>6} {number(t['ef5']):>6} "
                   f"{interval(t['ef5_ci']):<14} "
                   f"{number(t.get('auc_size_baseline')):>8}  {t.get('note', '')}")


def print_variants(result: Any) -> None:
    """Per target, each ranking variant beside heavy-atom count alone, and which beats size (if any)."""
    from jobs.validation.variants import best_variant

    if not result.variants:
        return
    click.echo(f"{'target':<12} {'variant':<18} {'n':>5} {'act':>4} {'AUC':>5} {'95% CI':<14} {'EF1%':>6} "
               f"{'EF5%':>6} {'EF5% CI':<14}")
    for v in result.variants:
        click.echo(f"{v['target']:<12} {v['variant']:<18} {v['n']:>5} {v['n_actives']:>4} {number(v['auc']):>5} "
                   f"{interval(v['auc_ci']):<14} {number(v.get('ef1')):>6} {number(v.get('ef5')):>6} "
                   f"{interval(v.get('ef5_ci')):<14} {v.get('note', '')}")
    for target in sorted({v["target"] for v in result.variants}):
        best = best_variant([v for v in result.variants if v["target"] == target])
        click.echo(f"{target}: " + (f"best variant {best['variant']} (AUC {best['auc']:.2f}) beats heavy-atom count"
                                    if best else "no variant beats heavy-atom count alone"))


def _split(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [v.strip() for v in value.split(",")]


def canonical_command(campaigns: tuple[str, ...], reference: str | None, assays: str | None, n_boot: int,
                      seed: int) -> str:
    """The command that reproduces the run (every option spelled out, no database URL)."""
    args = ["dockdb", "validate", "enrichment"]
    for c in campaigns:
        args += ["--campaign", c]
    if reference:
        args += ["--reference", reference]
    if assays is not None:
        args += ["--assay", assays]
    return command_line(args, n_boot, seed)


@click.command()
@click.option("--campaign", "campaigns", multiple=True, help="Campaign id or name; repeat for several.")
@click.option("--reference", type=click.Choice(["dockcov2"]), default=None,
              help="Also measure DockCoV2's published blind-box scores of every matched drug.")
@click.option("--assay", "assays", default=None, metavar="KEY,...",
              help="Assay keys whose active results define the actives (default: the SARS-CoV-2 cell screens, "
                   "and moonshot-mpro on 3clpro).")
@bootstrap_options("Stratified bootstrap resamples for the intervals (0: none).")
@pass_app
def enrichment(app: AppContext, campaigns: tuple[str, ...], reference: str | None, assays: str | None, n_boot: int,
               seed: int, quiet: bool, as_json: bool) -> int:
    """Per target: ROC AUC and EF at 1 % and 5 % of the docking score (lower = active), with CIs, and of each
    ranking variant -- raw score, ligand efficiency, size-corrected z, engine consensus -- beside heavy-atom
    count alone.

    Actives are scored drugs active in the assays; inactives are scored drugs tested there
    without an active result. Stores one run per campaign (and per reference) with ROC plots.
    Exit 0 all stored, 2 bad option or unknown assay, 3 nothing tested, 4 some sources had nothing.
    """
    from jobs.validation.enrichment import run_enrichment

    results = run_enrichment(app.db, list(campaigns), reference=reference is not None, assays=_split(assays),
                             n_boot=n_boot, seed=seed, progress_bar=not quiet,
                             command=canonical_command(campaigns, reference, assays, n_boot, seed))
    return report_runs(results, as_json, lambda r: f"{r.title}; actives from {', '.join(r.assays)}:", print_table,
                       print_variants)
