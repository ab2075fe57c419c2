"""The ``torch`` docking engine: Vina 1.2 scoring and a batched Monte Carlo search in PyTorch.

Same interface and pose outputs as the ``vina`` engine: every pose is a single-model PDBQT
(``REMARK VINA RESULT`` line + the input PDBQT with new coordinates, input atom order), so
Meeko rebuilds the molecule with bond orders for the SDF exactly as for Vina poses.  Torch
is imported only when the engine is used, so registering it costs nothing without torch.
"""

from __future__ import annotations

import math
import time
from concurrent.futures import Future, ThreadPoolExecutor
from importlib import metadata
from typing import Any

from dockdb.errors import EngineError
from docking._util import sha256_of
from docking.engines import register_engine
from docking.engines.base import DockingEngine, EnginePose, LigandDockResult, ScoredPose
from docking.engines.params import check_params
from docking.ligand import PreparedLigand
from docking.pocket import Box

from .modes import VINA_TEMPERATURE

__all__ = ["TorchEngine"]

_DOCK_TERMS = ("total", "inter", "intra", "torsions", "intra_best_pose")


_LEGACY = {"local_steps", "refine_top"}  # engine 0.2 parameters: accepted, no longer used
# ligands per device pass when ``max_batch`` is 0 (the default).  A GPU wants width: at 64
# drug-sized ligands x 48 chains (3,072 poses) an H200 was launch-bound (docs/benchmarks.md, "GPU"),
# so CUDA passes hold 512 (provisional: bench/gpu_check.sh measures 64, 512 and 2,048); a CPU
# pass 64 (compiled CPU batches are cut to 8 ligands anyway, docker.CPU_COMPILED_BATCH)
CPU_MAX_BATCH = 64
CUDA_MAX_BATCH = 512
GPU_TASK_BATCH = 1024  # ligands per campaign task on CUDA: two default device passes


