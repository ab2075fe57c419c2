"""Where a search's energy evaluations go: line-search trials, local optimisations, Monte Carlo steps.

    .venv/bin/python bench/bench_torch_engine.py prep        # prepared receptors + 20 drugs
    .venv/bin/python bench/bench_line_search.py --targets protease --n 3 --ticks 1500 \\
        --variants '{"Vina line search": {}, "interpolating": {"interpolate": true}}'

Every ``20 / n``-th of the first 20 prepared drugs is searched as one eager batch in ``--mode``'s
chains (``balanced``: 48 per drug), seed 42, without tempering ladders (their swaps would move
optimisations between chains), with Monte Carlo bookkeeping on every tick (``search.mc_tick``),
for ``--ticks`` energy evaluations per chain; each variant sets ``SearchParams`` fields and starts
from the same state.  The state is read back after every tick (a bench: host reads are fine here)
and each chain's local optimisations are told apart by its step counter.  Printed per variant,
over the optimisations that ended (a chain's first is left out):

* Monte Carlo steps, those whose local optimisation took at least one step, and evaluations per
  step;
* the share of evaluations that were line-search trials that failed Armijo's test;
* the optimisations that ended without one accepted step (all 10 trials of their first line search
  failed): their share, and their share of the evaluations;
* how far the first line search of an optimisation shortened its step where it succeeded, in
  halvings (log2 of the shortening; an interpolating line search shortens by other factors);
* each drug's best energy at the end (a hint only: one seed, part of a search).

Results are appended to ``<workdir>/search_bench.json`` under ``linesearch|...``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def _trace(b: Any, params: Any, ticks: int) -> dict[str, np.ndarray]:
    """Per tick and chain: energy, evaluations, accepted BFGS steps and Monte Carlo step of the
    local optimisation in progress, and its trial step (alpha) before the tick."""
    import torch

    from docking.engines.torch_engine.search import mc_tick

    rows: dict[str, list[np.ndarray]] = {"f": [], "evals": [], "iters": [], "step": [], "alpha": []}
    s = b.state
    with torch.no_grad():
        for _ in range(ticks):
            for key, value in (("f", s.opt.f), ("evals", s.opt.evals), ("iters", s.opt.iters),
                               ("step", s.ch.step), ("alpha", s.opt.alpha)):
                rows[key].append(value.numpy().copy())
            s = mc_tick(b.c, b.gc, s, params)
    out = {k: np.array(v) for k, v in rows.items()}
    out["best"] = s.ch.best.reshape(-1, b.chains).min(1).values.numpy()
    return out


def summarise(t: dict[str, np.ndarray]) -> dict[str, Any]:
    """The statistics of the module docstring from a :func:`_trace`."""
    evals = iters = fails = zero = zero_evals = 0
    steps = 0
    first_halvings: list[float] = []
    for p in range(t["f"].shape[1]):
        ends = np.nonzero(t["step"][1:, p] > t["step"][:-1, p])[0]  # tick k: the optimisation at k ended
        for a, b in itertools.pairwise(ends):
            e, n = t["evals"][b, p], t["iters"][b, p]
            steps += 1
            evals += e
            iters += n
            fails += e - n - 1  # one evaluation starts it, one per accepted step, the rest failed trials
            if n == 0:
                zero += 1
                zero_evals += e
            took = np.nonzero(t["iters"][a + 2 : b + 1, p] > 0)[0]  # its first accepted step
            if len(took):
                k = a + 1 + took[0]  # the tick that evaluated that trial
                first_halvings.append(float(np.log2(t["alpha"][a + 1, p] / t["alpha"][k, p])))
    if not steps:
        return {"steps": 0}
    return {
        "steps": int(steps), "minimised_steps": int(steps - zero), "evals_per_step": float(evals / steps),
        "failed_trial_share": float(fails / evals),
        "zero_step_share": float(zero / steps), "zero_step_evals_share": float(zero_evals / evals),
        "first_line_search_halvings": float(np.mean(first_halvings)) if first_halvings else None,
        "best": [round(float(x), 3) for x in t["best"]],
    }


def run(work: Path, target: str, mode: str, n: int, ticks: int, spec: dict[str, dict[str, Any]]) -> None:
    import dataclasses

    import torch
    from bench_torch_search import _record, compiled_cpu_docker

    torch.set_num_threads(1)
    ligs, docker, tops = compiled_cpu_docker(work, target, mode, 20)
    pick = list(range(0, len(ligs), max(1, len(ligs) // n)))[:n]
    b = docker.setup_batch([ligs[i].name for i in pick], [tops[i] for i in pick], 42, False)
    print(f"{', '.join(ligs[i].name for i in pick)} in {target}, {b.chains} chains each, {ticks} ticks", flush=True)
    for name, over in spec.items():
        # no tempering ladders unless a variant asks: their swaps move optimisations in flight between
        # chains, and the per-chain accounting below follows one chain's optimisations
        params = dataclasses.replace(docker.params, **{"ladder": 1, **over})
        row = summarise(_trace(b, params, ticks))
        _record(work, f"linesearch|{target}|{mode}|{n}|{ticks}|{name}", row)
        print(f"{name}: {json.dumps(row)}", flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workdir", default=str(ROOT / ".dockdb" / "bench_torch"))
    ap.add_argument("--targets", default="protease", help="the pocket (first of a comma list)")
    ap.add_argument("--mode", default="balanced")
    ap.add_argument("--n", type=int, default=3, help="drugs (every 20/n-th of the first 20)")
    ap.add_argument("--ticks", type=int, default=1500)
    ap.add_argument("--variants", default='{"Vina line search": {"first_step": Infinity}, '
                                          '"first step 1": {"first_step": 1.0}, '
                                          '"interpolating": {"interpolate": true}, '
                                          '"interpolating, first step 1": {"interpolate": true, "first_step": 1.0}}')
    args = ap.parse_args(argv)
    work = Path(args.workdir)
    from bench_torch_search import tick_bench_target

    from docking.engines.torch_engine.search import SearchParams

    target = tick_bench_target(work, args.targets, args.mode)
    if target is None:
        return 2
    if not 1 <= args.n <= 20 or args.ticks < 2:
        print("error: --n must be 1 to 20 and --ticks at least 2", file=sys.stderr)
        return 2
    try:
        spec = json.loads(args.variants)
        fields = {f for f in SearchParams.__dataclass_fields__}
        bad = sorted({k for v in spec.values() for k in v} - fields)
    except (ValueError, AttributeError, TypeError) as e:
        print(f"error: --variants must be a JSON object of objects of SearchParams fields: {e}", file=sys.stderr)
        return 2
    if bad:
        print(f"error: unknown SearchParams field(s) {', '.join(bad)} in --variants", file=sys.stderr)
        return 2
    run(work, target, args.mode, args.n, args.ticks, spec)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
