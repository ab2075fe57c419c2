"""Device selection, memory-aware batching with out-of-memory split-and-retry, and the
per-ligand docking pipeline (search -> exact refinement -> clustering -> scored poses)."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from dockdb.errors import EngineError

from .grids import ReceptorGrid
from .pdbqt import LigandPDBQT, parse_ligand_pdbqt
from .pose import LigandBatch, PoseContext, quat_to_matrix
from .search import SearchParams, State, cluster, make_draws, monte_carlo, refine_exact
from .topology import LigandTopology, build_topology

__all__ = [
    "DockedPose",
    "SimulatedOOM",
    "TorchDocker",
    "estimate_bytes",
    "resolve_device",
]

log = logging.getLogger(__name__)


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


def estimate_bytes(n_atoms: int, n_pairs: int, n_tors: int, chains: int) -> int:
    """Rough peak memory of one ligand's chains during search (forward + autograd, float32)."""
    dim = 6 + n_tors
    per_pose = 4 * (n_atoms * 160 + n_pairs * 40 + (n_tors + 1) * 120 + dim * dim * 6)
    return int(chains * per_pose * 1.5) + 1


def _is_oom(exc: BaseException) -> bool:
    if isinstance(exc, SimulatedOOM | MemoryError):
        return True
    oom = getattr(torch.cuda, "OutOfMemoryError", None)
    if oom is not None and isinstance(exc, oom):
        return True
    return isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()


@dataclass(frozen=True)
class DockedPose:
    """One final pose: coordinates in input atom order and Vina-style energies."""

    coords: np.ndarray
    total: float
    inter: float
    intra: float
    torsions: float
    intra_best: float
    rmsd_lb: float
    rmsd_ub: float


