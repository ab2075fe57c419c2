"""Does the compiled search tick compute on a device what the eager tick computes on the CPU?

    python bench/torch_device_check.py --device cuda --workdir .dockdb/bench_torch

One batch (``--batch`` ligand slots: the 20 prepared drugs repeated, 3CLpro focused box, the
mode's chains per ligand) is set up on ``--device`` and on the CPU from the same seeds.  From the
same start it runs the compiled tick and the eager tick on the device, and the eager tick on the
CPU, and prints at checkpoints the largest difference of every state field (tick 1 isolates the
energy and gradient, later ticks the line search, acceptance and store), then the chains' mean
best energy and Monte Carlo steps after ``--ticks`` ticks.  On CUDA it then replays the compiled
ticks through the engine's CUDA graph path (``graphs.run_ticks``, graphs of ``--graph-ticks``
ticks) and times a tick both ways, then the same for the eager tick (the docker's path for a
shape whose compiled tick disagrees).  ``--period N`` adds a last row: the compiled ticks with Monte
Carlo bookkeeping every N-th tick and the compiled line-search tick between (engine 1.10's CPU
schedule), timed the same way; on a CPU it times that row and the compiled one plainly (no
graphs).  Where the compiled tick 1 disagrees with the eager one
(or with ``--pieces on``), each part of the tick's evaluation is then compiled alone and
compared with its eager result from the same poses (:func:`_pieces`), which names the part the
compiler gets wrong.  Lines are flushed as they come, so a run cut short still tells how far it
got.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def _fields(state: Any, prefix: str = "") -> dict[str, Any]:
    """Flat name -> tensor of a nested NamedTuple of tensors."""
    out: dict[str, Any] = {}
    for name, value in zip(state._fields, state, strict=True):
        if hasattr(value, "_fields"):
            out.update(_fields(value, f"{prefix}{name}."))
        else:
            out[f"{prefix}{name}"] = value
    return out


AGREE = "all fields within 1e-4"  # what _diff prints when every field agrees


def _diff(a: Any, b: Any) -> str:
    """Largest absolute difference per field (inf/nan positions compared apart)."""
    import torch

    fa, fb = _fields(a), _fields(b)
    parts = []
    for k in fa:
        x, y = fa[k].cpu(), fb[k].cpu()
        if x.dtype == torch.bool or not x.is_floating_point():
            n = int((x != y).sum())
            if n:
                parts.append(f"{k}: {n} differ")
            continue
        x, y = x.double(), y.double()
        fin = torch.isfinite(x) & torch.isfinite(y)
        odd = int((torch.isfinite(x) != torch.isfinite(y)).sum())
        d = float((x[fin] - y[fin]).abs().max()) if bool(fin.any()) else 0.0
        if d > 1e-4 or odd:
            parts.append(f"{k}: {d:.2g}" + (f" ({odd} finite in one only)" if odd else ""))
    return "; ".join(parts) or AGREE


def _summary(state: Any, n_lig: int) -> str:
    import torch

    best = state.ch.best.double().cpu()
    fin = torch.isfinite(best)
    per_lig = best.reshape(n_lig, -1).min(1).values
    return (f"mean chain best {float(best[fin].mean()):.3f}, mean ligand best {float(per_lig.mean()):.3f}, "
            f"mean steps {float(state.ch.step.double().mean()):.1f}, finite {int(fin.sum())}/{len(best)}")


def _max_diff(a: Any, b: Any) -> str:
    """Largest absolute and relative difference over a tensor or tuple of tensors."""
    import torch

    xs = a if isinstance(a, tuple) else (a,)
    ys = b if isinstance(b, tuple) else (b,)
    worst_abs = worst_rel = 0.0
    for x, y in zip(xs, ys, strict=True):
        x, y = x.detach().double().cpu(), y.detach().double().cpu()
        fin = torch.isfinite(x) & torch.isfinite(y)
        if bool((torch.isfinite(x) != torch.isfinite(y)).any()):
            return "finite in one only"
        d = (x[fin] - y[fin]).abs()
        if d.numel():
            worst_abs = max(worst_abs, float(d.max()))
            worst_rel = max(worst_rel, float((d / (1.0 + y[fin].abs())).max()))
    return f"max abs {worst_abs:.3g}, max rel {worst_rel:.3g}"


def _pieces(run: Any, state: Any) -> None:
    """Each part of a search batch's evaluation (``chainmajor``) compiled alone against its eager
    result, from the poses of ``state``'s local optimisations: the forward kinematics, the grid
    term, the pair term (with the batch's pair sum, and with the other of gather and scatter),
    the pose gradient, and the whole evaluation."""
    import torch

    from docking.engines.torch_engine import chainmajor as cm
    from docking.engines.torch_engine.kinematics import pair_gather
    from docking.engines.torch_engine.search import HUNT_CAP

    c, gc, o = run.c, run.gc, state.opt
    if c.pair_gather.numel():  # the batch gathers: the other variant scatters (empty tables)
        own, other_name = "gather", "scatter"
        index, sign = c.pair_gather[:0], c.pair_sign[:0]
    else:
        own, other_name = "scatter", "gather"
        index, sign = pair_gather(run.batch.pairs, run.batch.pair_mask, run.batch.local.shape[1])
    other = c._replace(pair_gather=index, pair_sign=sign.to(c.local.dtype))
    xc = cm.forward_chains(c, o.pos, o.quat, o.tors)
    _, g_at = cm.grid_chains(c, gc, xc, HUNT_CAP)
    _, g_in = cm.intra_chains(c, xc, HUNT_CAP)
    parts: dict[str, tuple[Any, tuple[Any, ...]]] = {
        "forward_chains": (cm.forward_chains, (c, o.pos, o.quat, o.tors)),
        "grid_chains": (cm.grid_chains, (c, gc, xc, HUNT_CAP)),
        f"intra_chains ({own})": (cm.intra_chains, (c, xc, HUNT_CAP)),
        f"intra_chains ({other_name})": (cm.intra_chains, (other, xc, HUNT_CAP)),
        "backward_chains": (cm.backward_chains, (c, xc, o.pos, g_at + g_in)),
        "energy_grad_chains": (cm.energy_grad_chains, (c, gc, o.pos, o.quat, o.tors, HUNT_CAP, HUNT_CAP)),
    }
    for name, (fn, args) in parts.items():
        t0 = time.perf_counter()
        try:
            got = torch.compile(lambda *a, fn=fn: fn(*a), fullgraph=True, dynamic=False)(*args)
        except Exception as exc:  # a part that does not compile alone is reported, the rest go on
            print(f"piece {name}: does not compile alone ({type(exc).__name__}: {str(exc)[:200]})", flush=True)
            continue
        print(f"piece {name}, compiled vs eager: {_max_diff(got, fn(*args))} "
              f"({time.perf_counter() - t0:.1f} s)", flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--workdir", default=str(ROOT / ".dockdb" / "bench_torch"))
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--mode", default="balanced")
    ap.add_argument("--ticks", type=int, default=1500)
    ap.add_argument("--cpu-ticks", type=int, default=40)
    ap.add_argument("--graph-ticks", type=int, default=8, help="ticks per CUDA graph replay (0: no graph part)")
    ap.add_argument("--graph-n", type=int, default=0,
                    help="ticks timed in the graph part, each way (default: max(400, 50 x --graph-ticks))")
    ap.add_argument("--period", type=int, default=0,
                    help="also time the compiled graph path with Monte Carlo bookkeeping every this many ticks "
                         "and line-search ticks between (engine 1.10's CPU schedule; 0: not)")
    ap.add_argument("--pieces", default="auto", choices=["auto", "on", "off"],
                    help="compile each part of the evaluation alone and compare (auto: when tick 1 disagrees)")
    ap.add_argument("--short-opts", action="store_true", help="micro_per_iter 0.25 (acceptance from tick ~3)")
    ap.add_argument("--dtype", default="float32", choices=["float32", "float64"],
                    help="float64: rounding stays far below the printed differences for the first ticks")
    args = ap.parse_args()
    if args.batch < 1 or args.ticks < 2 or min(args.cpu_ticks, args.graph_ticks, args.graph_n, args.period) < 0:
        ap.error("--batch takes 1 or more, --ticks 2 or more; --cpu-ticks, --graph-ticks, --graph-n and --period "
                 "0 or more")
    if args.period > 1 and args.graph_ticks % args.period:
        ap.error(f"--graph-ticks {args.graph_ticks} is not a multiple of --period {args.period}: each graph must hold "
                 "whole periods; set --graph-ticks to a multiple of it")

    import bench_torch_search as b
    import torch

    from docking.engines.torch_engine.compiled import between_function, tick_function
    from docking.engines.torch_engine.engine import TorchEngine
    from docking.engines.torch_engine.graphs import run_ticks
    from docking.engines.torch_engine.grids import ReceptorGrid
    from docking.engines.torch_engine.pdbqt import parse_ligand_pdbqt, parse_receptor_pdbqt
    from docking.engines.torch_engine.search import advance, ls_tick, mc_tick
    from docking.engines.torch_engine.topology import build_topology
    from docking.pocket import Box

    work = Path(args.workdir)
    base = b._ligands(work, 20)
    ligs = [base[i % len(base)] for i in range(args.batch)]
    rec = (work / "receptors" / "protease.pdbqt").read_text()
    box = Box(*b._boxes()["protease"])
    tops = [build_topology(parse_ligand_pdbqt(x.variants[0].pdbqt)) for x in ligs]
    keys = [f"{x.name}#{i}" for i, x in enumerate(ligs)]

    def setup(device: str) -> Any:
        eng = TorchEngine(device=device, mode=args.mode, compile="on", max_batch=args.batch)
        grid = ReceptorGrid(parse_receptor_pdbqt(rec), box.center, box.size, device=device,
                            dtype=getattr(torch, args.dtype))
        docker = eng._docker(grid)
        docker.grid.ensure(set().union(*({int(t) for t in top.xs if t >= 0} for top in tops)))
        return docker, docker.setup_batch(keys, tops, 42, True)

    t0 = time.perf_counter()
    docker, run = setup(args.device)
    params = docker.params
    if args.short_opts:  # local optimisations end within a few ticks: acceptance and store run early
        import dataclasses

        params = dataclasses.replace(params, micro_per_iter=0.25)
    n_lig = len(run.planned)
    sync = torch.cuda.synchronize if args.device.startswith("cuda") else (lambda: None)
    print(f"{args.device}: {n_lig} ligand slots x {run.chains} chains = {run.state.ch.e.shape[0]} poses; "
          f"ticks planned (largest ligand) {max(run.ticks)}; set up in {time.perf_counter() - t0:.1f} s", flush=True)
    tick = tick_function(True, run.chains)
    t0 = time.perf_counter()
    compiled = tick(run.c, run.gc, run.state, params, swaps=False)
    sync()
    print(f"compiled tick: first call (compile) {time.perf_counter() - t0:.1f} s", flush=True)
    eager = mc_tick(run.c, run.gc, run.state, params, swaps=False)
    verdict = _diff(compiled, eager)
    print(f"tick 1, compiled vs eager on {args.device}: {verdict}", flush=True)
    if args.pieces == "on" or (args.pieces == "auto" and verdict != AGREE):
        _pieces(run, eager)

    if args.cpu_ticks:
        _, cpu_run = setup("cpu")
        cpu = mc_tick(cpu_run.c, cpu_run.gc, cpu_run.state, params, swaps=False)
        print(f"start, {args.device} vs cpu: {_diff(run.state, cpu_run.state)}", flush=True)
        print(f"tick 1, eager {args.device} vs eager cpu: {_diff(eager, cpu)}", flush=True)
    checkpoints = {2, 3, 5, 10, 20, 40, 100, 300, 1000, args.ticks}
    t_eager = t_comp = 0.0
    for i in range(2, args.ticks + 1):
        t0 = time.perf_counter()
        compiled = tick(run.c, run.gc, compiled, params, swaps=False)
        sync()
        t1 = time.perf_counter()
        eager = mc_tick(run.c, run.gc, eager, params, swaps=False)
        sync()
        t_comp, t_eager = t_comp + t1 - t0, t_eager + time.perf_counter() - t1
        if i <= args.cpu_ticks:
            cpu = mc_tick(cpu_run.c, cpu_run.gc, cpu, params, swaps=False)
        if i in checkpoints:
            line = f"tick {i}: compiled vs eager {_diff(compiled, eager)}"
            if i <= args.cpu_ticks:
                line += f" | eager {args.device} vs eager cpu: {_diff(eager, cpu)}"
            print(line, flush=True)
    print(f"after {args.ticks} ticks: compiled {_summary(compiled, n_lig)}", flush=True)
    print(f"after {args.ticks} ticks: eager    {_summary(eager, n_lig)}", flush=True)
    print(f"ms per tick: compiled {t_comp / (args.ticks - 1) * 1e3:.3f}, eager {t_eager / (args.ticks - 1) * 1e3:.3f}",
          flush=True)
    cuda = args.device.startswith("cuda")
    if args.graph_ticks < 1 or not (cuda or args.period > 1):
        return 0

    # the engine's CUDA graph path (graphs.run_ticks: capture, check of the first replay against
    # plain calls, replays), timed whole against the same ticks called plainly: for the compiled
    # tick, then for the eager one (the docker's path for a shape whose compiled tick disagreed)
    k = args.graph_ticks
    n = args.graph_n or max(400, 50 * k)
    # last, so that a run cut short has the rows above: the compiled ticks with bookkeeping every
    # --period-th tick and the compiled line-search tick between (its graph compiles here first)
    runs: list[tuple[str, Any, Any, int, Any]] = [("compiled", tick, compiled, 1, ls_tick)]
    if cuda:
        runs.append(("eager", mc_tick, eager, 1, ls_tick))
    if args.period > 1:
        ls = between_function(True, run.chains)
        t0 = time.perf_counter()
        ls(run.c, run.gc, compiled, params, swaps=False)
        sync()
        print(f"compiled line-search tick: first call (compile) {time.perf_counter() - t0:.1f} s", flush=True)
        runs.append((f"compiled, bookkeeping every {args.period}th,", tick, compiled, args.period, ls))
    start = args.ticks - args.ticks % max(1, args.period)  # a bookkeeping tick first, as the docker's runs
    for name, fn, state, period, between in runs:
        t0 = time.perf_counter()
        plain = advance(fn, run.c, run.gc, state, params, start, start + n, period, between=between)  # swaps where due
        sync()
        t_plain = time.perf_counter() - t0
        if not cuda:  # no graphs on a CPU: the schedules' plain ticks side by side
            print(f"{n} {name} ticks: ms per tick {t_plain / n * 1e3:.3f}; {_summary(plain, n_lig)}", flush=True)
            continue
        t0 = time.perf_counter()
        graphed, used = run_ticks(fn, run.c, run.gc, state, params, n, k, start=start, period=period,
                                  between=between)
        sync()
        t_graph = time.perf_counter() - t0
        print(f"{n} {name} ticks, graphs of {k} ticks {'replayed' if used else 'NOT used (see the warning above)'}: "
              f"graph path vs plain {_diff(graphed, plain)}; ms per tick (capture and check included): "
              f"CUDA graph path {t_graph / n * 1e3:.3f}, plain {t_plain / n * 1e3:.3f}; {_summary(plain, n_lig)}",
              flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
