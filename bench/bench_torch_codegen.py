"""The compiled search tick, two variants side by side in one process:

- ``--compare codegen``: inductor's default C++ code generation against the engine's CPU options
  (``docking.engines.torch_engine.compiled.CPU_OPTIONS``);
- ``--compare layout``: the general per-pose evaluation against the search batch's chain-major
  one (``chainmajor.py``, engine 1.7), both with the engine's options;
- ``--compare tree --old-tree DIR``: the tick of another checkout's engine (e.g. a git worktree
  of an earlier version) against this one's, each with its own options.

    .venv/bin/python bench/bench_torch_engine.py prep           # prepared receptors + 20 drugs
    .venv/bin/python bench/bench_torch_codegen.py --n 20 --targets protease --compare layout
    git worktree add ../engine-1.6 56acdfc
    .venv/bin/python bench/bench_torch_codegen.py --compare tree --old-tree ../engine-1.6 --mode fast

For each batch the engine's CPU plan makes of the ``n`` drugs (``--mode``, default ``balanced``;
at most 8 ligands of neighbouring shape buckets), both variants of the tick are compiled (or loaded from the on-disk
cache) and warmed, then timed in alternating rounds (process CPU time, 1 thread), so both see the
same machine.  Also printed: how far the two variants' energies drift apart after a few ticks
from one state (float rounding only: both compute the same search).  Results are appended to
``<workdir>/search_bench.json`` under ``codegen|...``, ``layout|...`` or ``tree|...``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def _old_engine(tree: Path) -> Any:
    """The torch engine package of another checkout ``tree``, imported under a name of its own
    (its modules import each other relatively), so both engines' ticks run in one process."""
    import importlib.util

    name = "_old_tree_torch_engine"
    if name in sys.modules:
        return sys.modules[name]
    pkg = tree / "docking" / "engines" / "torch_engine"
    spec = importlib.util.spec_from_file_location(name, pkg / "__init__.py", submodule_search_locations=[str(pkg)])
    if spec is None or spec.loader is None:
        raise SystemExit(f"error: no torch engine package in {tree}")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


def _variants(
    compare: str = "codegen", chains: int = 16, old_tree: Path | None = None
) -> dict[str, Callable[..., Any]]:
    """Two compiled ticks, baseline first; two distinct functions, so each keeps its own Dynamo
    cache entry."""
    import importlib

    import torch

    from docking.engines.torch_engine.compiled import compile_options
    from docking.engines.torch_engine.search import mc_tick

    def tick_default(*args: Any) -> Any:
        return mc_tick(*args)

    def tick_engine(*args: Any) -> Any:
        return mc_tick(*args)

    if compare == "layout":

        def tick_per_pose(c: Any, *args: Any) -> Any:
            return mc_tick(c._replace(chains=0), *args)

        return {
            "per-pose layout": torch.compile(tick_per_pose, fullgraph=True, dynamic=False, options=compile_options()),
            "chain-major (engine)": torch.compile(tick_engine, fullgraph=True, dynamic=False,
                                                  options=compile_options(chains)),
        }
    if compare == "tree":
        if old_tree is None:
            raise SystemExit("error: --compare tree needs --old-tree (a checkout of the engine to compare with)")
        old = _old_engine(old_tree)
        old_tick = importlib.import_module(old.__name__ + ".search").mc_tick
        old_options = importlib.import_module(old.__name__ + ".compiled").compile_options

        def tick_old(*args: Any) -> Any:
            return old_tick(*args)

        return {
            f"{old_tree.name} tree": torch.compile(tick_old, fullgraph=True, dynamic=False, options=old_options()),
            "this tree": torch.compile(tick_engine, fullgraph=True, dynamic=False, options=compile_options(chains)),
        }

    return {
        "inductor defaults": torch.compile(tick_default, fullgraph=True, dynamic=False),
        "engine CPU options": torch.compile(tick_engine, fullgraph=True, dynamic=False, options=compile_options()),
    }


def run(work: Path, target: str, mode: str, n: int, rounds: int, ticks: int,
        compare: str = "codegen", old_tree: Path | None = None) -> dict[str, Any]:
    import torch
    from bench_torch_search import _record, compiled_cpu_docker

    from docking.engines.torch_engine.search import SearchParams

    torch._dynamo.config.cache_size_limit = max(torch._dynamo.config.cache_size_limit, 64)
    ligs, docker, tops = compiled_cpu_docker(work, target, mode, n)
    params, fns = SearchParams(), _variants(compare, docker.budget.chains_per_ligand(), old_tree)
    rows = []
    for idx in docker._plan(tops, compiled=True):
        b = docker.setup_batch([ligs[i].name for i in idx], [tops[i] for i in idx], 42, True)
        states = {}
        for name, fn in fns.items():  # compile (or load), warm, and advance both from one state
            s = b.state
            for _ in range(4):
                s = fn(b.c, b.gc, s, params)
            states[name] = s
        a, z = states.values()
        drift = float((a.opt.f - z.opt.f).abs().nan_to_num(0.0, 0.0, 0.0).max())
        spent = dict.fromkeys(fns, 0.0)
        for _ in range(rounds):
            for name, fn in fns.items():
                s = states[name]
                c0 = time.process_time()
                for _ in range(ticks):
                    s = fn(b.c, b.gc, s, params)
                spent[name] += time.process_time() - c0
                states[name] = s
        ms = {k: v / (rounds * ticks) * 1e3 for k, v in spent.items()}
        base, new = ms.values()
        shape = (b.c.local.shape[1], b.c.tors_mask.shape[1], b.c.pair_mask.shape[1], b.depth)
        row = {
            "ligands": len(idx),
            "poses": int(b.c.lig.shape[0]),
            "shape": shape,
            "ms_per_tick": ms,
            "ratio": new / base,
            "energy_drift_after_4_ticks": drift,
        }
        rows.append(row)
        print(
            f"{len(idx)} ligands, shape (atoms, torsions, pairs, depth) {shape}: "
            + ", ".join(f"{k} {v:.3f} ms/tick" for k, v in ms.items())
            + f"; ratio {new / base:.2f}; energies differ by <= {drift:.2g} kcal/mol after 4 ticks",
            flush=True,
        )
    out = {"rounds": rounds, "ticks": ticks, "batches": rows}
    _record(work, f"{compare}|{target}|{mode}|{n}", out)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workdir", default=str(ROOT / ".dockdb" / "bench_torch"))
    ap.add_argument("--targets", default="protease", help="the pocket (first of a comma list)")
    ap.add_argument("--mode", default="balanced")
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--ticks", type=int, default=150)
    ap.add_argument("--compare", choices=("codegen", "layout", "tree"), default="codegen")
    ap.add_argument("--old-tree", default="", help="--compare tree: a checkout of the engine to time against this one")
    args = ap.parse_args(argv)
    work = Path(args.workdir)
    from bench_torch_search import tick_bench_target

    target = tick_bench_target(work, args.targets, args.mode)
    if target is None:
        return 2
    if args.n < 1 or args.rounds < 1 or args.ticks < 1:
        print("error: --n, --rounds and --ticks must be at least 1", file=sys.stderr)
        return 2
    if args.compare == "tree" and not (Path(args.old_tree) / "docking" / "engines" / "torch_engine").is_dir():
        print(f"error: --compare tree needs --old-tree, a checkout with docking/engines/torch_engine "
              f"(e.g. git worktree add ../engine-1.6 56acdfc); got {args.old_tree!r}", file=sys.stderr)
        return 2
    run(work, target, args.mode, args.n, args.rounds, args.ticks, args.compare,
        Path(args.old_tree).resolve() if args.old_tree else None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