@register_engine("torch")
class TorchEngine(DockingEngine):
    """PyTorch engine (Vina 1.2 scoring, batched Monte Carlo search).  Params: device
    (auto|cpu|cuda), mode (fast|balanced|detail), chains and steps (override the mode's
    budget), fraction (the share of Vina exhaustiveness 8's total Monte Carlo steps a ligand's chains
    spend; default the mode's: 0.03 ``fast`` since engine 1.16, 0.32 ``balanced``, 1 ``detail``),
    exhaustiveness (scales the mode's chains by N/8), n_poses, energy_range,
    min_rmsd, refine (distinct minima refined with exact pair sums), starts (random poses each
    chain minimises before its Monte Carlo moves, keeping the lowest; default the mode's),
    polish (rounds in which each ligand's best final poses are jiggled and re-minimised, kept
    where lower; default the mode's, 0: none), rotamers (each ligand's this many best final poses get
    every free torsion turned alone to the other rotamers, re-minimised, kept where lower; default the
    mode's, 0: none), temperature (Metropolis temperature at the start of
    each chain, moving to Vina's 1.2 by its end; default 1.2: Vina's constant), ladder (parallel
    tempering: a ligand's chains form ladders of this many, from the temperature up to ladder_top,
    that swap configurations; must divide the chains per ligand; default the mode's, 1: none, as
    Vina), ladder_top (the hottest chain's temperature; default 2.4), store
    (minima kept per chain), spacing, max_batch (ligands per device pass; 0: 512 on CUDA, 64 on
    CPU), compile (auto|on|off), memory_limit_mb (simulated device memory limit, for testing the
    out-of-memory split path), threads (CPU threads), period (Monte Carlo bookkeeping every this many
    ticks on a CPU, line searches alone in between; 0: the engine's, 4; 1 gives engine 1.9's compiled
    search; compiled CUDA batches every tick unless a period is given), first_step (the longest first
    line-search trial of each Monte Carlo step's local optimisation, in the change vector's units, Å and
    radians; default 0: the raw gradient, as Vina), min_step (a line search gives up where its
    next trial would be shorter than this; default 0: after Vina's 10 trials), backtrack (after a failed
    line-search trial: halve the step, as Vina, or interpolate, the minimum of the quadratic through the
    energies and slope, kept within 0.1 to 0.5 of the failed step), stall (a local optimisation ends once its
    last two accepted steps together lowered the energy by less than this many kcal/mol; default the
    mode's: 0.03 for ``balanced`` since engine 1.11 and ``fast`` since 1.16, 0 for ``detail``, never, as Vina),
    stall_after (``stall`` ends only optimisations that have taken at least this many accepted steps; default
    the mode's, 0: from the second, as engine 1.11)."""

    name = "torch"

    def __init__(
        self,
        *,
        device: str = "auto",
        mode: str = "balanced",
        chains: int = 0,
        steps: int = 0,
        fraction: float = 0.0,
        exhaustiveness: int | None = None,
        n_poses: int = 9,
        energy_range: float = 3.0,
        min_rmsd: float = 1.0,
        refine: int = 0,
        starts: int | None = None,
        polish: int | None = None,
        rotamers: int | None = None,
        temperature: float = VINA_TEMPERATURE,
        ladder: int | None = None,
        ladder_top: float = 2.4,
        store: int = 8,
        spacing: float = 0.375,
        max_batch: int = 0,
        compile: str = "auto",
        memory_limit_mb: float | None = None,
        threads: int = 0,
        period: int = 0,
        first_step: float = 0.0,
        min_step: float = 0.0,
        backtrack: str = "halve",
        stall: float | None = None,
        stall_after: int | None = None,
        **legacy: object,
    ) -> None:
        from .modes import MODES, ladder_mismatch

        unknown = sorted(set(legacy) - _LEGACY)
        if unknown:
            raise EngineError(f"unknown torch engine parameter(s) {', '.join(unknown)}; see `dockdb dock --help`")
        check_params(
            self.name,
            {"mode": mode, "compile": compile, "chains": chains, "steps": steps, "fraction": fraction,
             "exhaustiveness": exhaustiveness,
             "n_poses": n_poses, "energy_range": energy_range, "min_rmsd": min_rmsd, "refine": refine,
             "starts": starts, "polish": polish, "rotamers": rotamers, "temperature": temperature, "ladder": ladder,
             "ladder_top": ladder_top, "store": store, "spacing": spacing, "max_batch": max_batch,
             "memory_limit_mb": memory_limit_mb, "threads": threads, "period": period, "first_step": first_step,
             "min_step": min_step, "backtrack": backtrack, "stall": stall,
             "stall_after": stall_after},
            at_least={"chains": 0, "steps": 0, "fraction": 0, "refine": 0, "starts": 0, "polish": 0, "rotamers": 0,
                      "store": 1, "max_batch": 0, "threads": 0, "ladder": 1, "period": 0, "first_step": 0,
                      "min_step": 0, "stall": 0, "stall_after": 0},
            above={"memory_limit_mb": 0, "temperature": 0, "ladder_top": 0},
            choices={"mode": tuple(MODES), "compile": ("auto", "on", "off"), "backtrack": ("halve", "interpolate")},
        )  # fmt: skip
        if device not in ("auto", "cpu") and not str(device).startswith("cuda"):
            raise EngineError(f"unknown device {device!r}; use cuda, cpu or auto")
        super().__init__(
            device=str(device), mode=mode, chains=int(chains), steps=int(steps), fraction=float(fraction),
            exhaustiveness=None if exhaustiveness is None else int(exhaustiveness), n_poses=int(n_poses),
            energy_range=float(energy_range), min_rmsd=float(min_rmsd),
            refine=int(refine) or MODES[mode].refine,
            starts=MODES[mode].starts if starts is None else int(starts),
            polish=MODES[mode].polish if polish is None else int(polish),
            rotamers=MODES[mode].rotamers if rotamers is None else int(rotamers),
            temperature=float(temperature), ladder=MODES[mode].ladder if ladder is None else int(ladder),
            ladder_top=float(ladder_top),
            store=int(store), spacing=float(spacing),
            max_batch=int(max_batch), compile=compile,
            memory_limit_mb=None if memory_limit_mb is None else float(memory_limit_mb), threads=int(threads),
            period=int(period), first_step=float(first_step), min_step=float(min_step), backtrack=backtrack,
            stall=MODES[mode].stall if stall is None else float(stall),
            stall_after=MODES[mode].stall_after if stall_after is None else int(stall_after),
        )  # fmt: skip
        problem = ladder_mismatch(self._budget().chains_per_ligand(), self.params["ladder"])
        if problem:
            raise EngineError(f"bad torch engine parameters: {problem}")
        self._grids: dict[str, Any] = {}
        self.last_docker: Any = None

    @property
    def version(self) -> str:
        """Engine version stored with every result: search version and PyTorch version."""
        try:
            tv = metadata.version("torch")
        except metadata.PackageNotFoundError:
            tv = "missing"
        return f"dockdb-torch-1.16+torch{tv}"

    @property
    def preferred_batch(self) -> int:
        """Ligands per campaign task: :data:`GPU_TASK_BATCH` on CUDA (several device passes of
        ``max_batch`` per task, so the GPU is not idle between tasks), one device pass on CPU."""
        return max(GPU_TASK_BATCH, self.max_batch) if self._on_cuda() else self.max_batch

    @property
    def max_batch(self) -> int:
        """Ligands per device pass: the ``max_batch`` parameter, or for 0 :data:`CUDA_MAX_BATCH`
        on CUDA and :data:`CPU_MAX_BATCH` on CPU."""
        n = int(self.params["max_batch"])
        return n or (CUDA_MAX_BATCH if self._on_cuda() else CPU_MAX_BATCH)

    def _on_cuda(self) -> bool:
        device = str(self.params["device"])
        return device.startswith("cuda") or (device == "auto" and self._device().type == "cuda")

    @property
    def uses_gpu(self) -> bool:
        """True when this engine will run on CUDA (campaign tasks then request a ``GPU`` worker)."""
        return self._device().type == "cuda"

    @property
    def resource(self) -> str:
        """Worker resource a campaign task should request: ``GPU`` on CUDA, else ``CPU``."""
        return "GPU" if self._device().type == "cuda" else "CPU"

    # -- helpers ---------------------------------------------------------------------------
    def _device(self) -> Any:
        try:
            import torch  # noqa: F401
        except ImportError as exc:
            raise EngineError("the torch engine needs PyTorch; pip install 'dockdb[gpu]' or torch") from exc
        from .docker import resolve_device

        return resolve_device(self.params["device"])

    def _grid(self, receptor_pdbqt: str, box: Box) -> Any:
        from .grids import ReceptorGrid
        from .pdbqt import parse_receptor_pdbqt

        key = sha256_of(receptor_pdbqt, list(box.center), list(box.size), self.params["spacing"])
        if key not in self._grids:
            if len(self._grids) >= 4:
                self._grids.pop(next(iter(self._grids)))
            rec = parse_receptor_pdbqt(receptor_pdbqt)
            self._grids[key] = ReceptorGrid(rec, box.center, box.size, spacing=self.params["spacing"],
                                            device=self._device())
        return self._grids[key]

    def _docker(self, grid: Any) -> Any:
        from .docker import TorchDocker
        from .search import SearchParams

        p = self.params
        limit = p["memory_limit_mb"]
        return TorchDocker(
            grid,
            budget=self._budget(),
            params=SearchParams(n_poses=p["n_poses"], min_rmsd=p["min_rmsd"], energy_range=p["energy_range"],
                                store=p["store"], refine_candidates=p["refine"], starts=self._starts(),
                                polish_rounds=p["polish"], rotamer_poses=p["rotamers"], temperature=p["temperature"],
                                ladder=p["ladder"], ladder_top=p["ladder_top"],
                                first_step=p["first_step"] or math.inf, min_step=p["min_step"],
                                interpolate=p["backtrack"] == "interpolate", stall=p["stall"],
                                stall_after=p["stall_after"]),
            memory_limit_bytes=None if limit is None else int(limit * 2**20),
            max_batch=self.max_batch, compile=p["compile"], period=p["period"],
        )

    def _budget(self) -> Any:
        from .modes import Budget

        p = self.params
        return Budget(mode=p["mode"], chains=p["chains"], steps=p["steps"], exhaustiveness=p["exhaustiveness"] or 0,
                      ladder=p["ladder"], fraction=p["fraction"])

    def _starts(self) -> int:
        """Random starts per chain: the parameter (default the mode's), at most a quarter of an
        explicit ``steps`` budget, so that a short chain still has Monte Carlo moves."""
        starts, steps = int(self.params["starts"]), int(self.params["steps"])
        return min(starts, steps // 4) if steps else starts

    def _threads(self) -> None:
        import torch

        if self.params["threads"] > 0:
            torch.set_num_threads(self.params["threads"])

    # -- interface ---------------------------------------------------------------------------
    def dock(
        self, receptor_pdbqt: str, box: Box, ligands: list[PreparedLigand], *, seed: int = 42
    ) -> list[LigandDockResult]:
        """Dock every variant of ``ligands`` into ``box`` of the receptor: one result per ligand,
        the poses of all its variants best first."""
        self._threads()
        t0 = time.perf_counter()
        grid = self._grid(receptor_pdbqt, box)
        docker = self._docker(grid)
        self.last_docker = docker
        items = [(f"{i}:{j}", v.pdbqt) for i, lig in enumerate(ligands) for j, v in enumerate(lig.variants)]
        raw: dict[str, Any] = {}
        pending = {i: len(lig.variants) for i, lig in enumerate(ligands)}
        futures: dict[int, Future[tuple[list[EnginePose], str | None]]] = {}
        # pose export (PDBQT text, Meeko SDF) runs on host threads while the device docks the next batch
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="torch-export") as pool:

            def batch_done(done: dict[str, Any]) -> None:
                raw.update(done)
                for key in done:
                    i = int(key.split(":")[0])
                    pending[i] -= 1
                    if pending[i] == 0:
                        futures[i] = pool.submit(self._export, i, ligands[i], raw)

            docker.dock(items, seed=seed, on_batch=batch_done)
            exported = {i: f.result() for i, f in futures.items()}
        per_lig_time = (time.perf_counter() - t0) / max(1, len(ligands))
        results: list[LigandDockResult] = []
        for i, lig in enumerate(ligands):
            poses, error = exported.get(i, ([], "the torch engine returned no result"))
            results.append(LigandDockResult(
                name=lig.name, input_hash=lig.input_hash, poses=poses, error=error,
                runtime_s=round(per_lig_time, 3), engine=self.name, engine_version=self.version,
                params={**self.params, "seed": seed, "device_used": str(grid.device)},
            ))  # fmt: skip
        return results

    def _export(self, i: int, lig: PreparedLigand, raw: dict[str, Any]) -> tuple[list[EnginePose], str | None]:
        """Poses of one ligand (all its variants, best first) as PDBQT and SDF, or the error."""
        from docking.poses import pdbqt_to_sdf_blocks

        from .pdbqt import format_single_pose, parse_ligand_pdbqt

        try:
            cands: list[tuple[float, dict[str, float], str, str]] = []
            errors: list[str] = []
            for j, variant in enumerate(lig.variants):
                res = raw.get(f"{i}:{j}")
                if isinstance(res, Exception) or res is None:
                    errors.append(f"{type(res).__name__}: {res}")
                    continue
                parsed = parse_ligand_pdbqt(variant.pdbqt)
                for p in res:
                    terms = dict(zip(_DOCK_TERMS, (p.total, p.inter, p.intra, p.torsions, p.intra_best), strict=True))
                    terms = {k: round(float(v), 4) for k, v in terms.items()}
                    model = format_single_pose(parsed, p.coords, p.total, p.rmsd_lb, p.rmsd_ub)
                    cands.append((round(p.total, 4), terms, model, variant.smiles))
            if not cands:
                raise EngineError(errors[0] if errors else "the torch engine returned no pose")
            cands.sort(key=lambda c: c[0])
            return [
                EnginePose(rank=r, score=sc, terms=t, pdbqt=m, sdf=pdbqt_to_sdf_blocks(m)[0], variant_smiles=smi)
                for r, (sc, t, m, smi) in enumerate(cands[: self.params["n_poses"]], 1)
            ], None
        except Exception as exc:
            return [], f"{type(exc).__name__}: {exc}".splitlines()[0]

    def score(self, receptor_pdbqt: str, box: Box, pose_pdbqt: str) -> ScoredPose:
        """Score a pose in place, as ``vina.Vina.score()`` (exact pair sums, no grid)."""
        from .rescore import score_pose

        self._threads()
        grid = self._grid(receptor_pdbqt, box)
        terms = score_pose(grid, pose_pdbqt)
        return ScoredPose(score=terms["total"], terms=terms)

    def optimize(self, receptor_pdbqt: str, box: Box, pose_pdbqt: str, max_steps: int = 0) -> tuple[ScoredPose, str]:
        """Local optimisation of a pose (as ``vina.Vina.optimize()``); returns score and PDBQT."""
        from .rescore import optimize_pose

        self._threads()
        grid = self._grid(receptor_pdbqt, box)
        terms, model = optimize_pose(grid, pose_pdbqt, max_steps=max_steps)
        return ScoredPose(score=terms["total"], terms=terms), model