def ligand_seed(seed: int, key: str) -> int:
    digest = hashlib.sha256(f"{seed}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & 0x7FFF_FFFF_FFFF_FFFF


class TorchDocker:
    """Docks ligand PDBQTs into one receptor box on one device."""

    def __init__(
        self,
        grid: ReceptorGrid,
        params: SearchParams,
        *,
        memory_limit_bytes: int | None = None,
        max_batch: int = 64,
    ) -> None:
        self.grid = grid
        self.params = params
        self.device = grid.device
        self.memory_limit_bytes = memory_limit_bytes
        self.max_batch = max_batch
        self.batches_run: list[int] = []  # sizes of the batches that ran (for tests/bench)

    # -- memory ------------------------------------------------------------------------
    def _budget(self) -> int | None:
        """Planning budget: 70% of free CUDA memory (none on CPU).  A simulated limit is *not*
        used for planning, only enforced when a batch runs, so that it exercises the split path."""
        if self.device.type == "cuda":
            free, _total = torch.cuda.mem_get_info(self.device)
            return int(free * 0.7)
        return None

    def _plan(self, tops: list[LigandTopology]) -> list[list[int]]:
        """Batches of ligand indices, sized by the memory budget (largest ligands first)."""
        budget = self._budget()
        order = sorted(range(len(tops)), key=lambda i: -tops[i].n_atoms)
        batches: list[list[int]] = []
        cur: list[int] = []
        used = 0
        for i in order:
            t = tops[i]
            need = estimate_bytes(t.n_atoms, len(t.pairs), t.n_torsions, self.params.chains)
            if cur and (len(cur) >= self.max_batch or (budget is not None and used + need > budget)):
                batches.append(cur)
                cur, used = [], 0
            cur.append(i)
            used += need
        if cur:
            batches.append(cur)
        return batches

    def _check_memory(self, tops: list[LigandTopology]) -> None:
        if self.memory_limit_bytes is None:
            return
        a = max(t.n_atoms for t in tops)
        m = max(len(t.pairs) for t in tops)
        n = max(t.n_torsions for t in tops)
        need = len(tops) * estimate_bytes(a, m, n, self.params.chains)
        if need > self.memory_limit_bytes:
            raise SimulatedOOM(f"batch of {len(tops)} ligands needs ~{need} bytes > limit {self.memory_limit_bytes}")

    # -- docking -----------------------------------------------------------------------
    def dock(
        self, items: list[tuple[str, str]], seed: int, progress: Callable[[str], None] | None = None
    ) -> dict[str, list[DockedPose] | Exception]:
        """Dock ``items`` = (key, ligand PDBQT); per key a list of poses or the error."""
        out: dict[str, list[DockedPose] | Exception] = {}
        tops: list[LigandTopology] = []
        keys: list[str] = []
        for key, text in items:
            try:
                tops.append(build_topology(parse_ligand_pdbqt(text)))
                keys.append(key)
            except Exception as exc:
                out[key] = exc
        if not tops:
            return out
        self.grid.ensure(set().union(*({int(t) for t in top.xs if t >= 0} for top in tops)))
        for batch in self._plan(tops):
            self._run_split([keys[i] for i in batch], [tops[i] for i in batch], seed, out)
            if progress is not None:
                progress(f"{len(out)}/{len(items)} ligands")
        return out

    def _run_split(
        self, keys: list[str], tops: list[LigandTopology], seed: int, out: dict[str, list[DockedPose] | Exception]
    ) -> None:
        try:
            self._check_memory(tops)
            res = self._run_batch(keys, tops, seed)
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
            self._run_split(keys[:half], tops[:half], seed, out)
            self._run_split(keys[half:], tops[half:], seed, out)

    def _run_batch(self, keys: list[str], tops: list[LigandTopology], seed: int) -> dict[str, list[DockedPose]]:
        p = self.params
        dev, dtype = self.device, self.grid.dtype
        batch = LigandBatch.build(tops, device=dev, dtype=dtype)
        flat, slots = self.grid.flat_maps(batch.types())
        n_lig = len(tops)
        lig = torch.arange(n_lig, device=dev).repeat_interleave(p.chains)
        ctx = PoseContext(batch, lig, slots)
        draws = make_draws(
            [ligand_seed(seed, k) for k in keys], p.chains, p.steps, [t.n_torsions for t in tops],
            batch.n_torsions_max, dev, dtype,
        )
        with torch.no_grad():
            states, energies, chain = monte_carlo(ctx, self.grid, flat, p, draws)
        owner = torch.div(chain, p.chains, rounding_mode="floor")
        # pick each ligand's best distinct minima (grid energies) for exact refinement
        picks: list[torch.Tensor] = []
        for i in range(n_lig):
            idx = torch.nonzero(owner == i).squeeze(-1)
            if idx.numel() == 0:
                continue
            idx = idx[torch.argsort(energies[idx])][: max(200, 8 * p.refine_top)]
            sub = PoseContext(batch, torch.full((idx.numel(),), i, device=dev), slots)
            st = states.index(idx)
            x = sub.coords(st.pos, quat_to_matrix(st.quat), st.tors)
            keep = cluster(x, energies[idx], sub.heavy[0].to(dtype), 0.5)[: p.refine_top]
            picks.append(idx[torch.as_tensor(keep, device=dev, dtype=torch.long)])
        sel = torch.cat(picks)
        rctx = PoseContext(batch, owner[sel], slots)
        refined, _e_ref = refine_exact(rctx, self.grid, states.index(sel), p.refine_steps, p.slope)
        with torch.no_grad():
            x = rctx.coords(refined.pos, quat_to_matrix(refined.quat), refined.tors)
            xs = batch.xs[rctx.lig]
            near = self.grid.near_atoms_per_pose(torch.where(rctx.heavy[..., None], x, x[:, :1]), margin=0.5)
            inter = self.grid.exact_per_pose(x, xs, near, cap=1000.0, slope=p.slope).sum(-1)
            intra = rctx.intra(x, 1000.0)
        return {keys[i]: self._final_poses(i, rctx, x, inter, intra) for i in range(n_lig)}

    def _final_poses(
        self, i: int, ctx: PoseContext, x: torch.Tensor, inter: torch.Tensor, intra: torch.Tensor
    ) -> list[DockedPose]:
        p = self.params
        mine = torch.nonzero(ctx.lig == i).squeeze(-1)
        if mine.numel() == 0:
            return []
        e = (inter + intra)[mine]
        heavy = ctx.heavy[mine[0]].to(x.dtype)
        order = cluster(x[mine], e, heavy, p.min_rmsd)
        best = order[0]
        intra_best = float(intra[mine[best]])
        norm = 1.0 / (1.0 + 0.05846 * float(ctx.num_tors[mine[0]]))
        e_best = float(e[best])
        n_atoms = int(ctx.atom_mask[mine[0]].sum())
        xs = ctx.batch.xs[i].cpu().numpy()[:n_atoms]
        ref = x[mine[best]].detach().cpu().numpy()[:n_atoms]
        poses: list[DockedPose] = []
        for j in order:
            if len(poses) >= p.n_poses or float(e[j]) > e_best + p.energy_range:
                break
            k = int(mine[j])
            total = (float(inter[k]) + float(intra[k]) - intra_best) * norm
            coords = x[k].detach().cpu().numpy()[:n_atoms].astype(np.float64)
            lb, ub = _rmsd_bounds(coords, ref, xs)
            poses.append(DockedPose(
                coords=coords, total=total, inter=float(inter[k]), intra=float(intra[k]),
                torsions=total - (float(inter[k]) + float(intra[k]) - intra_best), intra_best=intra_best,
                rmsd_lb=lb, rmsd_ub=ub,
            ))  # fmt: skip
        return poses


def _rmsd_bounds(a: np.ndarray, b: np.ndarray, xs: np.ndarray) -> tuple[float, float]:
    """Vina-style RMSD lower bound (nearest same-type atom) and upper bound (same index)."""
    heavy = xs >= 0
    if not heavy.any():
        return 0.0, 0.0
    ub = float(np.sqrt(((a[heavy] - b[heavy]) ** 2).sum(-1).mean()))
    d2 = []
    for t in np.unique(xs[heavy]):
        ia, ib = a[xs == t], b[xs == t]
        dd = ((ia[:, None] - ib[None]) ** 2).sum(-1)
        d2.append(dd.min(1))
    lb = float(np.sqrt(np.concatenate(d2).mean()))
    return lb, ub


def pose_state(lig: LigandPDBQT, device: torch.device, dtype: torch.dtype) -> tuple[LigandTopology, State]:
    """Topology of a pose PDBQT and the state that reproduces its coordinates."""
    top = build_topology(lig)
    pos = torch.as_tensor(top.root_origin, dtype=dtype, device=device)[None]
    quat = torch.tensor([[1.0, 0.0, 0.0, 0.0]], dtype=dtype, device=device)
    tors = torch.zeros((1, max(1, top.n_torsions)), dtype=dtype, device=device)
    return top, State(pos, quat, tors)
