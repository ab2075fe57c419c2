"""`dockdb campaign ...`: create, run, watch, export and rerun docking campaigns."""

from __future__ import annotations

from typing import Any

import click

from dockdb.cli.common import AppContext, echo_json, pass_app
from dockdb.cli.engine_opts import engine_options, extra_engine_params

DEMO_NAME = "demo"


def _split(value: str | None) -> list[str] | None:
    if not value:
        return None
    return [v.strip() for v in value.split(",") if v.strip()]


def _err(msg: str) -> None:
    click.echo(msg, err=True)


@click.group()
def campaign() -> None:
    """Dock a drug library into targets on Dask; resumable, exportable and rerunnable."""


@campaign.command("create")
@click.option("--name", required=True, help="Unique campaign name.")
@click.option("--targets", required=True, help="`all` or comma-separated target keys.")
@click.option("--library", required=True, help="Drug library, e.g. fda-approved.")
@click.option("--drugs", default=None, help="Only these drugs of the library (comma-separated names).")
@click.option("--limit", type=int, default=None, help="Only the first N drugs of the selection.")
@click.option("--engine", default="vina", show_default=True, help="Docking engine.")
@click.option("--pocket", type=click.Choice(["focused", "blind"]), default="focused", show_default=True)
@click.option("--exhaustiveness", type=click.IntRange(1, 512), default=None, help="Search effort (engine default).")
@click.option("--poses", type=click.IntRange(1, 50), default=None, help="Poses kept per docking (engine default).")
@click.option("--seed", type=int, default=None, help="Random seed (default 42).")
@engine_options
@pass_app
def create_cmd(app: AppContext, name: str, targets: str, library: str, drugs: str | None, limit: int | None,
               engine: str, pocket: str, exhaustiveness: int | None, poses: int | None, seed: int | None,
               device: str | None, engine_param: tuple[str, ...]) -> None:
    """Create a campaign (prepares or reuses receptors); prints its id."""
    from jobs.campaign import DEFAULT_SEED, CampaignSpec, create_campaign

    spec = CampaignSpec(
        name=name, targets=targets, library=library, drugs=_split(drugs), limit=limit, engine=engine,
        pocket=pocket, seed=DEFAULT_SEED if seed is None else seed,
        params={"exhaustiveness": exhaustiveness, "n_poses": poses, **extra_engine_params(device, engine_param)},
    )
    click.echo(create_campaign(app.db, spec, echo=_err))


def _run_options(app: AppContext, local_workers: int | None, scheduler: str | None, slurm: str | None,
                 retry_failed: bool = False, quiet: bool = False, batch_size: int | None = None) -> Any:
    from jobs.run import RunOptions

    return RunOptions(local_workers=local_workers, scheduler=scheduler, slurm=slurm, home=app.config.home,
                      retry_failed=retry_failed, progress=not quiet, batch_size=batch_size)


_cluster_options = [
    click.option("--local-workers", type=int, default=None, help="Workers of the local Dask cluster (default: cores)."),
    click.option("--scheduler", default=None, metavar="ADDRESS", help="Join an existing Dask scheduler (tcp://host:8786)."),
    click.option("--slurm", default=None, metavar="PROFILE", help="Start workers on Slurm with this profile."),
    click.option("--quiet", is_flag=True, help="No progress bar."),
    click.option("--batch-size", type=click.IntRange(1, 100_000), default=None,
                 help="Ligands per docking task (default: the engine's batch, split so every worker gets work)."),
]


def cluster_options(f: Any) -> Any:
    """Add --local-workers, --scheduler, --slurm, --quiet and --batch-size (how to run the campaign) to a command."""
    for opt in reversed(_cluster_options):
        f = opt(f)
    return f


def _run(app: AppContext, campaign_id: int | str, options: Any) -> int:
    from jobs.run import run_campaign

    summary = run_campaign(app.db, campaign_id, options, echo=_err)
    click.echo(summary.line())
    if summary.size_scored:
        _err(f"size-aware scores (ligand efficiency, size-corrected z, selectivity z) stored for "
             f"{summary.size_scored} results")
    return summary.exit_code


@campaign.command("rescore")
@click.argument("campaign_ids", nargs=-1)
@pass_app
def rescore_cmd(app: AppContext, campaign_ids: tuple[str, ...]) -> int:
    """Recompute the size-aware scores of campaigns (default: all): ligand efficiency (score / heavy atoms),
    size-corrected z (residual of score vs heavy atoms, robust fit per campaign and target) and selectivity z
    (this target vs the campaign's other targets). `campaign run` stores them when a campaign finishes."""
    from jobs.campaign import get_campaign
    from jobs.scoring import rescore

    with app.db.session() as s:
        ids = [get_campaign(s, c).id for c in campaign_ids]
    done = rescore(app.db, ids or None)
    for cid, n in done.items():
        click.echo(f"campaign {cid}: size-aware scores for {n} results")
    return 0 if any(done.values()) else 3


@campaign.command("consensus")
@click.argument("campaign_ids", nargs=-1, required=True)
@pass_app
def consensus_cmd(app: AppContext, campaign_ids: tuple[str, ...]) -> int:
    """Consensus of two or more campaigns (engines or scoring functions: vina, vinardo, torch) on the
    targets they share: per drug the mean of its per-campaign percentile ranks (0 = best) and an
    agreement flag (top poses within 2 A and percentiles within 20 points)."""
    from jobs.consensus import run_consensus

    summary = run_consensus(app.db, list(campaign_ids))
    click.echo(summary.line())
    return 0 if summary.targets and any(summary.targets.values()) else 3


