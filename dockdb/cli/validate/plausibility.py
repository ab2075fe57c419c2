"""`dockdb validate plausibility`: PoseBusters checks on stored poses, stored as a validation run."""

from __future__ import annotations

from typing import Any

import click

from dockdb.cli.common import AppContext, echo_json, pass_app


def _pct(share: dict[str, Any]) -> str:
    rate = share.get("pass_rate")
    return f"{share.get('n_pass', 0):>6}/{share.get('n', 0):<6} {'-' if rate is None else f'{100 * rate:5.1f} %'}"


def print_summary(summary: dict[str, Any]) -> None:
    """The summary as a plain-text table: pass shares, then failures per check."""
    click.echo(f"{'scope':<28} {'pass/checked':>13}  share")
    click.echo(f"{'all poses':<28} {_pct(summary['overall'])}")
    click.echo(f"{'rank-1 poses':<28} {_pct(summary['rank1'])}")
    for key, v in summary["per_target"].items():
        click.echo(f"{key + ' (all)':<28} {_pct(v['all'])}")
        click.echo(f"{key + ' (rank 1)':<28} {_pct(v['rank1'])}")
    failing = {k: c for k, c in summary["failures"].items() if c}
    if failing:
        click.echo(f"\n{'failed check':<44} {'poses':>6}  share")
        for name, count in sorted(failing.items(), key=lambda kv: -kv[1]):
            rate = summary["failure_rate"].get(name) or 0.0
            click.echo(f"{name:<44} {count:>6}  {100 * rate:5.1f} %")


@click.command()
@click.option("--campaign", "campaign", default=None, help="Campaign id or name (default: poses of every campaign).")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Check at most this many poses.")
@click.option("--max-rank", type=click.IntRange(min=1), default=None,
              help="Only poses of rank ≤ this (1: each docking's top pose).")
@click.option("--recheck", is_flag=True, help="Check poses again even when already checked.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@pass_app
def plausibility(app: AppContext, campaign: str | None, limit: int | None, max_rank: int | None, recheck: bool,
                 quiet: bool, as_json: bool) -> int:
    """PoseBusters (docking config) on stored poses against their receptor; the share that pass.

    Writes each pose's pass flag and failed checks (shown on drug pages, `plausible=1` filters
    tables) and stores a validation run. Exit 0 all checked, 3 nothing to check, 4 some poses errored.
    """
    from jobs.validation.plausibility import check_plausibility

    report = check_plausibility(app.db, campaign, limit=limit, recheck=recheck, max_rank=max_rank,
                                progress=not quiet, echo=lambda msg: click.echo(msg, err=True))
    for pose_id, error in report.errors[:20]:
        click.echo(f"pose {pose_id}: {error}", err=True)
    if len(report.errors) > 20:
        click.echo(f"... and {len(report.errors) - 20} more pose errors", err=True)
    if report.summary:
        if as_json:
            echo_json({"run_id": report.run_id, "label": report.label, "engine": report.engine,
                       "summary": report.summary})
        else:
            print_summary(report.summary)
    click.echo(report.line(), err=as_json)
    return report.exit_code
