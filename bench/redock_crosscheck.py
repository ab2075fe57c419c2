"""Why two engines rank a redocked complex's poses differently: each engine's poses scored by both.

    DOCKDB_MIRROR=../shared/data .venv/bin/python bench/redock_crosscheck.py --complex 1s3v --seed 42

Prepares one complex of a redocking set once (``jobs.validation.redock.load_set``,
``docking.redock.prepare_complex``), docks it with Vina (exhaustiveness 8) and the torch engine
(``--mode``), and prints for every pose of each engine: its reported score, RMSD to the crystal
ligand and to the other engine's top pose, and the torch function's terms for it. The sum
inter + intra is what both engines rank a ligand's poses by, so two near-equal sums mean a near-tie,
not a missed basin. ``--search-seeds 1,2,3`` instead docks the one preparation under each search
seed and prints a line per engine and seed. ``--optimize`` also runs the torch engine's local
optimisation from each torch pose at several iteration caps (does a longer refinement move it?).
docs/validation.md, "Engine 1.7.4 `balanced` side by side", records a run.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any


def _row(engine: Any, receptor: str, box: Any, pose: Any, crystal: Any, other_top: Any) -> str:
    from docking.poses import sdf_to_mol
    from docking.redock import heavy_atom_rmsd

    mol = sdf_to_mol(pose.sdf)
    t = engine.score(receptor, box, pose.pdbqt).terms
    return (f"  pose {pose.rank}: reported {pose.score:8.3f}  crystal {heavy_atom_rmsd(mol, crystal):5.2f} A  "
            f"other's top {heavy_atom_rmsd(mol, other_top):5.2f} A  torch: alone {t['total']:8.3f}  "
            f"inter {t['lig_inter']:8.3f}  intra {t['lig_intra']:7.3f}  sum {t['lig_inter'] + t['lig_intra']:8.3f}")


def _seed_lines(cx: Any, pc: Any, engines: dict[str, Any], prep_seed: int, seeds: list[int]) -> int:
    """Dock the prepared complex ``pc`` with every engine under each search seed: one line each."""
    from docking.poses import sdf_to_mol
    from docking.redock import heavy_atom_rmsd

    failed = 0
    for seed in seeds:
        for name, eng in engines.items():
            r = eng.dock(pc.receptor_pdbqt, pc.box, [pc.ligand], seed=seed)[0]
            if not r.ok:
                failed += 1
                print(f"{cx.id} prepared with seed {prep_seed}, {name}, search seed {seed}: failed: {r.error}")
                continue
            rmsd = [heavy_atom_rmsd(sdf_to_mol(p.sdf), cx.ligand) for p in r.poses]
            print(f"{cx.id} prepared with seed {prep_seed}, {name}, search seed {seed}: top {r.poses[0].score:.3f} "
                  f"at {rmsd[0]:.2f} A, nearest of {len(rmsd)} {min(rmsd):.2f} A", flush=True)
    return 4 if failed else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--set", default="posebusters", choices=["posebusters", "xchem", "heldout"])
    ap.add_argument("--complex", required=True, help="complex id, e.g. 1s3v")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--mode", default="balanced", choices=["fast", "balanced", "detail"])
    ap.add_argument("--optimize", action="store_true", help="refine each torch pose at 0/50/200/1000 BFGS iterations")
    ap.add_argument("--search-seeds", default="",
                    help="comma list: dock the complex prepared once with --seed under each of these search seeds "
                         "and print one line per engine and seed (top score, its RMSD, nearest pose) instead of "
                         "the pose table: tells the search's seed dependence from the preparation's")
    ap.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                    help="torch engine parameter, repeatable (as `dockdb dock --param`), e.g. rotamers=2")
    ap.add_argument("--no-vina", action="store_true", help="--search-seeds: the torch engine alone")
    ap.add_argument("--no-torch", action="store_true", help="--search-seeds: Vina alone")
    args = ap.parse_args()
    try:
        search_seeds = [int(x) for x in args.search_seeds.split(",") if x.strip()]
    except ValueError:
        ap.error(f"--search-seeds {args.search_seeds!r}: give whole numbers separated by commas, e.g. 1,2,3")

    if args.no_vina and args.no_torch:
        ap.error("--no-vina and --no-torch leave no engine; give one of them at most")

    from dockdb.cli.engine_opts import extra_engine_params
    from dockdb.config import Config
    from dockdb.errors import DockDBError
    from docking.engines import get_engine
    from docking.poses import sdf_to_mol
    from docking.redock import prepare_complex
    from jobs.validation.redock import load_set

    try:
        extra = extra_engine_params(None, args.param)
        torch_eng = get_engine("torch", **{"device": "cpu", "threads": 1, "mode": args.mode, **extra})
        found = load_set(Config.load(), args.set, only=[args.complex])
    except DockDBError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not found:
        print(f"error: no complex {args.complex!r} in the {args.set} set; name one of its ids", file=sys.stderr)
        return 2
    cx = found[0]
    pc = prepare_complex(cx.id, cx.protein_pdb, cx.ligand, smiles=cx.smiles, keep_chains=list(cx.keep_chains),
                         seed=args.seed)
    if pc.error is not None or pc.ligand is None or pc.box is None:
        print(f"error: {cx.id} could not be prepared: {pc.error}", file=sys.stderr)
        return 2
    vina = get_engine("vina", exhaustiveness=8, n_poses=9, cpu=1)
    label = f"torch {args.mode}" + "".join(f" {p}" for p in args.param)
    if search_seeds:
        engines = {name: eng for name, eng, skip in (("vina", vina, args.no_vina), (label, torch_eng, args.no_torch))
                   if not skip}
        return _seed_lines(cx, pc, engines, args.seed, search_seeds)
    results = {name: eng.dock(pc.receptor_pdbqt, pc.box, [pc.ligand], seed=args.seed)[0]
               for name, eng in (("vina", vina), (label, torch_eng))}
    tops = {name: sdf_to_mol(r.poses[0].sdf) for name, r in results.items() if r.ok}
    if len(tops) < 2:
        print(f"error: a docking failed: {[r.error for r in results.values() if not r.ok]}", file=sys.stderr)
        return 4
    for name, r in results.items():
        other = next(m for n, m in tops.items() if n != name)
        print(f"{cx.id} {name} (seed {args.seed}):")
        for p in r.poses:
            print(_row(torch_eng, pc.receptor_pdbqt, pc.box, p, cx.ligand, other))
    if args.optimize:
        print("torch poses refined by the torch engine's optimize(), score alone at each BFGS cap:")
        for p in results[label].poses:
            caps = [torch_eng.optimize(pc.receptor_pdbqt, pc.box, p.pdbqt, max_steps=n)[0].score
                    for n in (0, 50, 200, 1000)]
            print(f"  pose {p.rank}: " + "  ".join(f"{s:8.3f}" for s in caps))
    return 0


if __name__ == "__main__":
    sys.exit(main())
