"""Torch engine 1.0 against engine 0.2 and AutoDock Vina 1.2, side by side in one run.

    .venv/bin/python bench/bench_torch_engine.py prep                 # prepared receptors + 20 drugs
    .venv/bin/python bench/bench_torch_engine.py vina --parts screen --cpu 1   # Vina exh 8 best scores
    git worktree add /tmp/engine-0.2 56e28b5                          # engine 0.2, for "before" rows
    .venv/bin/python bench/bench_torch_search.py ops --old-tree /tmp/engine-0.2
    .venv/bin/python bench/bench_torch_search.py convergence --modes fast,balanced,detail
    .venv/bin/python bench/bench_torch_search.py cost --n 6 --old-tree /tmp/engine-0.2
    git worktree add /tmp/engine-1.0-lockstep 5af9e74                # 1.0 before ticks
    .venv/bin/python bench/bench_torch_search.py cost --n 3 --other-tree /tmp/engine-1.0-lockstep --singles-only
    .venv/bin/python bench/bench_torch_search.py variants --modes fast --targets protease --seed 7 \
        --variants '{"1.1": {"abort_margin": Infinity}, "margin 2": {"abort_margin": 2.0}}'
    .venv/bin/python bench/bench_torch_search.py throughput --device cuda --batches 64,512,2048
    .venv/bin/python bench/bench_torch_search.py vina-noise --seed 42 --exhaustiveness 1   # Vina at 1/8 budget
    .venv/bin/python bench/bench_torch_search.py vina-noise --seed 7                       # a second Vina run
    .venv/bin/python bench/bench_torch_search.py agreement   # each search against each Vina run

* ``ops``: ATen operations (~ GPU kernels) and bytes written per energy-and-gradient
  evaluation, and host synchronisations / host->device copies per Monte Carlo step.
* ``convergence``: best score per drug in the focused 3CLpro, PLpro and TMPRSS2 pockets, each
  mode vs Vina exhaustiveness 8 on the same prepared inputs (Vina's results are read from
  ``bench_torch_engine.py``'s cache, which ran them): Spearman, mean and worst difference.
* ``cost``: CPU seconds per ligand (process CPU time, 1 thread), each drug docked by every engine in turn
  (Vina exh 8, engine 0.2 defaults, 1.0 eager and compiled), so all rows share the machine's
  state; the ratios to Vina are the figures.
* ``throughput``: ligands per second at several batch sizes (the 20 drugs repeated).
* ``agreement``: every ``variants`` search and every Vina run (``vina-noise`` at other seeds)
  against each Vina exhaustiveness-8 run of the same pocket, and Vina against itself
  (``bench/search_agreement.py``; docks nothing).

Results are appended to ``<workdir>/search_bench.json``; ``report`` prints Markdown rows.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
# engine 0.2 rows run this script in a subprocess with the old checkout first on the path
sys.path.insert(0, os.environ.get("DOCKDB_BENCH_TREE", str(ROOT)))
TARGETS = ("protease", "papainlike", "TMPRSS2")


def _load(path: Path) -> Any:
    return json.loads(path.read_text()) if path.exists() else {}


def _record(work: Path, key: str, value: Any) -> None:
    path = work / "search_bench.json"
    data = _load(path)
    data[key] = value
    path.write_text(json.dumps(data, indent=1))


def _boxes() -> dict[str, tuple[list[float], list[float]]]:
    import csv

    mirror = Path(os.environ.get("DOCKDB_MIRROR", ROOT.parent / "shared" / "data"))
    out = {}
    with open(mirror / "targets" / "pockets.tsv") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            out[row["target_key"]] = ([float(v) for v in row["box_center_xyz"].split(",")],
                                      [float(v) for v in row["box_size_xyz"].split(",")])
    return out


def _ligands(work: Path, n: int) -> list[Any]:
    from docking.ligand import LigandVariant, PreparedLigand

    ligs = _load(work / "ligands.json")
    return [
        PreparedLigand(name=k, input_smiles=v["smiles"], smiles=v["smiles"],
                       variants=(LigandVariant(v["smiles"], v["pdbqt"], "", 0, v["n_heavy"]),),
                       n_heavy=v["n_heavy"], n_rotatable=v["n_rotatable"], input_hash=k)
        for k, v in sorted(ligs.items())[:n]
    ]


# -- ops ---------------------------------------------------------------------------------------
def _count_ops(fn: Any) -> tuple[int, int]:
    """ATen ops and bytes of tensors they produced during ``fn()``."""
    import torch
    from torch.utils._python_dispatch import TorchDispatchMode

    class Counter(TorchDispatchMode):
        ops = 0
        nbytes = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
            out = func(*args, **(kwargs or {}))
            Counter.ops += 1
            for t in out if isinstance(out, tuple | list) else (out,):
                if isinstance(t, torch.Tensor):
                    Counter.nbytes += t.numel() * t.element_size()
            return out

    with Counter():
        fn()
    return Counter.ops, Counter.nbytes


def ops_new(work: Path, chains: int = 64) -> dict[str, Any]:
    """Ops per evaluation and syncs per tick of engine 1.0 (first drug, 3CLpro, ``chains`` poses)."""
    import torch

    from docking.engines.torch_engine.batch import LigandBatch
    from docking.engines.torch_engine.energy import energy_grad
    from docking.engines.torch_engine.grids import ReceptorGrid
    from docking.engines.torch_engine.kinematics import pose_consts
    from docking.engines.torch_engine.pdbqt import parse_ligand_pdbqt, parse_receptor_pdbqt
    from docking.engines.torch_engine.search import HUNT_CAP, SearchParams, mc_tick, new_search
    from docking.engines.torch_engine.topology import build_topology

    lig = _ligands(work, 1)[0]
    box = _boxes()["protease"]
    grid = ReceptorGrid(parse_receptor_pdbqt((work / "receptors" / "protease.pdbqt").read_text()), *box)
    batch = LigandBatch.build([build_topology(parse_ligand_pdbqt(lig.variants[0].pdbqt))])
    grid.ensure(batch.types())
    gc, slots = grid.consts(batch.types(), 10.0)
    c = pose_consts(batch, torch.zeros(chains, dtype=torch.long), slots, grid.n_points)
    state = new_search(c, torch.tensor(grid.center), torch.tensor(grid.size), torch.arange(chains) * 7 + 1,
                       torch.full((chains,), 10**6), 8)
    state = mc_tick(c, gc, state, SearchParams())
    n_ops, n_bytes = _count_ops(lambda: energy_grad(c, gc, state.ch.pos, state.ch.quat, state.ch.tors, HUNT_CAP,
                                                    HUNT_CAP))
    tick_ops, _b = _count_ops(lambda: mc_tick(c, gc, state, SearchParams()))
    # one Monte Carlo step's worth of ticks: evaluations per step as the search spends them
    n_ticks = 40
    syncs = _count_syncs(lambda: _ticks(c, gc, state, n_ticks))
    return {"engine": "1.0", "ligand": lig.name, "poses": chains, "ops_per_eval": n_ops, "ops_per_tick": tick_ops,
            "bytes_per_pose_eval": n_bytes // chains, "syncs_per_step": syncs[0] / n_ticks * 40,
            "h2d_per_step": syncs[1] / n_ticks * 40}


def _ticks(c: Any, gc: Any, state: Any, n: int) -> Any:
    from docking.engines.torch_engine.search import SearchParams, mc_tick

    for _ in range(n):
        state = mc_tick(c, gc, state, SearchParams())
    return state


def _count_syncs(fn: Any) -> tuple[int, int]:
    """Host synchronisations and host->device copies made by ``fn()``."""
    from torch_syncs import SyncCounter  # this script's directory (also on the path for engine 0.2 runs)

    with SyncCounter() as counter:
        fn()
    return counter.syncs, counter.copies


def ops_old(work: Path, chains: int = 64) -> dict[str, Any]:
    """The same figures for engine 0.2 (run with ``--old-tree`` first on sys.path)."""
    import torch
    from docking.engines.torch_engine.pose import LigandBatch, PoseContext

    from docking.engines.torch_engine.grids import ReceptorGrid
    from docking.engines.torch_engine.pdbqt import parse_ligand_pdbqt, parse_receptor_pdbqt
    from docking.engines.torch_engine.scoring import HUNT_CAP_INTER, HUNT_CAP_INTRA
    from docking.engines.torch_engine.search import SearchParams, make_draws, make_energy, monte_carlo
    from docking.engines.torch_engine.topology import build_topology

    lig = _ligands(work, 1)[0]
    box = _boxes()["protease"]
    grid = ReceptorGrid(parse_receptor_pdbqt((work / "receptors" / "protease.pdbqt").read_text()), *box)
    top = build_topology(parse_ligand_pdbqt(lig.variants[0].pdbqt))
    batch = LigandBatch.build([top])
    flat, slots = grid.flat_maps(batch.types())
    ctx = PoseContext(batch, torch.zeros(chains, dtype=torch.long), slots)
    draws = make_draws([1], chains, 3, [top.n_torsions], batch.n_torsions_max, torch.device("cpu"), torch.float32)
    from docking.engines.torch_engine.search import random_state

    state = random_state(ctx, grid, draws)
    f = make_energy(ctx, grid, state, exact=False, cap_inter=HUNT_CAP_INTER, cap_intra=HUNT_CAP_INTRA,
                    slope=10.0, flat=flat)
    d = torch.zeros((chains, 6 + batch.n_torsions_max))
    n_ops, n_bytes = _count_ops(lambda: f(d))
    params = SearchParams(chains=chains, steps=3)
    syncs = _count_syncs(lambda: monte_carlo(ctx, grid, flat, params, draws))
    return {"engine": "0.2", "ligand": lig.name, "poses": chains, "ops_per_eval": n_ops,
            "bytes_per_pose_eval": n_bytes // chains, "syncs_per_step": syncs[0] / 3, "h2d_per_step": syncs[1] / 3}


def _in_tree(tree: str, func: str, work: Path) -> dict[str, Any]:
    """Run ``func`` of this script with ``tree`` first on the import path (engine 0.2)."""
    code = (f"import sys; sys.path.insert(0, {tree!r}); sys.path.insert(1, {str(ROOT / 'bench')!r}); "
            f"import json, pathlib, bench_torch_search as b; "
            f"print(json.dumps(b.{func}(pathlib.Path({str(work)!r}))))")
    env = {**os.environ, "PYTHONPATH": tree, "OMP_NUM_THREADS": "1", "DOCKDB_BENCH_TREE": tree}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tree, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


# -- docking runs --------------------------------------------------------------------------------
def dock_torch(work: Path, target: str, ligs: list[Any], params: dict[str, Any]) -> dict[str, Any]:
    """Dock ``ligs`` with the torch engine in this process; best scores, poses, seconds."""
    import torch

    from docking.engines.torch_engine.engine import TorchEngine
    from docking.pocket import Box

    torch.set_num_threads(1)
    rec = (work / "receptors" / f"{target}.pdbqt").read_text()
    eng = TorchEngine(device=params.pop("device", "cpu"), **params)
    box = Box(*_boxes()[target])
    t0 = time.perf_counter()
    eng._grid(rec, box)  # maps: timed separately, as Vina's compute_vina_maps
    t_maps = time.perf_counter() - t0
    t0, c0 = time.perf_counter(), time.process_time()
    res = eng.dock(rec, box, ligs, seed=42)
    dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    from docking.engines.torch_engine.compiled import compile_seconds

    docker = getattr(eng, "last_docker", None)
    steps = getattr(docker, "steps_run", None) or []  # mean Monte Carlo steps per chain (1.0 ticks)
    planned = getattr(docker, "steps_planned", None) or []
    return {"best": {r.name: r.best_score for r in res}, "poses": {r.name: len(r.poses) for r in res},
            "seconds": dt, "cpu_s": cpu, "maps_s": t_maps, "compile_s": compile_seconds(), "version": eng.version,
            "steps_run": steps, "steps_planned": planned}


def dock_vina(work: Path, target: str, ligs: list[Any], seed: int = 42, exhaustiveness: int = 8) -> dict[str, Any]:
    from vina import Vina

    c, s = _boxes()[target]
    v = Vina(sf_name="vina", cpu=1, seed=seed, verbosity=0)
    v.set_receptor(str(work / "receptors" / f"{target}.pdbqt"))
    t0 = time.perf_counter()
    v.compute_vina_maps(center=c, box_size=s)
    t_maps = time.perf_counter() - t0
    best, poses, secs = {}, {}, 0.0
    for lig in ligs:
        v.set_ligand_from_string(lig.variants[0].pdbqt)
        t0 = time.process_time()  # 1 thread: CPU time, which other jobs on the machine do not inflate
        v.dock(exhaustiveness=exhaustiveness, n_poses=9)
        secs += time.process_time() - t0
        e = v.energies(n_poses=9)
        best[lig.name], poses[lig.name] = float(e[0][0]), len(e)
    return {"best": best, "poses": poses, "seconds": secs, "maps_s": t_maps, "version": "vina 1.2"}


def mode_params(spec: str) -> dict[str, Any]:
    """Engine parameters of a ``--modes`` entry: ``fast``, ``fast@5`` for a mode at another
    exhaustiveness (the mode's budget scaled by 5 / 8, as ``dockdb dock --exhaustiveness`` does), and
    engine parameters after colons as ``dockdb validate redock --engine`` takes them, e.g.
    ``balanced:stall=0:exhaustiveness=6`` (engine 1.10's ``balanced``)."""
    from dockdb.errors import DockDBError
    from docking.engines.torch_engine.engine import TorchEngine
    from jobs.validation.redock import engine_spec

    head, _, extra = spec.partition(":")
    mode, _, exh = head.partition("@")
    if exh and not exh.isdigit():
        raise SystemExit(f"error: --modes entry {spec!r}: after @ comes an exhaustiveness, e.g. fast@5")
    try:  # checked here, before any docking: a bad entry is one line, not a traceback after Vina's runs
        params = {"mode": mode, **({"exhaustiveness": int(exh)} if exh else {}),
                  **(engine_spec(f"torch:{extra}")[1] if extra else {})}
        TorchEngine(device="cpu", **params)
    except DockDBError as e:
        raise SystemExit(f"error: --modes entry {spec!r}: {e}") from e
    return params


def convergence(work: Path, modes: list[str], n: int, targets: list[str], device: str = "cpu",
                compile_: str = "") -> None:
    from scipy.stats import spearmanr

    vina = _load(work / "vina_screen.json").get("screen", {})
    ligs = _ligands(work, n)
    for mode in modes:
        for target in targets:
            ref = {k.split("|")[1]: v["best"] for k, v in vina.items() if k.startswith(f"{target}|")}
            r = dock_torch(work, target, ligs, {**mode_params(mode), "device": device, "max_batch": max(64, len(ligs)),
                                                "compile": compile_ or ("off" if device == "cpu" else "auto")})
            names = [k for k in r["best"] if k in ref and r["best"][k] is not None]
            d = np.array([r["best"][k] - ref[k] for k in names])
            row = {"target": target, "mode": mode, "n": len(names),
                   "spearman": float(spearmanr([r["best"][k] for k in names], [ref[k] for k in names]).statistic)
                   if len(names) > 2 else None,
                   "mean_diff": float(d.mean()) if len(d) else None, "worst": float(d.max()) if len(d) else None,
                   "over_0_5": int((d > 0.5).sum()), "mean_poses": float(np.mean([r["poses"][k] for k in names])),
                   "s_per_ligand": r["seconds"] / len(ligs), **{k: r[k] for k in ("best", "poses")},
                   "steps_run_over_planned": float(np.sum(r["steps_run"]) / np.sum(r["steps_planned"]))
                   if r["steps_planned"] else None}
            row["compile"], row["version"], row["cpu_s_per_ligand"] = compile_ or "default", r["version"], \
                r["cpu_s"] / len(ligs)
            row["compile_s"] = r["compile_s"]  # cumulative over this process: the first mode's compile
            _record(work, f"convergence|{device}|{target}|{mode}" + (f"|compile {compile_}" if compile_ else ""), row)
            nan = float("nan")  # no Vina reference, or too few drugs for a rank correlation
            rho, mean, worst = (nan if row[k] is None else row[k] for k in ("spearman", "mean_diff", "worst"))
            print(f"{target:11s} {mode:9s} n={row['n']} rho={rho:.3f} mean {mean:+.3f} "
                  f"worst {worst:+.2f} >0.5: {row['over_0_5']} poses {row['mean_poses']:.1f} "
                  f"{row['s_per_ligand']:.1f} s/lig (compiling so far {row['compile_s']:.0f} s)", flush=True)


def _dock_in_tree(tree: str, work: Path, target: str, name: str, params: dict[str, Any], clock: str = "cpu") -> float:
    """Seconds to dock drug ``name`` with the torch engine of checkout ``tree`` in a process of
    its own (1 thread): its CPU time, or with ``clock="wall"`` the wall time of the docking call,
    which also counts inductor's compile workers (what a user of ``dockdb dock`` waits)."""
    code = _OLD_DOCK.format(tree=tree, work=str(work), target=target, name=name, bench=str(ROOT / "bench"),
                            params=json.dumps(params))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "OMP_NUM_THREADS": "1", "DOCKDB_BENCH_TREE": tree}, cwd=tree)
    if out.returncode != 0:
        last = (out.stderr.strip().splitlines() or ["no output"])[-1]
        raise SystemExit(f"docking {name} with the torch engine of {tree} failed: {last}; "
                         "check that the checkout runs (its own tests) with this venv")
    cpu, wall = (float(x) for x in out.stdout.strip().splitlines()[-1].split())
    return wall if clock == "wall" else cpu


