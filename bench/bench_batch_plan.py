"""Campaign batches by search size: what a batched torch engine spends, ligands in library order
against ligands ordered by estimated search work, side by side in one run.

    .venv/bin/python bench/bench_batch_plan.py count --stride 6     # every 6th fda-approved drug
    .venv/bin/python bench/bench_batch_plan.py time --n 24 --mode fast

A batch of the torch engine runs until its longest search ends, and every ligand slot is
evaluated on every tick, finished or not.  A campaign cuts each receptor's drugs into tasks of the
engine's batch (64 ligands on CPU, 1,024 on CUDA), and the engine cuts a task into device batches
(8 ligands when compiled on CPU, 512 on CUDA).  ``count`` prepares a sample of the ``fda-approved``
library (every ``--stride``-th DrugCentral FDA structure, cached in ``--workdir``) and counts, for
the CPU and the CUDA rule, the pose-ticks the batches evaluate against the ticks the ligands' own
searches need, with the campaign's tasks in library (drug id) order and in order of
:func:`docking.ligand.search_work` (what ``jobs.run`` does now).  For CUDA, task and batch sizes are
divided by the stride (see :func:`count` for why both comparisons are then conservative).  Counts,
not timings: exact for the engine's plan, whatever the device.

``time`` docks ``--n`` drugs of the sample (at most ``--max-heavy`` heavy atoms) into the 3CLpro
pocket on one CPU thread, compiled, as tasks of ``--task`` drugs in each order, with
``TorchEngine.dock`` as a campaign task calls it: one warm pass per order (compiling each batch
shape or loading it from the on-disk cache), then two timed rounds, the orders alternating;
process CPU seconds per ligand.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import pickle
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _mirror() -> Path:
    return Path(os.environ.get("DOCKDB_MIRROR") or ROOT.parent / "shared" / "data")


def library(work: Path, stride: int) -> dict[str, Any]:
    """Every ``stride``-th fda-approved DrugCentral structure (by id): id -> (SMILES, PreparedLigand
    or the preparation error), prepared once and cached."""
    from docking.ligand import prepare_ligand

    cache = work / f"library_{stride}.pkl"
    out: dict[str, Any] = pickle.loads(cache.read_bytes()) if cache.exists() else {}
    drugs = _mirror() / "drugs"
    with open(drugs / "drugcentral_fda_approved.csv") as fh:
        approved = {row[0].strip() for row in csv.reader(fh) if row}
    with open(drugs / "drugcentral_structures.smiles.tsv") as fh:
        rows = [r for r in csv.DictReader(fh, delimiter="\t") if r["ID"] in approved and r["SMILES"]]
    rows.sort(key=lambda r: int(r["ID"]))
    todo = [r for r in rows[::stride] if r["ID"] not in out]
    t0 = time.time()
    for k, r in enumerate(todo, 1):
        try:
            out[r["ID"]] = (r["SMILES"], prepare_ligand(r["SMILES"], name=r["ID"]))
        except Exception as exc:  # a drug the protocol refuses: not docked by a campaign either
            out[r["ID"]] = (r["SMILES"], str(exc))
        if k % 25 == 0 or k == len(todo):
            work.mkdir(parents=True, exist_ok=True)
            cache.write_bytes(pickle.dumps(out))
            print(f"prepared {k}/{len(todo)} ({time.time() - t0:.0f} s)", flush=True)
    return out


def _topologies(lib: dict[str, Any]) -> dict[str, Any]:
    from docking.engines.torch_engine.pdbqt import parse_ligand_pdbqt
    from docking.engines.torch_engine.topology import build_topology

    return {k: build_topology(parse_ligand_pdbqt(p.variants[0].pdbqt)) for k, (_, p) in lib.items()
            if not isinstance(p, str)}


def _campaign_tasks(ids: list[str], smiles: dict[str, str], task: int, ordered: bool) -> list[list[str]]:
    """One receptor's tasks of ``task`` drugs as ``jobs.run._batches`` cuts them (one worker)."""
    from jobs.run import _batches, _Plan, _work

    num = {k: i for i, k in enumerate(ids)}
    plan = _Plan(1, "bench", "torch", {}, 42, {}, {num[k]: smiles[k] for k in ids}, [(0, num[k]) for k in ids],
                 len(ids))
    batches = _batches(plan, task, 1, _work(plan) if ordered else None)
    return [[ids[d] for d in drugs] for _, drugs in batches]


