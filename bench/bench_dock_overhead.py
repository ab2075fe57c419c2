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

from dockdb.config import Config
from dockdb.sources import fetch, read_text
from docking.engines import get_engine, vina_engine
from docking.ligand import prepare_ligand
from docking.pocket import Box
from docking.receptor import prepare_receptor
from ingest.targets import get_target_spec

DRUG = "nafamostat"  # a drug-sized ligand (22 heavy atoms), looked up in DrugCentral by INN
TARGET = "3clpro"  # its focused box and chains come from the target registry


def drug_smiles(config: Config, inn: str) -> str:
    import csv

    with fetch("drugcentral-structures", config).open(newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            if (row.get("INN") or "").strip().lower() == inn:
                return row["SMILES"]
    raise SystemExit(f"{inn} is not in the DrugCentral structures file")


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
    vina_engine._map_cache.clear()  # time the whole path, maps included, like the bare call
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
    config = Config.load(environ={}, mirror=mirror)
    spec = get_target_spec(config, TARGET)
    pdb = read_text(spec.structure_source, config)
    receptor = prepare_receptor(
        pdb, keep_chains=spec.keep_chains, remove_chains=list(spec.remove_chains), keep_hetero=spec.keep_hetero
    )
    box: Box = spec.pocket("focused").box
    ligand = prepare_ligand(drug_smiles(config, DRUG), name=DRUG)
    assert len(ligand.variants) == 1
    t_bare, t_ours = [], []
    for i in range(args.repeats):
        print(f"repeat {i + 1}:")
        t_bare.append(bare_vina(receptor.pdbqt, ligand.pdbqt, box, args.seed, args.exhaustiveness, 9))
        t_ours.append(ours(receptor.pdbqt, ligand, box, args.seed, args.exhaustiveness, 9))
    b, o = min(t_bare), min(t_ours)
    print(f"best of {args.repeats}: bare {b:.2f} s, dockdb {o:.2f} s, overhead ratio {o / b:.3f} "
          f"({(o - b):+.2f} s) at exhaustiveness {args.exhaustiveness}, {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