def _tree_rev(tree: str) -> str:
    """Short commit of checkout ``tree`` (its label in the rows), or a one-line error."""
    out = subprocess.run(["git", "-C", tree, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"--other-tree {tree}: not a git checkout ({out.stderr.strip()}); "
                         "make one with git worktree add DIR COMMIT")
    if not (Path(tree) / "docking" / "engines" / "torch_engine" / "engine.py").is_file():
        raise SystemExit(f"--other-tree {tree}: this checkout has no torch engine "
                         "(docking/engines/torch_engine/engine.py); pick a commit from engine 1.0 on")
    return out.stdout.strip()


def cost(work: Path, n: int, old_tree: str | None, target: str = "protease", other_tree: str | None = None,
         vina: bool = True, batches: bool = True, singles: bool = True,
         modes: tuple[str, ...] = ("fast", "balanced"), eager: bool = True, auto: bool = False) -> None:
    """Each of ``n`` drugs through every engine in turn (1 thread), then the same drugs as one
    batch (eager, and compiled with the compile run first and timed apart); seconds per ligand,
    and each row's best scores against Vina's from the same run.  ``auto``: each drug also
    docked alone the way ``dockdb dock`` does it, a process of its own with ``compile=auto``
    (wall seconds, compiling included: the first drug of a shape compiles unless the on-disk
    cache has it)."""
    ligs = _ligands(work, n)
    rows: dict[str, list[float]] = {}
    bests: dict[str, dict[str, float]] = {}
    other_rev = _tree_rev(other_tree) if other_tree else ""
    configs: list[tuple[str, dict[str, Any]]] = [
        (f"torch 1.x {mode}, one ligand per call", {**mode_params(mode), "compile": "off"}) for mode in modes
    ] if singles else []
    for lig in ligs:
        if vina:
            r = dock_vina(work, target, [lig])
            rows.setdefault("vina exh 8", []).append(r["seconds"])
            bests.setdefault("vina exh 8", {}).update(r["best"])
            _keep_vina_reference(work, target, lig.name, r)
        if old_tree:
            rows.setdefault("torch 0.2 defaults", []).append(_dock_in_tree(old_tree, work, target, lig.name, {}))
        if other_tree:  # an earlier 1.x checkout, e.g. 1.0 before ticks (every chain waited for the slowest)
            for mode in modes:
                rows.setdefault(f"torch at {other_rev} {mode}, one ligand per call", []).append(
                    _dock_in_tree(other_tree, work, target, lig.name, {"mode": mode, "compile": "off"}))
        for mode in modes if auto else ():
            rows.setdefault(f"torch 1.x {mode}, one ligand per process, compile=auto (wall s)", []).append(
                _dock_in_tree(str(ROOT), work, target, lig.name, {"mode": mode}, clock="wall"))
        for name, params in configs:
            r = dock_torch(work, target, [lig], dict(params))
            rows.setdefault(name, []).append(r["cpu_s"])
            bests.setdefault(name, {}).update(r["best"])
        print(lig.name, {k: round(x[-1], 2) for k, x in rows.items()}, flush=True)
    summary = {k: float(np.mean(x)) for k, x in rows.items()}
    for mode in modes if batches else ():
        name = f"torch 1.x {mode}, {len(ligs)} ligands in one call"
        if eager:
            r = dock_torch(work, target, ligs, {**mode_params(mode), "compile": "off", "max_batch": len(ligs)})
            summary[f"{name} (eager)"] = r["cpu_s"] / len(ligs)
            bests[f"{name} (eager)"] = r["best"]
        first = dock_torch(work, target, ligs, {**mode_params(mode), "compile": "on", "max_batch": len(ligs)})
        again = dock_torch(work, target, ligs, {**mode_params(mode), "compile": "on", "max_batch": len(ligs)})
        summary[f"{name} (compiled)"] = again["cpu_s"] / len(ligs)
        bests[f"{name} (compiled)"] = again["best"]
        # wall time of the calls that compiled a graph (inductor's compilers run in subprocesses,
        # outside this process's CPU time); 0 where every graph came from the on-disk cache
        summary[f"compile time, {mode} (s, first call only)"] = first["compile_s"]
        print(summary, flush=True)
    agree = {k: _agreement(b, bests["vina exh 8"]) for k, b in bests.items() if "vina exh 8" in bests}
    _record(work, f"cost|{target}|{len(ligs)}|{','.join(modes)}",
            {"n": len(ligs), "mean_s": summary, "all": rows, "best": bests, "vs_vina": agree})
    base = summary.get("vina exh 8") or next(iter(summary.values()))  # ratios to Vina, else to the first row
    print("| run | CPU s / ligand | × Vina | Spearman | mean Δ | worst Δ | > 0.5 |")
    for k, v in summary.items():
        if k.startswith("compile"):
            print(f"| {k} | {v:.1f} | | | | | |")
            continue
        a = agree.get(k, {})
        nan = float("nan")
        rho, mean, worst = (a.get(f) if a.get(f) is not None else nan for f in ("spearman", "mean_diff", "worst"))
        print(f"| {k} | {v:.2f} | {v / base:.3f} | {rho:.2f} | {mean:+.2f} | {worst:+.2f} | {a.get('over_0_5', '')} |")


def _keep_vina_reference(work: Path, target: str, name: str, r: dict[str, Any]) -> None:
    """Add a Vina exhaustiveness-8 best score from ``cost`` to ``vina_screen.json`` where that
    drug has none, so ``variants`` and ``convergence`` compare with it later."""
    path = work / "vina_screen.json"
    data = _load(path)
    screen = data.setdefault("screen", {})
    if f"{target}|{name}" not in screen:
        screen[f"{target}|{name}"] = {"best": r["best"][name], "time_s": r["seconds"], "cpu": 1, "from": "cost"}
        path.write_text(json.dumps(data, indent=1))


def vina_noise(work: Path, targets: list[str], n: int, seed: int, exhaustiveness: int = 8) -> None:
    """Vina with another seed (and/or a smaller ``exhaustiveness``) against the exhaustiveness-8
    reference run (seed 42) of ``vina_screen.json``: how closely Vina reproduces its own best
    scores and ranking, the ceiling for any engine's agreement with one Vina run; at
    exhaustiveness 1 (one chain, 1/8 of the reference's steps) how Vina's own search does on
    about the share of its steps that the torch engine's modes run."""
    ligs = _ligands(work, n)
    vina = _load(work / "vina_screen.json").get("screen", {})
    for target in targets:
        ref = {k.split("|")[1]: v["best"] for k, v in vina.items() if k.startswith(f"{target}|")}
        r = dock_vina(work, target, ligs, seed=seed, exhaustiveness=exhaustiveness)
        row = {**_agreement(r["best"], ref), "mean_abs_diff": float(np.mean([abs(r["best"][k] - ref[k])
                                                                           for k in r["best"] if k in ref])),
               "cpu_s_per_ligand": r["seconds"] / len(ligs), "best": r["best"]}
        label = f"seed {seed}" + (f", exhaustiveness {exhaustiveness}" if exhaustiveness != 8 else "")
        _record(work, f"vina_noise|{target}|{label}", row)
        shown = {k: v for k, v in row.items() if k != "best"}
        print(f"{target}: Vina {label} vs exhaustiveness 8, seed 42: " + json.dumps(shown), flush=True)


def _agreement(best: dict[str, float], ref: dict[str, float]) -> dict[str, Any]:
    """Spearman, mean and worst (torch - Vina) best-score difference over the common drugs
    (``search_agreement.agreement``); empty where fewer than 3 drugs are in common."""
    from search_agreement import agreement

    try:
        a = agreement(best, ref)
    except ValueError:
        return {}
    return {"n": a.n, "spearman": a.spearman, "mean_diff": a.mean_diff, "worst": a.worst, "over_0_5": a.over}


_OLD_DOCK = """
import sys, time, json, pathlib
sys.path.insert(0, {tree!r}); sys.path.insert(1, {bench!r})
import torch; torch.set_num_threads(1)
import bench_torch_search as b
from docking.engines.torch_engine.engine import TorchEngine
from docking.pocket import Box
work = pathlib.Path({work!r})
lig = [x for x in b._ligands(work, 100) if x.name == {name!r}]
rec = (work / "receptors" / "{target}.pdbqt").read_text()
eng = TorchEngine(device="cpu", **json.loads({params!r})); box = Box(*b._boxes()["{target}"]); eng._grid(rec, box)
t0, w0 = time.process_time(), time.perf_counter(); eng.dock(rec, box, lig, seed=42)
print(time.process_time() - t0, time.perf_counter() - w0)
"""


def variants(work: Path, target: str, mode: str, n: int, spec: dict[str, dict[str, Any]], seed: int,
             only: list[str] | None = None) -> None:
    """Search variants one after the other in this process, all ``n`` drugs in one call: each sets
    ``SearchParams`` fields (e.g. ``{"abort_margin": Infinity}``), the docker's ``compile``
    ("off" unless given) and ``period`` (bookkeeping every this many ticks), ``chains`` per ligand
    (same total steps), and/or the mode's ``fraction`` of Vina exhaustiveness 8's steps;
    CPU, steps run over planned, each drug's best score,
    and agreement with Vina's exhaustiveness-8 run of ``vina_screen.json``; ``only``: just those
    drugs of the first ``n``."""
    import dataclasses

    import torch

    from docking.engines.torch_engine.engine import TorchEngine
    from docking.pocket import Box

    torch.set_num_threads(1)
    ligs = [x for x in _ligands(work, n) if not only or x.name in only]
    rec = (work / "receptors" / f"{target}.pdbqt").read_text()
    box = Box(*_boxes()[target])
    vina = {k.split("|")[1]: v["best"] for k, v in _load(work / "vina_screen.json").get("screen", {}).items()
            if k.startswith(f"{target}|")}
    docker_fields = ("compile", "period")
    for name, over in spec.items():
        eng = TorchEngine(device="cpu", mode=mode, compile="off")
        make = eng._docker

        def patched(grid: Any, make: Any = make, over: dict[str, Any] = over) -> Any:
            docker = make(grid)
            for k in docker_fields:
                if k in over:
                    setattr(docker, k, over[k])
            if "chains" in over:  # the mode's share of Vina's steps over this many chains per ligand
                docker.budget = dataclasses.replace(docker.budget, chains=over["chains"])
            if "fraction" in over:  # this share of Vina exhaustiveness 8's steps instead of the mode's
                docker.budget = dataclasses.replace(docker.budget, fraction=float(over["fraction"]))
            docker.params = dataclasses.replace(docker.params, **{k: v for k, v in over.items()
                                                                  if k not in (*docker_fields, "chains", "fraction")})
            return docker

        eng._docker = patched  # type: ignore[method-assign]
        eng._grid(rec, box)
        c0 = time.process_time()
        res = eng.dock(rec, box, ligs, seed=seed)
        cpu = time.process_time() - c0
        d = eng.last_docker
        from docking.engines.torch_engine.compiled import compile_seconds

        best = {r.name: r.best_score for r in res}
        row = {"cpu_s_per_ligand": cpu / len(ligs), "steps_run_over_planned": sum(d.steps_run) / sum(d.steps_planned),
               "stale_tail": sum(d.stale_tail) / len(d.stale_tail),
               "compile_s_so_far": compile_seconds(), "best": best, "poses": {r.name: len(r.poses) for r in res},
               **_agreement(best, vina)}
        _record(work, f"variants|{target}|{mode}|{seed}|{name}" + (f"|{len(ligs)} drugs" if only else ""), row)
        print(f"{name}: {json.dumps(row)}", flush=True)


def throughput(work: Path, device: str, batches: list[int], mode: str) -> None:
    """Ligands per second at each batch size (the 20 drugs repeated), with and without the
    compile of the batch's new shape.  (Inductor's own CUDA graphs, ``triton.cudagraphs``, failed
    on the search loop, whose every tick reads the last tick's outputs: "accessing tensor output of
    CUDAGraphs that has been overwritten"; the engine captures its ticks itself, graphs.py.)"""
    base = _ligands(work, 20)
    done = 0.0
    for size in batches:
        ligs = [base[i % len(base)] for i in range(size)]
        ligs = [type(x)(**{**x.__dict__, "name": f"{x.name}#{i}", "input_hash": f"{x.name}#{i}"})
                for i, x in enumerate(ligs)]
        r = dock_torch(work, "protease", ligs, {"mode": mode, "device": device, "compile": "auto",
                                                "max_batch": size})
        # compile_s: wall time of the calls that compiled this batch's new shape (cumulative over
        # the process, so the share of this call is the increase since the last batch)
        compiled = r["compile_s"] - done
        done = r["compile_s"]
        rate, warm = size / r["seconds"], size / max(r["seconds"] - compiled, 1e-9)
        _record(work, f"throughput|{device}|{mode}|{size}", {
            "ligands_per_s": rate, "ligands_per_s_without_compile": warm, "seconds": r["seconds"],
            "compile_s": compiled, "mean_poses": float(np.mean(list(r["poses"].values())))})
        print(f"batch {size}: {rate:.2f} ligands/s ({r['seconds']:.1f} s); without the {compiled:.1f} s compile "
              f"{warm:.2f} ligands/s", flush=True)


def tick_bench_target(work: Path, targets: str, mode: str) -> str | None:
    """The pocket a tick bench (``bench_torch_codegen.py``, ``bench_line_search.py``) runs in: the first
    of the comma list ``targets``, once the prepared inputs, the pocket and ``mode`` are checked; None,
    with the problem printed in one line, when one is not there."""
    from docking.engines.torch_engine.modes import MODES

    if not (work / "ligands.json").exists():
        print(f"error: no prepared inputs in {work}; run bench/bench_torch_engine.py prep first", file=sys.stderr)
        return None
    target = targets.split(",")[0]
    if target not in _boxes() or mode not in MODES:
        print(f"error: unknown pocket {target!r} or mode {mode!r}; pockets: {', '.join(sorted(_boxes()))}; "
              f"modes: {', '.join(MODES)}", file=sys.stderr)
        return None
    return target


def compiled_cpu_docker(work: Path, target: str, mode: str, n: int) -> tuple[list[Any], Any, list[Any]]:
    """The first ``n`` prepared drugs, a compiled CPU docker for ``target``'s box in ``mode`` (1
    thread, maps for the drugs' atom types built) and the drugs' topologies: what the tick
    benches (``evalcost``, ``bench_torch_codegen.py``) plan and time batches with."""
    import torch

    from docking.engines.torch_engine.engine import TorchEngine
    from docking.engines.torch_engine.pdbqt import parse_ligand_pdbqt
    from docking.engines.torch_engine.topology import build_topology
    from docking.pocket import Box

    torch.set_num_threads(1)
    ligs = _ligands(work, n)
    eng = TorchEngine(device="cpu", mode=mode, compile="on", max_batch=max(64, len(ligs)))
    docker = eng._docker(eng._grid((work / "receptors" / f"{target}.pdbqt").read_text(), Box(*_boxes()[target])))
    tops = [build_topology(parse_ligand_pdbqt(x.variants[0].pdbqt)) for x in ligs]
    docker.grid.ensure(set().union(*({int(t) for t in top.xs if t >= 0} for top in tops)))
    return ligs, docker, tops


def evalcost(work: Path, target: str, mode: str, n: int, ticks: int = 40, chains: int = 0) -> None:
    """CPU per pose-evaluation of the compiled tick, side by side in one run: the ``n`` drugs as
    one batch padded to its largest bucket, then the batches the CPU plan makes (at most
    ``CPU_COMPILED_BATCH`` ligands of neighbouring buckets).  Each batch's ticks, as the run loop
    alternates them (a Monte Carlo tick every ``period``-th tick, line-search ticks between, engine
    1.10), are compiled (or loaded from the on-disk cache) and warmed first; ``ticks`` ticks are timed.  The search
    estimate multiplies each batch's tick time by its ticks (its largest ligand's budget).
    ``chains``: chains per ligand instead of the mode's (same total steps), i.e. poses per tick."""
    import dataclasses

    from docking.engines.torch_engine.compiled import between_function, tick_function
    from docking.engines.torch_engine.search import SearchParams, advance

    ligs, docker, tops = compiled_cpu_docker(work, target, mode, n)
    if chains:
        docker.budget = dataclasses.replace(docker.budget, chains=chains)
    tick, params = tick_function(True, docker.budget.chains_per_ligand()), SearchParams()
    between = between_function(True, docker.budget.chains_per_ligand())
    plans = {"one batch, padded to its largest bucket": [list(range(len(tops)))],
             "CPU plan": docker._plan(tops, compiled=True)}
    out: dict[str, Any] = {}
    for name, plan in plans.items():
        rows, search_s = [], 0.0
        for idx in plan:
            run = docker.setup_batch([ligs[i].name for i in idx], [tops[i] for i in idx], 42, True)
            # the run loop's ticks (engine 1.10: a Monte Carlo tick every run.period-th, line-search ticks
            # between), warmed over one period, then timed over ``ticks``
            warm = max(4, run.period)
            state = advance(tick, run.c, run.gc, run.state, params, 0, warm, run.period, between=between)
            c0 = time.process_time()
            state = advance(tick, run.c, run.gc, state, params, warm, warm + ticks, run.period, between=between)
            per_tick = (time.process_time() - c0) / ticks
            poses = run.c.lig.shape[0]
            shape = (run.c.local.shape[1], run.c.tors_mask.shape[1], run.c.pair_mask.shape[1], run.depth)
            rows.append({"ligands": len(idx), "slots": len(run.planned), "shape": shape, "ms_per_tick": per_tick * 1e3,
                         "us_per_pose_eval": per_tick / poses * 1e6, "ticks": max(run.ticks)})
            search_s += per_tick * max(run.ticks)
        out[name] = {"batches": rows, "search_cpu_s_per_ligand": search_s / len(tops)}
        print(f"{name}: search ~{search_s / len(tops):.1f} CPU s per ligand", flush=True)
        for r in rows:
            print(f"  {r['ligands']:3d} ligands, {r['slots']} slots, shape (atoms, torsions, pairs, depth) "
                  f"{r['shape']}: {r['us_per_pose_eval']:.1f} us per pose-evaluation, {r['ticks']} ticks", flush=True)
    _record(work, f"evalcost|{target}|{mode}|{len(tops)}" + (f"|{chains} chains" if chains else ""), out)


def report(work: Path) -> str:
    """Markdown rows of every result in ``search_bench.json``."""
    data = _load(work / "search_bench.json")
    lines = ["| run | figures |", "|---|---|"]
    for key, row in sorted(data.items()):
        if isinstance(row, dict):
            row = {k: v for k, v in row.items() if k not in ("best", "poses", "all")}
        lines.append(f"| {key} | {json.dumps(row)} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("part", choices=["ops", "convergence", "cost", "variants", "evalcost", "vina-noise", "throughput",
                                     "agreement", "report"])
    ap.add_argument("--targets", default=",".join(TARGETS))
    ap.add_argument("--workdir", default=str(ROOT / ".dockdb" / "bench_torch"))
    ap.add_argument("--old-tree", default=None, help="checkout of engine 0.2 (git worktree of 56e28b5)")
    ap.add_argument("--other-tree", "--lockstep-tree", dest="other_tree", default=None,
                    help="cost: a checkout of an earlier 1.x engine (e.g. a git worktree of 5af9e74, 1.0 before "
                         "ticks), docked one ligand per call, eager, beside this tree's")
    ap.add_argument("--no-vina", action="store_true", help="cost: leave Vina out")
    ap.add_argument("--singles-only", action="store_true", help="cost: one ligand per call only")
    ap.add_argument("--auto", action="store_true",
                    help="cost: also each drug alone in a process of its own with compile=auto (wall s)")
    ap.add_argument("--batches-only", action="store_true", help="cost: all drugs in one call only")
    ap.add_argument("--compiled-only", action="store_true", help="cost: no eager run of the batch")
    ap.add_argument("--modes", default="fast,balanced,detail")
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--batches", default="64,512,2048")
    ap.add_argument("--variants", default='{"1.1": {"abort_margin": Infinity}, "1.2": {}}',
                    help="variants: JSON name -> SearchParams overrides")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--compile", default="", choices=["", "on", "off", "auto"],
                    help="convergence: the engine's compile setting (default: off on CPU, auto on CUDA)")
    ap.add_argument("--chains", type=int, default=0, help="evalcost: chains per ligand instead of the mode's")
    ap.add_argument("--exhaustiveness", type=int, default=8, help="vina-noise: Vina's exhaustiveness")
    ap.add_argument("--only", default="", help="variants: comma list of drug names (of the first --n)")
    args = ap.parse_args(argv)
    if args.exhaustiveness < 1 or args.chains < 0:
        ap.error("--exhaustiveness takes 1 or more, --chains 0 (the mode's) or more")
    work = Path(args.workdir)
    if args.part in ("cost", "convergence"):
        for spec in (m for m in args.modes.split(",") if m):
            mode_params(spec)  # a bad entry stops here, before Vina or any search has run
    if args.part == "ops":
        rows = [ops_new(work)] + ([_in_tree(args.old_tree, "ops_old", work)] if args.old_tree else [])
        for r in rows:
            _record(work, f"ops|{r['engine']}", r)
            print(json.dumps(r))
    elif args.part == "convergence":
        convergence(work, [m for m in args.modes.split(",") if m], args.n, args.targets.split(","), args.device,
                    args.compile)
    elif args.part == "report":
        print(report(work))
    elif args.part == "agreement":
        from search_agreement import collect_runs, input_fingerprints, tables

        print(input_fingerprints(work) + "\n")
        print(tables(collect_runs(_load(work / "vina_screen.json").get("screen", {}),
                                  _load(work / "search_bench.json"))))
    elif args.part == "variants":
        variants(work, args.targets.split(",")[0], args.modes.split(",")[0], args.n, json.loads(args.variants),
                 args.seed, [x for x in args.only.split(",") if x])
    elif args.part == "vina-noise":
        vina_noise(work, args.targets.split(","), args.n, args.seed, args.exhaustiveness)
    elif args.part == "evalcost":
        evalcost(work, args.targets.split(",")[0], args.modes.split(",")[0], args.n, chains=args.chains)
    elif args.part == "cost":
        cost(work, args.n, args.old_tree, target=args.targets.split(",")[0], other_tree=args.other_tree,
             vina=not args.no_vina, batches=not args.singles_only, singles=not args.batches_only,
             modes=tuple(m for m in args.modes.split(",") if m), eager=not args.compiled_only, auto=args.auto)
    else:
        throughput(work, args.device, [int(b) for b in args.batches.split(",")], args.modes.split(",")[0])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