def _ticks(tops: dict[str, Any], mode: str, cuda: bool = False) -> dict[str, int]:
    """Each ligand's planned ticks in ``mode`` (as ``TorchDocker.planned_ticks``) in a compiled batch
    on a CPU or on CUDA, with that device's Monte Carlo bookkeeping period (``docker.bookkeeping_period``)."""
    from docking.engines.torch_engine.docker import bookkeeping_period, planned_ticks
    from docking.engines.torch_engine.modes import MODES, Budget

    budget = Budget(mode=mode, ladder=MODES[mode].ladder)
    period = bookkeeping_period(0, compiled=True, cuda=cuda)
    return {k: planned_ticks(budget, t, period) for k, t in tops.items()}


def _spent(tasks: list[list[str]], tops: dict[str, Any], ticks: dict[str, int], cap: int) -> tuple[int, int, int, int]:
    """Pose-ticks the engine's compiled batches of ``tasks`` evaluate (per chain), the ticks the ligands
    need, the ticks the batches run, and the number of batches."""
    from docking.engines.torch_engine.docker import padded_size, plan_batches

    spent = needed = run = n = 0
    for t in tasks:
        for b in plan_batches([tops[k] for k in t], [ticks[k] for k in t], cap, compiled=True):
            longest = max(ticks[t[i]] for i in b)
            spent += padded_size(len(b)) * longest
            run += longest
            needed += sum(ticks[t[i]] for i in b)
            n += 1
    return spent, needed, run, n


def count(work: Path, stride: int, mode: str) -> dict[str, Any]:
    """Pose-ticks evaluated against needed, CPU and CUDA rules, library order against work order."""
    lib = library(work, stride)
    tops = _topologies(lib)
    ids = sorted(tops, key=int)
    smiles = {k: lib[k][0] for k in ids}
    ticks = _ticks(tops, mode)
    print(f"{len(ids)} of {len(lib)} sampled drugs prepared; planned ticks ({mode}) min {min(ticks.values())}, "
          f"median {sorted(ticks.values())[len(ids) // 2]}, max {max(ticks.values())}")
    rows: dict[str, Any] = {}
    for rule, task, cap in (("CPU", 64, 8), ("CUDA", 1024, 512)):
        ticks = _ticks(tops, mode, cuda=rule == "CUDA")
        # CUDA: tasks and batches scaled to the sample, so a batch ordered by search work covers the
        # share of the library's size range that it covers in a whole-library campaign (a batch in
        # library order then holds fewer random draws than 512, so its waste is underestimated);
        # CPU: the engine's 8, and tasks of 64 (in library order exact; by search work a task then
        # spans a wider share of the range than in a whole-library campaign: waste overestimated)
        scale = stride if rule == "CUDA" else 1
        task_n, cap_n = max(1, round(task / scale)), max(1, round(cap / scale))
        for ordered in (False, True):
            spent, needed, run, n_batches = _spent(_campaign_tasks(ids, smiles, task_n, ordered), tops, ticks, cap_n)
            order = "by search work" if ordered else "library order"
            label = f"{rule}, tasks of {task_n}, batches of <= {cap_n}, {order}"
            rows[label] = {"spent": spent, "needed": needed, "useful": needed / spent, "batches": n_batches,
                           "ticks_run": run}
            print(f"{label:66s} batches {n_batches:3d}  useful share {needed / spent:.3f}  pose-ticks {spent:.3e}"
                  f"  ticks run {run:.3e}", flush=True)
        a, b = (rows[k] for k in list(rows)[-2:])
        print(f"{rule}: ordered by search work, {b['spent'] / a['spent']:.3f}x the pose-ticks of library order (the "
              f"time of a CPU or of a saturated GPU), {b['ticks_run'] / a['ticks_run']:.3f}x the ticks run (of a "
              "launch-bound GPU)")
    return rows