@campaign.command("run")
@click.argument("campaign_id")
@cluster_options
@click.option("--retry-failed", is_flag=True, help="Also dock again the pairs recorded as failed.")
@pass_app
def run_cmd(app: AppContext, campaign_id: str, local_workers: int | None, scheduler: str | None,
            slurm: str | None, quiet: bool, batch_size: int | None, retry_failed: bool) -> int:
    """Run (or resume) a campaign: docks only what is not stored yet."""
    return _run(app, campaign_id, _run_options(app, local_workers, scheduler, slurm, retry_failed, quiet,
                                               batch_size))


@campaign.command("status")
@click.argument("campaign_id")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_app
def status_cmd(app: AppContext, campaign_id: str, as_json: bool) -> None:
    """Progress from the database (works while another process runs the campaign)."""
    from jobs.campaign import campaign_status

    st = campaign_status(app.db, campaign_id)
    if as_json:
        echo_json(st)
        return
    rate = f"{st['dockings_per_s']:.3f} dockings/s" if st["dockings_per_s"] else "rate n/a"
    eta = f", ETA {st['eta_s']:.0f} s" if st["eta_s"] is not None else ""
    click.echo(f"campaign {st['id']} ({st['name']}): {st['status']}, engine {st['engine']}, {st['pocket']} pocket")
    click.echo(f"  {st['receptors']} receptors x {st['drugs']} drugs = {st['total']} dockings")
    click.echo(f"  done {st['done']}, failed {st['failed']}, skipped {st['skipped']}, missing {st['missing']}"
               f" ({rate}{eta})")
    if st["runner"]:
        click.echo(f"  running on {st['runner']} (heartbeat {st['heartbeat_at']})")


@campaign.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_app
def list_cmd(app: AppContext, as_json: bool) -> None:
    """Every campaign with its status and counts."""
    from jobs.campaign import list_campaigns

    rows = list_campaigns(app.db)
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("no campaigns; create one with `dockdb campaign create` or `dockdb campaign demo`")
        return
    for r in rows:
        click.echo(f"{r['id']:>4}  {r['name']:<24} {r['status']:<11} {r['engine']:<6} {r['pocket']:<7} "
                   f"{r['done']}/{r['total']} done, {r['failed']} failed")


@campaign.command("cancel")
@click.argument("campaign_id")
@pass_app
def cancel_cmd(app: AppContext, campaign_id: str) -> None:
    """Cancel a campaign; a client running it stops within seconds."""
    from jobs.campaign import cancel_campaign

    click.echo(cancel_campaign(app.db, campaign_id))


@campaign.command("export")
@click.argument("campaign_id")
@click.option("--format", "fmt", type=click.Choice(["csv", "sdf", "parquet"]), required=True)
@click.option("--out", default=None, help="Output file (default campaign-ID.FORMAT; `-` for stdout).")
@pass_app
def export_cmd(app: AppContext, campaign_id: str, fmt: str, out: str | None) -> None:
    """Results as CSV or Parquet, or every pose as SDF."""
    from jobs.export import export_campaign

    n, where = export_campaign(app.db, campaign_id, fmt, out)
    unit = "poses" if fmt == "sdf" else "results"
    _err(f"wrote {n} {unit} to {where}")


@campaign.command("manifest")
@click.argument("campaign_id")
@pass_app
def manifest_cmd(app: AppContext, campaign_id: str) -> None:
    """The campaign's manifest as JSON (engine, params, seed, receptors, pockets, drugs, versions)."""
    from jobs.export import manifest_json

    click.echo(manifest_json(app.db, campaign_id))


@campaign.command("rerun")
@click.argument("campaign_id")
@click.option("--name", default=None, help="Name of the new campaign (default NAME-rerun-N).")
@click.option("--no-run", is_flag=True, help="Only create the new campaign.")
@cluster_options
@pass_app
def rerun_cmd(app: AppContext, campaign_id: str, name: str | None, no_run: bool, local_workers: int | None,
              scheduler: str | None, slurm: str | None, quiet: bool, batch_size: int | None) -> int:
    """A new campaign from the stored manifest, then run it; warns where software versions differ."""
    from jobs.campaign import rerun_campaign

    new_id, diffs = rerun_campaign(app.db, campaign_id, name)
    for line in diffs:
        _err(f"warning: {line}; scores may differ from the original run")
    _err(f"created campaign {new_id} from the manifest of campaign {campaign_id}")
    click.echo(new_id)
    if no_run:
        return 0
    return _run(app, new_id, _run_options(app, local_workers, scheduler, slurm, quiet=quiet, batch_size=batch_size))


@campaign.command("demo")
@cluster_options
@pass_app
def demo_cmd(app: AppContext, local_workers: int | None, scheduler: str | None, slurm: str | None,
             quiet: bool, batch_size: int | None) -> int:
    """Create (once) and run the README demo campaign; running it again resumes it."""
    from jobs.demo import ensure_demo

    cid = ensure_demo(app.db, echo=_err)
    return _run(app, cid, _run_options(app, local_workers, scheduler, slurm, quiet=quiet, batch_size=batch_size))
