"""Does a drug's torch-engine result depend on the other drugs of its run?  Docks the first ``--n``
prepared drugs in one call (the engine plans its batches as a campaign task does), then the most
padded drug of each batch in a call of its own, and compares each drug's poses exactly.

    .venv/bin/python bench/bench_torch_engine.py prep            # prepared receptors + 20 drugs
    .venv/bin/python bench/bench_batch_independence.py --target protease --mode balanced
    .venv/bin/python bench/bench_batch_independence.py --device cuda --mode fast    # on a GPU: one batch
    .venv/bin/python bench/bench_batch_independence.py --mode fast --drugs amoxicillin,acrivastine  # these alone

Since engine 1.14 (1.12 for 16-lane searches on AVX-512 CPUs) the answer should be no for compiled
searches (every drug-sized ligand on a CPU, every search on a GPU): a drug alone is padded only to its
own bucket, beside larger drugs to theirs, and both give the same search and best score, and the same
poses up to the last digits of the eager finish (docs/validation.md, "Engine 1.12" and "Engine 1.14").
Prints one row per drug docked alone and a summary line; records the rows in
``<workdir>/search_bench.json``
(key ``batch_independence|target|mode|seed|device|engine version``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_torch_search import ROOT, _boxes, _ligands, _record


def most_padded(tops: list[Any], batches: list[list[int]]) -> list[int]:
    """Per batch, the index of the drug that its batch pads most (fewest atoms, then fewest torsions,
    against the batch's largest), for batches of two drugs or more."""
    return [min(b, key=lambda i: (tops[i].n_atoms, tops[i].n_torsions)) for b in batches if len(b) > 1]


def compare(together: Any, alone: Any) -> dict[str, Any]:
    """One drug's two results (``DockingResult``): the same poses to the last digit or not, how many
    differ (PDBQT text, pose by pose in rank order) and by how much their scores do, and the best scores."""
    pairs = list(zip(together.poses, alone.poses, strict=False))
    differ = sum(a.pdbqt != b.pdbqt for a, b in pairs) + abs(len(together.poses) - len(alone.poses))
    return {"identical_poses": differ == 0, "poses_differing": differ,
            "max_score_diff": max((abs(a.score - b.score) for a, b in pairs), default=0.0),
            "best_together": together.best_score, "best_alone": alone.best_score,
            "poses": [len(together.poses), len(alone.poses)]}


def run(work: Path, target: str, mode: str, n: int, seed: int, device: str, limit: int,
        names: list[str] | None = None) -> list[dict[str, Any]]:
    import torch

    from docking.engines.torch_engine.engine import TorchEngine
    from docking.engines.torch_engine.pdbqt import parse_ligand_pdbqt
    from docking.engines.torch_engine.topology import build_topology
    from docking.pocket import Box

    torch.set_num_threads(1)
    ligs = _ligands(work, n)
    if not ligs:
        raise SystemExit(f"no prepared drugs in {work}: run bench/bench_torch_engine.py prep --workdir {work} first")
    index = {x.name: i for i, x in enumerate(ligs)}
    names = list(dict.fromkeys(names or []))  # a drug named twice is docked alone once
    unknown = [x for x in names if x not in index]
    if unknown:
        raise SystemExit(f"not among the first {n} prepared drugs: {', '.join(unknown)}; "
                         f"pick from {', '.join(index)}")
    boxes = _boxes()
    if target not in boxes:
        raise SystemExit(f"unknown target {target!r}: pick one of {', '.join(sorted(boxes))}")
    receptor = work / "receptors" / f"{target}.pdbqt"
    if not receptor.is_file():
        raise SystemExit(f"no prepared receptor {receptor}: "
                         f"run bench/bench_torch_engine.py prep --workdir {work} first")
    rec = receptor.read_text()
    c, s = boxes[target]
    box = Box((c[0], c[1], c[2]), (s[0], s[1], s[2]))
    eng = TorchEngine(device=device, mode=mode)
    t0 = time.perf_counter()
    together = {r.name: r for r in eng.dock(rec, box, ligs, seed=seed)}
    docker = eng.last_docker
    tops = [build_topology(parse_ligand_pdbqt(x.variants[0].pdbqt)) for x in ligs]
    compiled = docker._use_compile(tops)
    batches = docker._plan(tops, compiled)
    print(f"{len(ligs)} drugs in one call: {len(batches)} batches of {[len(b) for b in batches]} "
          f"({'compiled' if compiled else 'eager'}, {time.perf_counter() - t0:.0f} s)", flush=True)
    chosen = [index[x] for x in names] if names else most_padded(tops, batches)[:limit]
    rows = []
    for i in chosen:
        lig = ligs[i]
        alone = TorchEngine(device=device, mode=mode).dock(rec, box, [lig], seed=seed)[0]
        row = {"drug": lig.name, "atoms": tops[i].n_atoms, "torsions": tops[i].n_torsions,
               **compare(together[lig.name], alone)}
        rows.append(row)
        print(json.dumps(row), flush=True)
    same = sum(r["identical_poses"] for r in rows)
    worst = max((r["max_score_diff"] for r in rows), default=0.0)
    print(f"{same} of {len(rows)} drugs docked alone got the poses they got in the batch; "
          f"{sum(r['poses_differing'] for r in rows)} poses differ, scores by at most {worst:.2g} kcal/mol", flush=True)
    _record(work, f"batch_independence|{target}|{mode}|{seed}|{device}|{eng.version}", {"rows": rows})
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workdir", default=str(ROOT / ".dockdb" / "bench_torch"))
    ap.add_argument("--target", default="protease")
    ap.add_argument("--mode", default="balanced")
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--alone", type=int, default=3, help="drugs docked alone (the most padded of each batch)")
    ap.add_argument("--drugs", default="", help="comma list of drugs to dock alone instead (names as prepared)")
    args = ap.parse_args(argv)
    from dockdb.errors import DockDBError

    try:
        rows = run(Path(args.workdir), args.target, args.mode, args.n, args.seed, args.device, args.alone,
                   [x.strip() for x in args.drugs.split(",") if x.strip()])
    except DockDBError as exc:  # a bad --mode or --device: the engine's one-line message
        raise SystemExit(str(exc)) from exc
    return 0 if rows else 3


if __name__ == "__main__":
    raise SystemExit(main())
