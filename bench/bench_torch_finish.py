"""The torch engine's final refinement beside its search, CPU time per ligand, side by side in one run.

    git worktree add /tmp/engine-1.5 8878da7          # an earlier engine, for the "before" row
    .venv/bin/python bench/bench_torch_finish.py --mode fast --old-tree /tmp/engine-1.5

For the first ``--n`` prepared drugs (``bench_torch_engine.py prep``) in ``--target``'s box, the
CPU plan's compiled batches are searched and finished as ``dockdb dock`` does; process CPU time
(1 thread) of the search ticks, of the finish, and of its two parts: the uncapped re-optimisation
on the grid and the exact (grid-free) refinement.  Each tree runs in its own process, one after
the other, twice over the batches (the first pass compiles or loads the tick from the on-disk
cache; the second is reported).  Each ligand's best final energy is printed beside, so a faster
finish is seen to give the same poses.  Results are appended to ``<workdir>/search_bench.json``.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def measure(work: Path, target: str, mode: str, n: int) -> dict[str, Any]:
    """Search and finish CPU seconds per ligand (second pass) in this process's engine."""
    sys.path.insert(0, str(ROOT / "bench"))
    import bench_torch_search as b  # puts DOCKDB_BENCH_TREE (the tree measured) first on the path

    import docking.engines.torch_engine.compiled as co
    import docking.engines.torch_engine.finish as fin
    import docking.engines.torch_engine.search as se
    from docking.engines.torch_engine.compiled import tick_function

    exchange_function = getattr(co, "exchange_function", None)
    between_function = getattr(co, "between_function", None)  # 1.10 and later: line-search ticks between

    ligs, docker, tops = b.compiled_cpu_docker(work, target, mode, n)
    tick = tick_function(True, docker.budget.chains_per_ligand())
    parts = {"grid": 0.0, "exact": 0.0, "polish": 0.0}
    real_refine, real_exact = fin.refine, fin.exact_refine
    inside_exact = [False]

    def refine(*a: Any, **k: Any) -> Any:  # the grid re-optimisation (exact_refine calls it too)
        c0 = time.process_time()
        out = real_refine(*a, **k)
        if not inside_exact[0]:
            parts["grid"] += time.process_time() - c0
        return out

    def exact_refine(*a: Any, **k: Any) -> Any:  # (1.8 and later: also the polish, given keys)
        inside_exact[0] = True
        c0 = time.process_time()
        try:
            return real_exact(*a, **k)
        finally:
            parts["polish" if k.get("keys") is not None else "exact"] += time.process_time() - c0
            inside_exact[0] = False

    fin.refine, fin.exact_refine = refine, exact_refine
    try:
        for _ in range(2):
            parts.update(grid=0.0, exact=0.0, polish=0.0)
            search_s = finish_s = 0.0
            best: dict[str, float] = {}
            for idx in docker._plan(tops, compiled=True):
                run = docker.setup_batch([ligs[i].name for i in idx], [tops[i] for i in idx], 42, True)
                state = run.state
                c0 = time.process_time()
                if between_function is not None:  # bookkeeping every run.period-th tick (engine 1.10)
                    state = se.advance(tick, run.c, run.gc, state, docker.params, 0, max(run.ticks), run.period,
                                       exchange_function(True), between_function(run.period > 1, run.chains))
                elif exchange_function is not None:  # trees with search.advance: swaps on swap ticks only
                    state = se.advance(tick, run.c, run.gc, state, docker.params, 0, max(run.ticks),
                                       swap=exchange_function(True))
                else:
                    for _ in range(max(run.ticks)):
                        state = tick(run.c, run.gc, state, docker.params)
                c1 = time.process_time()
                extra = []  # 1.8 and later: the ligands' stream keys, for the polish
                if "seeds" in inspect.signature(fin.finish_batch).parameters:
                    extra = [state.ch.seed.reshape(len(run.planned), run.chains)[:, 0]]
                res = fin.finish_batch(docker.grid, run.batch, run.slots, run.depth, state.st, run.chains,
                                       docker.params, *extra)
                finish_s += time.process_time() - c1
                search_s += c1 - c0
                for k, i in enumerate(idx):
                    best[ligs[i].name] = round(res[k][0].total, 3) if res[k] else float("nan")
    finally:
        fin.refine, fin.exact_refine = real_refine, real_exact
    m = len(tops)  # the drugs prepared, if fewer than asked for
    return {"search_s": search_s / m, "finish_s": finish_s / m, "grid_refine_s": parts["grid"] / m,
            "exact_refine_s": parts["exact"] / m, "polish_s": parts["polish"] / m, "best": best}


def _run_tree(tree: Path, args: argparse.Namespace) -> dict[str, Any]:
    env = {**os.environ, "DOCKDB_BENCH_TREE": str(tree), "OMP_NUM_THREADS": "1",
           "TORCHINDUCTOR_CACHE_DIR": str(ROOT / ".dockdb" / "torch_inductor")}
    cmd = [sys.executable, __file__, "--measure", "--workdir", args.workdir, "--target", args.target, "--mode",
           args.mode, "--n", str(args.n)]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tree)
    if out.returncode:
        last = (out.stderr.strip().splitlines() or ["no error output"])[-1]
        raise SystemExit(f"measuring {tree} failed: {last}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workdir", default=str(ROOT / ".dockdb" / "bench_torch"))
    ap.add_argument("--target", default="protease", choices=["protease", "papainlike", "TMPRSS2"])
    ap.add_argument("--mode", default="fast", choices=["fast", "balanced", "detail"])
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--old-tree", default=None, help="a checkout of an earlier engine (git worktree), measured too")
    ap.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    work = Path(args.workdir)
    if not (work / "ligands.json").exists():
        print(f"no prepared drugs in {work}: run bench/bench_torch_engine.py prep first", file=sys.stderr)
        return 2
    if args.n < 1:
        print(f"--n {args.n}: give at least 1 drug", file=sys.stderr)
        return 2
    if args.old_tree and not (Path(args.old_tree) / "docking" / "engines" / "torch_engine").is_dir():
        print(f"--old-tree {args.old_tree}: not a DockDB checkout with the torch engine; "
              "make one with `git worktree add DIR COMMIT`", file=sys.stderr)
        return 2
    if args.measure:
        print(json.dumps(measure(work, args.target, args.mode, args.n)))
        return 0
    trees = {"this tree": ROOT} | ({"old tree": Path(args.old_tree).resolve()} if args.old_tree else {})
    rows = {name: _run_tree(tree, args) for name, tree in trees.items()}
    names = sorted(rows["this tree"]["best"])
    print(f"{args.mode}, {args.target}, {args.n} drugs: CPU s per ligand (second pass)")
    print("| tree | search | finish | grid re-optimisation | exact refinement | polish |")
    print("|---|---|---|---|---|---|")
    for name, r in rows.items():
        print(f"| {name} | {r['search_s']:.2f} | {r['finish_s']:.2f} | {r['grid_refine_s']:.2f} | "
              f"{r['exact_refine_s']:.2f} | {r.get('polish_s', 0.0):.2f} |")
    if "old tree" in rows:
        diffs = [rows["this tree"]["best"][k] - rows["old tree"]["best"][k] for k in names]
        print(f"best final energy, this tree - old tree: max |diff| {max(abs(d) for d in diffs):.3f} kcal/mol "
              f"over {len(diffs)} drugs")
    data_path = work / "search_bench.json"
    data = json.loads(data_path.read_text()) if data_path.exists() else {}
    data[f"finish|{args.target}|{args.mode}|{args.n}"] = rows
    data_path.write_text(json.dumps(data, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
