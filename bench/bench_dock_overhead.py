"""Docking overhead: DockDB's ``VinaEngine.dock`` vs a bare ``vina.Vina`` call.

Both paths get the same prepared receptor PDBQT, box, ligand PDBQT, seed and exhaustiveness;
they run back to back in one process, and the script prints both wall times and the ratio.

    .venv/bin/python bench/bench_dock_overhead.py [--exhaustiveness 4] [--repeats 2]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from docking.engines import get_engine
from docking.ligand import prepare_ligand
from docking.pocket import Box
from docking.receptor import prepare_receptor

# nafamostat, a drug-sized ligand (22 heavy atoms); 3CLpro focused box from pockets.tsv
SMILES = "NC(=N)Nc1ccc(cc1)C(=O)Oc1ccc2cc(ccc2c1)C(N)=N"
BOX = Box((-10.7, 12.4, 68.8), (20.0, 29.9, 21.3))


def bare_vina(receptor_pdbqt: str, ligand_pdbqt: str, box: Box, seed: int, exh: int, n_poses: int) -> float:
    from vina import Vina

    t0 = time.perf_counter()
    with tempfile.NamedTemporaryFile("w", suffix=".pdbqt", delete=False) as fh:
        fh.write(receptor_pdbqt)
    try:
        v = Vina(sf_name="vina", cpu=0, seed=seed, verbosity=0)
        v.set_receptor(fh.name)
        v.compute_vina_maps(center=list(box.center), box_size=list(box.size))
        v.set_ligand_from_string(ligand_pdbqt)
        v.dock(exhaustiveness=exh, n_poses=n_poses)
        v.poses(n_poses=n_poses)
        best = float(v.energies(n_poses=n_poses)[0][0])
    finally:
        os.unlink(fh.name)
    print(f"  bare vina   : {time.perf_counter() - t0:7.2f} s  best {best:.2f}")
    return time.perf_counter() - t0


def ours(receptor_pdbqt: str, ligand, box: Box, seed: int, exh: int, n_poses: int) -> float:
    t0 = time.perf_counter()
    engine = get_engine("vina", exhaustiveness=exh, n_poses=n_poses)
    res = engine.dock(receptor_pdbqt, box, [ligand], seed=seed)[0]
    dt = time.perf_counter() - t0
    print(f"  dockdb dock : {dt:7.2f} s  best {res.best_score:.2f}  ({len(res.poses)} poses with SDF)")
    return dt


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--exhaustiveness", type=int, default=4)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args()
    mirror = Path(os.environ.get("DOCKDB_MIRROR", Path(__file__).resolve().parents[2] / "shared" / "data"))
    pdb = (mirror / "targets" / "dockcov2" / "protease.pdb").read_text()
    receptor = prepare_receptor(pdb, keep_chains=["A"], remove_chains=["C"])
    ligand = prepare_ligand(SMILES, name="nafamostat")
    assert len(ligand.variants) == 1
    t_bare, t_ours = [], []
    for i in range(args.repeats):
        print(f"repeat {i + 1}:")
        t_bare.append(bare_vina(receptor.pdbqt, ligand.pdbqt, BOX, args.seed, args.exhaustiveness, 9))
        t_ours.append(ours(receptor.pdbqt, ligand, BOX, args.seed, args.exhaustiveness, 9))
    b, o = min(t_bare), min(t_ours)
    print(f"best of {args.repeats}: bare {b:.2f} s, dockdb {o:.2f} s, overhead ratio {o / b:.3f} "
          f"({(o - b):+.2f} s) at exhaustiveness {args.exhaustiveness}, {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
