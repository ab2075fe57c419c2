"""`dockdb validate redock`: redock the crystal ligands of the validation sets, store the numbers."""

from __future__ import annotations

import click

from dockdb.cli.common import AppContext, echo_json, pass_app


def _pct(k: int, n: int) -> str:
    return f"{k}/{n} ({100.0 * k / n:.0f} %)" if n else "-"


def _rmsd(summary: dict) -> str:
    if summary.get("top_rmsd_median") is None:
        return "-"
    return f"{summary['top_rmsd_median']:.2f} ({summary['top_rmsd_q1']:.2f}-{summary['top_rmsd_q3']:.2f})"


@click.command()
@click.option("--set", "set_", default="all", show_default=True,
              help="posebusters, xchem, heldout or all (comma-separated list allowed; "
                   "all: posebusters and xchem; heldout downloads complexes not in the mirror).")
@click.option("--engine", default="vina", show_default=True,
              help="Docking engine(s), comma-separated: vina, vinardo, torch; parameters after colons, "
                   "e.g. vina,torch:mode=detail.")
@click.option("--exhaustiveness", type=int, default=8, show_default=True, help="Search effort.")
@click.option("--poses", "n_poses", type=int, default=9, show_default=True, help="Poses per complex.")
@click.option("--xchem-limit", type=int, default=24, show_default=True,
              help="First N non-covalent XChem complexes (0: all of them).")
@click.option("--complex", "complexes", multiple=True,
              help="Only this complex id (repeatable), e.g. 1ia1 or Mpro-x0072.")
@click.option("--seed", type=int, default=42, show_default=True, help="Random seed (ligand embedding, search).")
@click.option("--cpu", type=int, default=0, show_default=True, help="CPU threads per docking (0: all).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_app
def redock(app: AppContext, set_: str, engine: str, exhaustiveness: int, n_poses: int, xchem_limit: int,
           complexes: tuple[str, ...], seed: int, cpu: int, quiet: bool, as_json: bool) -> int:
    """Redock co-crystal ligands (from SMILES) per engine; success = top-pose RMSD < 2 A.

    Stores one validation run per set and engine (shown by `dockdb validate show` and the
    portal's Validation page).  Exit 4 when some complexes failed (listed), 3 when none docked.
    """
    from jobs.validation.redock import RedockOptions, parse_engines, parse_sets, run_redock
    from jobs.validation.store import command_line

    options = RedockOptions(
        sets=parse_sets(set_), engines=parse_engines(engine), exhaustiveness=exhaustiveness, n_poses=n_poses,
        xchem_limit=None if xchem_limit == 0 else xchem_limit, seed=seed, cpu=cpu,
        complexes=tuple(dict.fromkeys(c.strip() for c in complexes if c.strip())),
    )
    argv = ["validate", "redock", "--set", ",".join(options.sets), "--engine", ",".join(options.engines),
            "--exhaustiveness", str(exhaustiveness), "--poses", str(n_poses)]
    if "xchem" in options.sets:
        argv += ["--xchem-limit", str(xchem_limit)]
    for c in options.complexes:
        argv += ["--complex", c]
    argv += ["--seed", str(seed), "--cpu", str(cpu)]
    outcome = run_redock(app.db, app.config, options, command=command_line(argv), progress=not quiet,
                         echo=None if as_json else lambda line: click.echo(line, err=True))
    if as_json:
        echo_json([
            {"run_id": r.run_id, "set": r.set, "engine": r.engine, "summary": r.summary,
             "rows": [rec.as_dict() for rec in r.records]}
            for r in outcome.results
        ])
        return outcome.exit_code
    header = f"{'set':<12} {'engine':<8} {'n':>3}  {'top < 2 A':<13} {'any pose < 2 A':<14} " \
             f"{'median top RMSD (IQR)':<22} {'errors':>6}  run"
    click.echo(header)
    for r in outcome.results:
        s = r.summary
        click.echo(f"{r.set:<12} {r.engine:<8} {s['n']:>3}  {_pct(s['top_success'], s['n']):<13} "
                   f"{_pct(s['any_pose_success'], s['n']):<14} {_rmsd(s):<22} {s['n_errors']:>6}  #{r.run_id}")
    n_err = len(outcome.errors)
    click.echo(f"redocked {outcome.n_records} complex-engine pairs, {n_err} failed; "
               f"stored {len(outcome.results)} validation run(s) (see `dockdb validate show --kind redock`)")
    return outcome.exit_code