def timed(work: Path, stride: int, n: int, task: int, mode: str, max_heavy: int) -> dict[str, Any]:
    """CPU seconds per ligand of campaign tasks docked in library order and by search work."""
    import torch

    sys.path.insert(0, str(ROOT / "bench"))
    from bench_torch_engine import _boxes

    from docking.engines.torch_engine.engine import TorchEngine
    from docking.pocket import Box

    torch.set_num_threads(1)
    lib = library(work, stride)
    ids = [k for k in sorted(lib, key=int) if not isinstance(lib[k][1], str) and lib[k][1].n_heavy <= max_heavy][:n]
    smiles = {k: lib[k][0] for k in ids}
    rec = (ROOT / ".dockdb" / "bench_torch" / "receptors" / "protease.pdbqt").read_text()
    box = Box(*_boxes()["protease"])
    eng = TorchEngine(device="cpu", mode=mode, compile="on")
    eng._grid(rec, box)
    orders = {"library order": _campaign_tasks(ids, smiles, task, False),
              "by search work": _campaign_tasks(ids, smiles, task, True)}
    tops = _topologies({k: lib[k] for k in ids})
    ticks = _ticks(tops, mode)
    counted = {k: _spent(v, tops, ticks, 8) for k, v in orders.items()}
    for k, (spent, needed, _, _) in counted.items():
        print(f"{k}: pose-ticks {spent:.4e}, useful share {needed / spent:.3f}")
    print(f"by search work, counted: {counted['by search work'][0] / counted['library order'][0]:.3f}x the pose-ticks")
    cpu: dict[str, list[float]] = {k: [] for k in orders}
    best: dict[str, dict[str, float]] = {k: {} for k in orders}
    for rnd in range(3):
        for label in (list(orders) if rnd != 2 else list(orders)[::-1]):
            c0 = time.process_time()
            for t in orders[label]:
                for k, r in zip(t, eng.dock(rec, box, [lib[k][1] for k in t], seed=42), strict=True):
                    best[label][k] = r.best_score
            dt = (time.process_time() - c0) / len(ids)
            print(f"round {rnd} ({'warm: compiles or loads each shape' if rnd == 0 else 'timed'}): {label}: "
                  f"{dt:.2f} CPU s per ligand", flush=True)
            if rnd:
                cpu[label].append(dt)
    a, b = (sum(v) / len(v) for v in cpu.values())
    diff = [abs(best["library order"][k] - best["by search work"][k]) for k in ids]
    print(f"{len(ids)} drugs ({mode}, tasks of {task}): library order {a:.2f}, by search work {b:.2f} CPU s per "
          f"ligand, {b / a:.3f}x; best scores differ by {max(diff):.2f} at most (mean {sum(diff) / len(diff):.3f})")
    return {"cpu_s": cpu, "ratio": b / a, "max_score_diff": max(diff),
            "pose_ticks": {k: v[0] for k, v in counted.items()}}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("part", choices=("count", "time"))
    ap.add_argument("--workdir", default=str(ROOT / ".dockdb" / "bench_plan"))
    ap.add_argument("--stride", type=int, default=6)
    ap.add_argument("--mode", default=None, help="search mode (count: balanced, time: fast)")
    ap.add_argument("--n", type=int, default=24)
    ap.add_argument("--task", type=int, default=8)
    ap.add_argument("--max-heavy", type=int, default=40)
    args = ap.parse_args(argv)
    work = Path(args.workdir)
    if args.part == "count":
        out = count(work, args.stride, args.mode or "balanced")
    else:
        out = timed(work, args.stride, args.n, args.task, args.mode or "fast", args.max_heavy)
    work.mkdir(parents=True, exist_ok=True)
    with open(work / "results.jsonl", "a") as fh:
        fh.write(json.dumps({"part": args.part, "args": vars(args), "result": out}) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
