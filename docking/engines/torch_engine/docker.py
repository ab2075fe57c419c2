"""Device selection, bucketed batching with out-of-memory split-and-retry, and the
per-batch pipeline: Monte Carlo search (:mod:`.search`) -> final refinement (:mod:`.finish`).

Ligands are grouped by shape bucket (atoms, torsions, pairs, tree depth; :func:`.modes.bucket`)
so that padding stays small and every batch of a bucket reuses the same compiled graphs.
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

import torch

from dockdb.errors import EngineError

from .batch import LigandBatch
from .compiled import (
    between_function,
    compiled_before,
    exchange_function,
    mark_compiled,
    shape_key,
    tick_function,
    ticks_agree,
)
from .energy import GridConsts
from .finish import FinalPose, finish_batch
from .graphs import run_ticks
from .grids import ReceptorGrid
from .kinematics import PoseConsts, pose_consts
from .modes import Budget, bfgs_iterations, bucket, ladder_mismatch
from .pdbqt import parse_ligand_pdbqt
from .search import Search, SearchParams, advance, exchange, mc_tick, new_search, swap_due, ticks_for
from .topology import LigandTopology, build_topology

__all__ = ["BatchRun", "FinalPose", "SimulatedOOM", "TorchDocker", "batch_bucket", "bookkeeping_period",
           "estimate_bytes", "ligand_seed", "padded_size", "plan_batches", "planned_ticks", "resolve_device",
           "stream_key"]

log = logging.getLogger(__name__)

# Monte Carlo bookkeeping (acceptance, store, mutation: mc_tick) every CPU_PERIOD-th tick on a
# CPU, eager or compiled, and line-search ticks (ls_tick) in between; compiled CUDA batches run it
# on every tick unless a period is asked for (graphs.py replays their ticks; not measured on a
# GPU).  An eager tick costs what it launches and bookkeeping adds ~60 % to an evaluation's
# operations; a compiled CPU line-search tick costs 0.72-0.78x a bookkeeping tick, so every 4th tick
# is ~14 % less search CPU for ~4 % more ticks (engine 1.10; docs/benchmarks.md, "Engine 1.10:
# bookkeeping every 4th compiled tick")
CPU_PERIOD = 4
PAD_STEP = 8  # compiled batches: ligand slots a multiple of this (see padded_size)
# compiled CPU batches hold at most this many ligands of neighbouring shape buckets: measured
# (docs/benchmarks.md, "Compiled CPU batches by shape"), a pose evaluation costs 2.3x more padded
# to the largest of 20 drugs' buckets than to a small one, while 8 ligands per batch instead of 24
# cost only ~9 % more per pose
CPU_COMPILED_BATCH = 8
# compile=auto on a CPU compiles a run whose longest search has at least AUTO_COMPILE_TICKS ticks,
# or AUTO_COMPILE_TICKS_CACHED when every batch shape of the run was compiled before (its kernels
# are in the on-disk cache).  Measured on one core (docs/benchmarks.md, "One ligand, compiled
# when it pays"): an eager tick costs ~4 ms, a compiled one a tenth of that; compiling a shape
# takes ~80 s the first time and ~7 s in a later process, so those are the break-even lengths
AUTO_COMPILE_TICKS = 20_000
AUTO_COMPILE_TICKS_CACHED = 2_000


class SimulatedOOM(RuntimeError):
    """Raised when a batch's estimated memory exceeds the configured limit (CPU testing of
    the CUDA out-of-memory path)."""


def resolve_device(spec: str = "auto") -> torch.device:
    """``cuda``, ``cpu`` or ``auto`` (CUDA when available)."""
    spec = (spec or "auto").lower()
    if spec == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if spec.startswith("cuda"):
        if not torch.cuda.is_available():
            raise EngineError("device 'cuda' requested but PyTorch sees no CUDA GPU; use --device cpu or auto")
        return torch.device(spec)
    if spec == "cpu":
        return torch.device("cpu")
    raise EngineError(f"unknown device {spec!r}; use cuda, cpu or auto")


def estimate_bytes(n_atoms: int, n_pairs: int, n_tors: int, chains: int, store: int = 8) -> int:
    """Rough peak memory of one ligand's chains during search (float32): coordinates and
    per-atom gradients, pair terms, the inverse Hessians and the stores of minima."""
    dim = 6 + n_tors
    per_pose = 4 * (n_atoms * (60 + 12 * store) + n_pairs * 30 + (n_tors + 1) * 60 + dim * dim * 4)
    return int(chains * per_pose * 1.5) + 1


def padded_size(n: int, step: int = PAD_STEP) -> int:
    """Ligand slots of a compiled batch of ``n`` ligands: a power of two up to ``step``, then
    the next multiple of ``step``.  Shapes still repeat across batches (``max_batch`` / ``step``
    sizes above ``step``), while the copies cost at most ``step - 1`` slots instead of up to
    half the batch (20 ligands: 24 slots, not 32)."""
    if n <= step:
        return 1 << max(0, math.ceil(math.log2(max(n, 1))))
    return step * math.ceil(n / step)


def batch_bucket(tops: list[LigandTopology]) -> tuple[int, int, int, int]:
    """Padded (atoms, torsions, pairs, depth) of a batch: the bucket of its largest sizes."""
    return bucket(max(x.n_atoms for x in tops), max(x.n_torsions for x in tops),
                  max(len(x.pairs) for x in tops), max(max(x.pdbqt.depth()) for x in tops))


def bookkeeping_period(period: int, compiled: bool, cuda: bool) -> int:
    """Ticks from one Monte Carlo bookkeeping tick to the next: ``period`` where one is asked for,
    else 1 for compiled CUDA batches (their ticks replay as CUDA graphs and are launch-bound;
    whether line-search ticks in between pay there is not measured yet) and :data:`CPU_PERIOD`
    for the rest."""
    if period:
        return max(1, period)
    return 1 if compiled and cuda else CPU_PERIOD


def planned_ticks(budget: Budget, top: LigandTopology, period: int = CPU_PERIOD) -> int:
    """Ticks of ``top``'s search under ``budget`` with Monte Carlo bookkeeping every ``period``-th
    tick (a compiled CPU batch's, by default)."""
    return ticks_for(budget.steps_of(top), bfgs_iterations(top.n_atoms), period)


def plan_batches(tops: list[LigandTopology], ticks: list[int], cap: int, compiled: bool,
                 need: list[int] | None = None, limit: int | None = None) -> list[list[int]]:
    """Batches of indices into ``tops``, at most ``cap`` ligands and ``limit`` bytes (``need`` per
    ligand) each, longest search first.  Ligands are ordered by ``ticks`` (each one's planned
    ticks), then (compiled) shape bucket: a batch runs until its longest search ends, every slot
    evaluated on every tick, so neighbours in ticks waste the fewest evaluations
    (docs/benchmarks.md, "Campaign batches by search size"); ticks grow with atoms and torsions,
    so neighbours mostly share a bucket and its compiled graphs too."""

    def key(i: int) -> tuple[int, ...]:
        t = tops[i]
        shape = bucket(t.n_atoms, t.n_torsions, len(t.pairs), max(t.pdbqt.depth())) if compiled else ()
        return (ticks[i], *shape, t.n_atoms, t.n_torsions)

    batches: list[list[int]] = []
    cur: list[int] = []
    used = 0
    for i in sorted(range(len(tops)), key=key, reverse=True):
        n = need[i] if need is not None else 0
        if cur and (len(cur) >= cap or (limit is not None and used + n > limit)):
            batches.append(cur)
            cur, used = [], 0
        cur.append(i)
        used += n
    if cur:
        batches.append(cur)
    return batches


def _is_oom(exc: BaseException) -> bool:
    if isinstance(exc, SimulatedOOM | MemoryError):
        return True
    oom = getattr(torch.cuda, "OutOfMemoryError", None)
    if oom is not None and isinstance(exc, oom):
        return True
    return isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()


def ligand_seed(seed: int, key: str) -> int:
    """A ligand's 63-bit search seed from the run seed and the ligand's stream key."""
    digest = hashlib.sha256(f"{seed}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & 0x7FFF_FFFF_FFFF_FFFF


def stream_key(pdbqt: str) -> str:
    """A ligand's random-stream key: the digest of its prepared PDBQT (engine 1.7.4). Its chains
    draw the same numbers whatever else is docked in the call and at whichever position (1.7.3
    and earlier keyed the stream by the position in the call). Its result can still change with
    the batch's padded shape, which changes float32 rounding (docs/validation.md, 1.7.4)."""
    return hashlib.sha256(pdbqt.encode()).hexdigest()


class BatchRun(NamedTuple):
    """A batch ready to search (see :meth:`TorchDocker.setup_batch`)."""

    batch: LigandBatch
    slots: dict[int, int]
    depth: int
    c: PoseConsts
    gc: GridConsts
    state: Search
    ticks: list[int]  # per ligand slot (padding copies included)
    planned: list[int]  # Monte Carlo steps per chain, per ligand slot
    period: int  # Monte Carlo bookkeeping every this many ticks
    chains: int


@dataclass
class TorchDocker:
    """Docks ligand PDBQTs into one receptor box on one device."""

    grid: ReceptorGrid
    budget: Budget = field(default_factory=Budget)
    params: SearchParams = field(default_factory=SearchParams)
    memory_limit_bytes: int | None = None
    max_batch: int = 64
    compile: str = "auto"  # auto | on | off
    # check each compiled shape's first tick against the eager tick (compiled.ticks_agree) and
    # search eagerly where they disagree: auto (on CUDA), on, off
    verify: str = "auto"
    cuda_graphs: bool = True  # CUDA: replay a compiled batch's ticks as CUDA graphs (graphs.py)
    graphed_batches: int = 0  # batches whose ticks ran as CUDA graph replays
    # Monte Carlo bookkeeping every this many ticks (0: the engine's, CPU_PERIOD; compiled CUDA
    # batches every tick)
    period: int = 0
    batches_run: list[int] = field(default_factory=list)  # sizes of the batches that ran
    compiled_batches: int = 0
    steps_run: list[float] = field(default_factory=list)  # mean Monte Carlo steps per chain, per ligand
    steps_planned: list[int] = field(default_factory=list)  # the budget's steps per chain, per ligand
    # per ligand, the mean over its chains of the share of a chain's steps run after its best last
    # improved: how much of the budget went on after the chains stopped finding better minima
    stale_tail: list[float] = field(default_factory=list)
    verified_shapes: set[str] = field(default_factory=set)  # compiled shapes whose first tick agreed
    mismatched_shapes: set[str] = field(default_factory=set)  # ... and those that did not: run eagerly
    streams: dict[str, str] = field(default_factory=dict)  # item key -> random-stream key (stream_key)

    @property
    def device(self) -> torch.device:
        """The device the receptor grid, and so every batch, lives on."""
        return self.grid.device

    # -- planning ------------------------------------------------------------------------
    def _budget_bytes(self) -> int | None:
        """70 % of free CUDA memory (none on CPU).  A simulated limit is not used for
        planning, only enforced when a batch runs, so that it exercises the split path."""
        if self.device.type == "cuda":
            free, _total = torch.cuda.mem_get_info(self.device)
            return int(free * 0.7)
        return None

    def _need(self, t: LigandTopology) -> int:
        return estimate_bytes(t.n_atoms, len(t.pairs), t.n_torsions, self.budget.chains_per_ligand(),
                              self.params.store)

    def _plan(self, tops: list[LigandTopology], compiled: bool) -> list[list[int]]:
        """Batches of ligand indices for this docker (:func:`plan_batches`): on CPU compiled batches
        hold at most :data:`CPU_COMPILED_BATCH` ligands, so each is padded only to its own
        neighbourhood of buckets (one graph per batch shape, kept on disk); on a GPU a run of fewer
        ligands than ``max_batch`` is one batch padded to its largest bucket (width is what a GPU needs)."""
        cap = self.max_batch
        if compiled and self.device.type == "cpu":
            cap = min(cap, CPU_COMPILED_BATCH)
        return plan_batches(tops, [self.planned_ticks(t) for t in tops], cap, compiled,
                            [self._need(t) for t in tops], self._budget_bytes())

    def _check_memory(self, tops: list[LigandTopology]) -> None:
        if self.memory_limit_bytes is None:
            return
        a = max(t.n_atoms for t in tops)
        m = max(len(t.pairs) for t in tops)
        n = max(t.n_torsions for t in tops)
        need = len(tops) * estimate_bytes(a, m, n, self.budget.chains_per_ligand(), self.params.store)
        if need > self.memory_limit_bytes:
            raise SimulatedOOM(f"batch of {len(tops)} ligands needs ~{need} bytes > limit {self.memory_limit_bytes}")

    # -- docking -------------------------------------------------------------------------
    def dock(
        self,
        items: list[tuple[str, str]],
        seed: int,
        progress: Callable[[str], None] | None = None,
        on_batch: Callable[[dict[str, list[FinalPose] | Exception]], None] | None = None,
    ) -> dict[str, list[FinalPose] | Exception]:
        """Dock ``items`` = (key, ligand PDBQT); per key a list of poses or the error.
        ``on_batch`` receives each batch's results as soon as they are ready."""
        out: dict[str, list[FinalPose] | Exception] = {}
        tops: list[LigandTopology] = []
        keys: list[str] = []
        for key, text in items:
            try:
                tops.append(build_topology(parse_ligand_pdbqt(text)))
                keys.append(key)
                self.streams[key] = stream_key(text)
            except Exception as exc:
                out[key] = exc
        if on_batch is not None and out:
            on_batch(dict(out))
        if not tops:
            return out
        self.grid.ensure(set().union(*({int(t) for t in top.xs if t >= 0} for top in tops)))
        compiled = self._use_compile(tops)
        for batch in self._plan(tops, compiled):
            before = set(out)
            self._run_split([keys[i] for i in batch], [tops[i] for i in batch], seed, compiled, out)
            if on_batch is not None:
                on_batch({k: v for k, v in out.items() if k not in before})
            if progress is not None:
                progress(f"{len(out)}/{len(items)} ligands")
        return out

    def _run_split(
        self, keys: list[str], tops: list[LigandTopology], seed: int, compiled: bool,
        out: dict[str, list[FinalPose] | Exception],
    ) -> None:
        try:
            self._check_memory(tops)
            res = self._run_batch(keys, tops, seed, compiled)
            self.batches_run.append(len(keys))
            out.update(res)
        except Exception as exc:
            if not _is_oom(exc):
                raise
            if self.device.type == "cuda":
                torch.cuda.empty_cache()
            if len(keys) == 1:
                out[keys[0]] = EngineError(f"ligand does not fit in device memory ({exc}); use fewer chains")
                return
            half = len(keys) // 2
            log.info("out of memory on a batch of %d ligands; splitting in two", len(keys))
            self._run_split(keys[:half], tops[:half], seed, compiled, out)
            self._run_split(keys[half:], tops[half:], seed, compiled, out)

    def _verifies(self) -> bool:
        if self.verify not in ("auto", "on", "off"):
            raise EngineError(f"verify must be auto, on or off, not {self.verify!r}")
        return self.verify == "on" or (self.verify == "auto" and self.device.type == "cuda")

    def _checked_first_tick(
        self, tick: Callable[..., Search], run: BatchRun, state: Search, key: str
    ) -> tuple[Search, Callable[..., Search]]:
        """The batch's first tick from ``state``, compiled, and the tick function for the rest: the
        compiled one, or the eager one where the compiled tick disagreed with it (checked once per
        shape and docker; the verdicts are kept in :attr:`verified_shapes` and :attr:`mismatched_shapes`)."""
        if key in self.mismatched_shapes:
            return mc_tick(run.c, run.gc, state, self.params, swaps=False), mc_tick
        out = tick(run.c, run.gc, state, self.params, swaps=False)
        if key in self.verified_shapes:
            return out, tick
        eager = mc_tick(run.c, run.gc, state, self.params, swaps=False)
        if ticks_agree(out, eager):
            self.verified_shapes.add(key)
            return out, tick
        self.mismatched_shapes.add(key)
        log.warning("the compiled search tick disagrees with the eager one on %s (a PyTorch %s compiler defect); "
                    "this batch shape runs eagerly (correct, slower; on CUDA as graphs of eager ticks)",
                    self.device.type, torch.__version__)
        return eager, mc_tick

    def _use_compile(self, tops: list[LigandTopology]) -> bool:
        """``compile``, or for ``auto`` whether compiling repays itself: always on a GPU and for
        32 ligands or more; on a CPU for searches long enough (:data:`AUTO_COMPILE_TICKS`)."""
        if self.compile in ("on", "off"):
            return self.compile == "on"
        if self.device.type == "cuda" or len(tops) >= 32:
            return True
        ticks = max(self.planned_ticks(t) for t in tops)
        if ticks >= AUTO_COMPILE_TICKS:
            return True
        return ticks >= AUTO_COMPILE_TICKS_CACHED and all(
            compiled_before(self.shape_key([tops[i] for i in b])) for b in self._plan(tops, compiled=True)
        )

    def planned_ticks(self, top: LigandTopology) -> int:
        """Ticks of ``top``'s search when compiled (:func:`planned_ticks` of this docker's budget
        and bookkeeping period)."""
        return planned_ticks(self.budget, top, self.bookkeeping_period(True))

    def bookkeeping_period(self, compiled: bool) -> int:
        """Ticks from one Monte Carlo bookkeeping tick to the next (:func:`bookkeeping_period`)."""
        return bookkeeping_period(self.period, compiled, self.device.type == "cuda")

    def shape_key(self, tops: list[LigandTopology]) -> str:
        """Name of the compiled graph a batch of ``tops`` runs (:func:`.compiled.shape_key`):
        what shapes and bakes constants into it."""
        shape = batch_bucket(tops)
        glue = any(bool(x.pair_glue.any()) for x in tops)
        return shape_key(self.device.type, str(self.grid.dtype), padded_size(len(tops)), shape, glue,
                         self.budget.chains_per_ligand(), self.grid.spacing, self.params)

    def setup_batch(self, keys: list[str], tops: list[LigandTopology], seed: int, use_compile: bool) -> BatchRun:
        """Everything a batch's search needs: padded batch, constants, initial state and each
        ligand's ticks (``bench/bench_torch_search.py evalcost`` times its ticks)."""
        dev, dtype = self.device, self.grid.dtype
        a, t, m, depth = batch_bucket(tops)
        n_lig = len(tops)
        if use_compile:  # pad the batch with copies, so shapes repeat across batches
            n_lig = padded_size(len(tops))
        padded = tops + [tops[0]] * (n_lig - len(tops))
        batch = LigandBatch.build(padded, device=dev, dtype=dtype, atoms=a, torsions=t, pairs=m)
        gc, slots = self.grid.consts(batch.types(), self.params.slope)
        chains = self.budget.chains_per_ligand()
        problem = ladder_mismatch(chains, self.params.ladder)
        if problem:
            raise EngineError(problem)
        lig = torch.arange(n_lig, device=dev).repeat_interleave(chains)
        # compiled: chain-major evaluation (chainmajor.py, measured for compiled ticks only); eager
        # runs keep the per-pose functions of engine 1.5.1
        c = pose_consts(batch, lig, slots, self.grid.n_points, depth=depth, chains=chains if use_compile else 0)
        lig_seeds = [ligand_seed(seed, self.streams.get(k, k)) for k in keys] + [0] * (n_lig - len(keys))
        chain_keys = [(s ^ (j * 0x9E3779B1)) & 0x7FFF_FFFF_FFFF_FFFF for s in lig_seeds for j in range(chains)]
        iter_caps = c.iter_cap.reshape(n_lig, chains)[:, 0].tolist()  # once per batch, before the search
        planned = [self.budget.steps_of(x) for x in padded]
        period = self.bookkeeping_period(use_compile)
        ticks = [ticks_for(n, cap, period) for n, cap in zip(planned, iter_caps, strict=True)]
        tick_cap = torch.tensor([k for k in ticks for _ in range(chains)], dtype=torch.long, device=dev)
        center = torch.tensor(self.grid.center, dtype=dtype, device=dev)
        size = torch.tensor(self.grid.size, dtype=dtype, device=dev)
        seeds = torch.tensor(chain_keys, dtype=torch.long, device=dev)
        state = new_search(c, center, size, seeds, tick_cap, self.params.store)
        return BatchRun(batch, slots, depth, c, gc, state, ticks, planned, period, chains)

    def _run_batch(
        self, keys: list[str], tops: list[LigandTopology], seed: int, use_compile: bool
    ) -> dict[str, list[FinalPose]]:
        run = self.setup_batch(keys, tops, seed, use_compile)
        c, gc, state, period = run.c, run.gc, run.state, run.period
        tick = tick_function(use_compile, run.chains)
        between = between_function(use_compile and period > 1, run.chains)
        swap = exchange_function(use_compile)  # the ladders' swaps, on swap ticks only (search.advance)
        key = self.shape_key(tops) if use_compile else ""
        first = 0
        if use_compile:
            self.compiled_batches += 1
            if self._verifies():
                if swap_due(self.params, 0):
                    state = swap(state, self.params)
                state, tick = self._checked_first_tick(tick, run, state, key)
                if tick is mc_tick:  # the shape runs eagerly: its swaps and line-search ticks too
                    swap, between = exchange, between_function(False)
                first = 1
        # CUDA: the compiled tick, or the eager one where it disagreed (launch-bound either way:
        # an eager tick launches ~10x the kernels), replayed as CUDA graphs
        if use_compile and self.device.type == "cuda" and self.cuda_graphs:
            state, graphed = run_ticks(tick, c, gc, state, self.params, max(run.ticks) - first, start=first,
                                       swap=swap, period=period, between=between)
            self.graphed_batches += int(graphed)
        else:
            state = advance(tick, c, gc, state, self.params, first, max(run.ticks), period, swap, between)
        if use_compile:
            mark_compiled(key)
        n_lig = len(run.planned)
        self.steps_run.extend(state.ch.step.reshape(n_lig, run.chains)[: len(keys)].float().mean(1).tolist())
        self.steps_planned.extend(run.planned[: len(keys)])
        tail = (state.ch.stale.float() / state.ch.step.clamp(min=1).float()).reshape(n_lig, run.chains)
        self.stale_tail.extend(tail[: len(keys)].mean(1).tolist())
        seeds = state.ch.seed.reshape(n_lig, run.chains)[:, 0]
        res = finish_batch(self.grid, run.batch, run.slots, run.depth, state.st, run.chains, self.params, seeds)
        return {k: res[i] for i, k in enumerate(keys)}
