"""After the search: every chain's stored minima -> distinct final poses, as Vina finishes.

1. Each ligand's best distinct stored minima (all chains, clustered at ``min_rmsd`` as Vina
   merges its chains' results) are re-optimised on the grid with uncapped ("authentic", 1000)
   energies; the search ran under the hunt cap.
2. They are clustered at ``min_rmsd`` (best first), and the best ``refine_candidates``
   distinct ones are refined with exact receptor pair sums (Vina's grid-free final
   refinement), with per-pose receptor neighbour lists built on the device.
   Then (engine 1.8) each ligand's ``polish_poses`` best distinct ones are polished
   (:func:`polish`: jiggled and re-minimised, kept where lower).
3. Exact energies, a second clustering, and up to ``n_poses`` poses whose scores lie within
   ``energy_range`` of the best one's (Vina 1.2's window); the score is Vina's: (inter + intra -
   intra of the best pose) / (1 + 0.05846 N_rot).

Everything runs on fixed shapes on the device; the results cross to the host once per batch.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch

from .batch import LigandBatch
from .cluster import greedy_cluster
from .energy import GridConsts, exact_energy_grad, exact_inter_grad, intra_grad, near_pairs
from .grids import ReceptorGrid
from .kinematics import PoseConsts, forward, pose_consts
from .moves import apply_change, hash_uniform, in_ball
from .ordered import ordered_sum
from .scoring import W_ROT
from .search import (
    AUTHENTIC_CAP,
    MICRO_PER_ITER,
    EnergyFn,
    LocalOpt,
    SearchParams,
    Store,
    grid_energy,
    lbfgs_init,
    lbfgs_micro_with,
)

__all__ = ["ROTAMER_TURNS", "FinalPose", "finish_batch", "refine", "rotamer_candidates"]


@dataclass(frozen=True)
class FinalPose:
    """One final pose of the search (before export as an EnginePose): coordinates in input atom
    order and Vina-style energies."""

    coords: np.ndarray
    total: float
    inter: float
    intra: float
    torsions: float
    intra_best: float
    rmsd_lb: float
    rmsd_ub: float


def refine(
    c: PoseConsts, efn: EnergyFn, pos: torch.Tensor, quat: torch.Tensor, tors: torch.Tensor, evals: int
) -> LocalOpt:
    """BFGS from the poses with energy function ``efn`` for ``evals`` evaluations, each pose stopping
    at its own ligand's cap (``MICRO_PER_ITER`` per allowed BFGS iteration, as in the search), so a
    ligand is refined alike whatever larger ligand shares its batch."""
    opt = lbfgs_init(c, efn, pos, quat, tors)
    cap = torch.ceil(MICRO_PER_ITER * c.iter_cap)
    for _ in range(evals):
        opt = lbfgs_micro_with(c, efn, opt)
        opt = opt._replace(active=opt.active & (opt.evals < cap))
    return opt


# hash steps of the polish's perturbations: apart from the search's mutation steps and random starts
_POLISH_STREAM = 1 << 29
# per polish round, in turn: translation (Å) and rotation (Å at the radius of gyration) within a ball
# of this radius, every torsion turned by up to half this many radians
POLISH_AMPLITUDES = (0.4, 0.2, 0.1)

Pose = tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]  # pos, quat, tors, energy


def polish(c: PoseConsts, efn: EnergyFn, pose: Pose, keys: torch.Tensor, rounds: int, evals: int) -> Pose:
    """Basin hopping at the bottom of each pose's basin: ``rounds`` times, every pose is jiggled a
    little (translation, orientation and all torsions at once, amplitudes
    :data:`POLISH_AMPLITUDES` in turn), minimised for ``evals`` evaluations, and the result kept
    where it is lower.  Refinement alone stops in the first local minimum it meets, and the energy
    surface near a basin's bottom has shallow minima a few hundredths of a kcal/mol apart (the
    grid's interpolation and the pair terms' cutoff make it rough); a long Vina chain revisits its
    best basin often enough to settle in the lowest, a short chain does not. The energy never
    rises. ``keys`` (P,): each pose's random-stream key."""
    pos, quat, tors, f = pose
    n_t = tors.shape[1]
    for k in range(rounds):
        a = POLISH_AMPLITUDES[k % len(POLISH_AMPLITUDES)]
        step = torch.full((), _POLISH_STREAM + k, dtype=torch.long, device=keys.device)
        u = hash_uniform(keys, step, 10 + n_t).to(pos.dtype)
        shift = a * in_ball(u[:, :5])
        rotv = (a / c.gyration.clamp(min=0.5))[:, None] * in_ball(u[:, 5:10])
        turn = (u[:, 10:] * 2 - 1) * (0.5 * a) * c.tors_mask * (1.0 - c.ring_tors)
        p, q, t = apply_change(pos, quat, tors, torch.cat([shift, rotv, turn], -1))
        o = refine(c, efn, p, q, t, evals)
        better = torch.isfinite(o.f) & (o.f < f)
        b = better[:, None]
        pos, quat, tors = torch.where(b, o.pos, pos), torch.where(b, o.quat, quat), torch.where(b, o.tors, tors)
        f = torch.where(better, o.f, f)
    return pos, quat, tors, f


# turns (radians) tried on each free torsion alone by the rotamer sweep: a staggered or flipped rotamer
ROTAMER_TURNS = (2 * math.pi / 3, math.pi, -2 * math.pi / 3)


def rotamer_candidates(c: PoseConsts, tors: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Torsions (P * K, T) of every pose's ``K = len(ROTAMER_TURNS) * T`` one-torsion turns (pose-major:
    pose i's candidates are rows ``i K .. (i + 1) K - 1``), and whether each turns a free torsion (padding
    and ring-closure torsions give unchanged copies, marked False)."""
    n_t = tors.shape[1]
    turns = torch.tensor(ROTAMER_TURNS, dtype=tors.dtype, device=tors.device)
    eye = torch.eye(n_t, dtype=tors.dtype, device=tors.device)
    delta = (turns[:, None, None] * eye[None]).reshape(-1, n_t)  # (K, T): turn k on torsion j
    free = c.tors_mask * (1.0 - c.ring_tors)  # (P, T)
    moved = delta[None] * free[:, None, :]  # (P, K, T)
    cand = (tors[:, None, :] + moved).reshape(-1, n_t)
    valid = (moved != 0).any(-1).reshape(-1)
    return cand, valid


def rotamer_sweep(gc: GridConsts, pose: Pose, lig: torch.Tensor, make: Callable[[torch.Tensor], PoseConsts],
                  evals: int, max_copies: int = 32_768) -> Pose:
    """The lowest one-torsion turn of each pose (``pose``: pos, quat, tors, energy of ``P`` poses of ligands
    ``lig``; ``make(ligands)``: their pose consts): every free torsion turned alone by each of
    :data:`ROTAMER_TURNS`, the copies minimised for ``evals`` evaluations on the grid (maps ``gc``,
    uncapped), each pose's lowest copy returned (pos, quat, tors, energy; +inf where a pose has no free
    torsion).  A pose whose ligand
    settled with one rotamer wrong (a flipped methoxy, an amide the wrong way round) sits in a minimum that
    small jiggles (:func:`polish`) cannot leave: the right rotamer is a third of a turn away.  Poses go in
    chunks of at most ``max_copies`` copies (a big GPU batch's copies and their inverse Hessians at once
    would take GBs)."""
    pos, quat, tors, _f = pose
    cand, valid = rotamer_candidates(make(lig), tors)
    k = cand.shape[0] // tors.shape[0]
    per = max(1, max_copies // k)
    out: list[list[torch.Tensor]] = [[], [], [], []]
    for s in range(0, tors.shape[0], per):
        n = min(per, tors.shape[0] - s)
        rows = slice(s * k, (s + n) * k)
        cc = make(lig[s:s + n].repeat_interleave(k))
        o = refine(cc, grid_energy(cc, gc, AUTHENTIC_CAP), pos[s:s + n].repeat_interleave(k, 0),
                   quat[s:s + n].repeat_interleave(k, 0), cand[rows], evals)
        f = torch.where(valid[rows] & torch.isfinite(o.f), o.f, torch.full_like(o.f, float("inf"))).reshape(-1, k)
        fbest, j = f.min(1)
        row = torch.arange(n, device=tors.device) * k + j
        for acc, v in zip(out, (o.pos[row], o.quat[row], o.tors[row], fbest), strict=True):
            acc.append(v)
    p, q, t, f_out = (torch.cat(v) for v in out)
    return p, q, t, f_out


def _take(t: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """Rows ``idx`` (L, R) of per-ligand candidates ``t`` (L, N, ...)."""
    shape = idx.shape + t.shape[2:]
    return torch.gather(t, 1, idx.reshape(idx.shape + (1,) * (t.dim() - 2)).expand(shape))


def _distinct_first(order: torch.Tensor, keep: torch.Tensor, r: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Candidate indices (L, r) of each ligand's first ``r`` in a clustering's ``order`` (best
    first), the distinct ones (``keep``) before the rest, and whether each is distinct."""
    n = order.shape[1]
    rank = torch.arange(n, device=order.device).expand_as(order)
    _, first = torch.topk(torch.where(keep, rank, rank + n), r, dim=1, largest=False)
    return torch.gather(order, 1, first), torch.gather(keep, 1, first)


def _distinct_best(
    x: torch.Tensor, e: torch.Tensor, heavy: torch.Tensor, r: int, min_rmsd: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Energies and indices (L, r) of each ligand's ``r`` best stored minima (coordinates ``x``
    (L, N, A, 3), energies ``e`` (L, N)), distinct ones first: of the ``4 r`` best, those at least
    ``min_rmsd`` from every better one (Vina merges its chains' results the same way), then the
    best of the others.  Many chains find the same few minima, so the ``r`` best alone can be
    copies of a handful of poses, and so can the final poses drawn from them."""
    n = e.shape[1]
    r0 = min(n, 4 * r)
    e0, i0 = torch.topk(e, r0, dim=1, largest=False)
    pick, _ = _distinct_first(*greedy_cluster(_take(x, i0), e0, heavy, min_rmsd), r)
    return torch.gather(e0, 1, pick), torch.gather(i0, 1, pick)


def finish_batch(
    grid: ReceptorGrid,
    batch: LigandBatch,
    slots: dict[int, int],
    depth: int,
    st: Store,
    chains: int,
    params: SearchParams,
    seeds: torch.Tensor | None = None,
) -> list[list[FinalPose]]:
    """Final poses of every ligand of ``batch`` from the chains' stores ``st`` (eager: this
    runs once per batch, not once per step); ``seeds`` (L,): each ligand's random-stream key, for
    the polish (:func:`polish`; none without them)."""
    n_lig = len(batch.tops)
    dev = batch.local.device
    n = chains * st.e.shape[1]
    e = st.e.reshape(n_lig, n)
    pos, quat, tors = (v.reshape(n_lig, n, -1) for v in (st.pos, st.quat, st.tors))
    heavy = batch.xs.ge(0).to(st.x.dtype)
    # 1. uncapped re-optimisation on the grid of each ligand's best distinct stored minima
    r1 = min(n, 4 * params.refine_candidates)
    e1, i1 = _distinct_best(st.x.reshape(n_lig, n, *st.x.shape[2:]), e, heavy, r1, params.min_rmsd)
    lig1 = torch.arange(n_lig, device=dev).repeat_interleave(r1)
    gc, _ = grid.consts(batch.types(), params.slope)
    c1 = pose_consts(batch, lig1, slots, grid.n_points, depth=depth)
    evals = math.ceil(MICRO_PER_ITER * float(c1.iter_cap.max()))
    p1, q1, t1 = (_take(v, i1).flatten(0, 1) for v in (pos, quat, tors))
    o1 = refine(c1, grid_energy(c1, gc, AUTHENTIC_CAP), p1, q1, t1, evals=evals)
    f1 = torch.where(torch.isfinite(e1.reshape(-1)), o1.f, torch.full_like(o1.f, float("inf")))
    x1, _r, _o = forward(c1, o1.pos, o1.quat, o1.tors)
    order, keep = greedy_cluster(x1.reshape(n_lig, r1, *x1.shape[1:]), f1.reshape(n_lig, r1), heavy,
                                 params.min_rmsd)
    # 2. exact refinement of the best distinct ones
    r2 = min(r1, params.refine_candidates)
    i2, valid2 = _distinct_first(order, keep, r2)
    lig2 = torch.arange(n_lig, device=dev).repeat_interleave(r2)
    sel = [_take(v.reshape(n_lig, r1, -1), i2).flatten(0, 1) for v in (o1.pos, o1.quat, o1.tors)]
    x2, inter, intra, poses2 = exact_refine(grid, batch, slots, depth, lig2, sel, params, evals)
    e2 = torch.where(valid2.reshape(-1) & torch.isfinite(inter + intra), inter + intra,
                     torch.full_like(inter, float("inf")))
    best = _Best(x2, inter, intra, e2, poses2)

    def cluster(b: _Best) -> tuple[torch.Tensor, torch.Tensor]:
        return greedy_cluster(b.x.reshape(n_lig, r2, *b.x.shape[1:]), b.e.reshape(n_lig, r2), heavy, params.min_rmsd)

    order2, keep2 = cluster(best)
    if params.polish_rounds and params.polish_poses and seeds is not None:
        # 2b. the polish of each ligand's best distinct exact minima, kept where lower
        r3 = min(r2, params.polish_poses)
        flat, lig3 = _firsts(order2, keep2, r3, r2)
        keys = (seeds[lig3] ^ (torch.arange(r3, device=dev).repeat(n_lig) * 0x2545F491)) & 0x7FFF_FFFF_FFFF_FFFF
        best = best.keep_lower(flat, *exact_refine(grid, batch, slots, depth, lig3, [v[flat] for v in best.poses],
                                                   params, evals, keys=keys))
        order2, keep2 = cluster(best)
    if params.rotamer_poses:
        # 2c. each ligand's best distinct poses with one torsion turned to another rotamer, kept where lower
        r4 = min(r2, params.rotamer_poses)
        flat, lig4 = _firsts(order2, keep2, r4, r2)
        p0, q0, t0 = (v[flat] for v in best.poses)
        p4, q4, t4, f4 = rotamer_sweep(gc, (p0, q0, t0, best.e[flat]), lig4,
                                       lambda lg: pose_consts(batch, lg, slots, grid.n_points, depth=depth), evals)
        x4, inter4, intra4, poses4 = exact_refine(grid, batch, slots, depth, lig4, [p4, q4, t4], params, evals)
        inter4 = torch.where(torch.isfinite(f4), inter4, torch.full_like(inter4, float("inf")))
        best = best.keep_lower(flat, x4, inter4, intra4, poses4)
        order2, keep2 = cluster(best)
    x2, inter, intra, e2 = best.x, best.inter, best.intra, best.e
    # 3. one transfer to the host, then Vina's scores and RMSD bounds per ligand
    hx, hinter, hintra, he, horder, hkeep = (
        v.detach().cpu().numpy() for v in (x2.reshape(n_lig, r2, *x2.shape[1:]), inter.reshape(n_lig, r2),
                                           intra.reshape(n_lig, r2), e2.reshape(n_lig, r2), order2, keep2)
    )
    return [_poses(batch, i, hx[i], hinter[i], hintra[i], he[i], horder[i], hkeep[i], params) for i in range(n_lig)]


def _firsts(order: torch.Tensor, keep: torch.Tensor, r: int, width: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Flat indices (L r,) into ``width`` candidates per ligand of each ligand's first ``r`` distinct ones of a
    clustering, and their ligands."""
    n_lig = order.shape[0]
    idx, _ = _distinct_first(order, keep, r)
    flat = (idx + torch.arange(n_lig, device=order.device)[:, None] * width).reshape(-1)
    return flat, torch.arange(n_lig, device=order.device).repeat_interleave(r)


class _Best(NamedTuple):
    """Every candidate's best exact result so far: coordinates, energies and pose (pos, quat, tors)."""

    x: torch.Tensor
    inter: torch.Tensor
    intra: torch.Tensor
    e: torch.Tensor
    poses: list[torch.Tensor]

    def keep_lower(self, flat: torch.Tensor, x: torch.Tensor, inter: torch.Tensor, intra: torch.Tensor,
                   poses: list[torch.Tensor]) -> _Best:
        """Candidates ``flat`` replaced by new results where those are lower (never where this is +inf)."""
        lower = torch.isfinite(self.e[flat]) & (inter + intra < self.e[flat])

        def put(old: torch.Tensor, new: torch.Tensor) -> torch.Tensor:
            m = lower.reshape((-1,) + (1,) * (new.dim() - 1))
            return old.index_copy(0, flat, torch.where(m, new, old[flat]))

        return _Best(put(self.x, x), put(self.inter, inter), put(self.intra, intra), put(self.e, inter + intra),
                     [put(o, n) for o, n in zip(self.poses, poses, strict=True)])


def exact_refine(
    grid: ReceptorGrid,
    batch: LigandBatch,
    slots: dict[int, int],
    depth: int,
    lig: torch.Tensor,
    start: list[torch.Tensor],
    params: SearchParams,
    evals: int,
    max_pairs: int = 3_000_000,
    keys: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, list[torch.Tensor]]:
    """Exact-pair BFGS of poses ``start`` (pos, quat, tors) of ligands ``lig``, in chunks of
    at most ``max_pairs`` atom pairs (per-pose pair lists, :meth:`ReceptorGrid.pair_lists`), or
    with ``keys`` (one random-stream key per pose) :func:`polish` in ``params.polish_rounds`` rounds
    instead; final coordinates, inter- and intramolecular energies, and final poses (pos, quat, tors)."""
    gc, _ = grid.consts(batch.types(), params.slope)
    rec = grid.receptor()
    c_all = pose_consts(batch, lig, slots, grid.n_points, depth=depth)
    x0, _r, _o = forward(c_all, *start)
    # chunks sized by the longest list; each chunk's lists are built for it alone (all of a big
    # GPU batch's lists at once would be (poses, pairs) indices of several GB)
    chunk = max(1, max_pairs // grid.pair_count(x0, c_all.typed))
    xs_out, inter_out, intra_out, poses_out = [], [], [], []
    for s in range(0, lig.shape[0], chunk):
        part = slice(s, s + chunk)
        c = pose_consts(batch, lig[part], slots, grid.n_points, depth=depth)
        lt = grid.ligand_types(batch.xs[lig[part]])
        pairs = near_pairs(rec, lt, *grid.pair_lists(x0[part], c.typed))

        def exact(p: torch.Tensor, q: torch.Tensor, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            return exact_energy_grad(c, gc, pairs, p, q, t, AUTHENTIC_CAP, params.slope)  # noqa: B023

        p0, q0, t0 = (v[part] for v in start)
        if keys is None:
            o = refine(c, exact, p0, q0, t0, evals=evals)
            pose = (o.pos, o.quat, o.tors)
        else:
            pose = polish(c, exact, (p0, q0, t0, exact(p0, q0, t0)[0]), keys[part], params.polish_rounds, evals)[:3]
        x, _r, _o = forward(c, *pose)
        xs_out.append(x)
        poses_out.append(pose)
        # the reported energy from lists of the final coordinates: every pair within the cutoff,
        # however far an atom moved from where the refinement's lists were built
        final = near_pairs(rec, lt, *grid.pair_lists(x, c.typed, margin=0.0))
        inter_out.append(ordered_sum(exact_inter_grad(c, final, gc, x, AUTHENTIC_CAP, params.slope)[0]))
        intra_out.append(intra_grad(c, x, AUTHENTIC_CAP)[0])
    poses = [torch.cat([p[i] for p in poses_out]) for i in range(3)]
    return torch.cat(xs_out), torch.cat(inter_out), torch.cat(intra_out), poses


def _poses(
    batch: LigandBatch, i: int, x: np.ndarray, inter: np.ndarray, intra: np.ndarray, e: np.ndarray,
    order: np.ndarray, keep: np.ndarray, params: SearchParams,
) -> list[FinalPose]:
    top = batch.tops[i]
    n_atoms = top.n_atoms
    kept = [int(j) for j, k in zip(order, keep, strict=True) if k]
    if not kept:
        return []
    best = kept[0]
    norm = 1.0 / (1.0 + W_ROT * float(top.num_tors))
    intra_best = float(intra[best])
    xs = top.xs
    ref = x[best, :n_atoms].astype(np.float64)
    poses: list[FinalPose] = []
    for j in kept:
        # Vina's window is on the reported score (its ``get_poses``): the raw sums differ by 1 / norm times as
        # much, so a window on them would keep fewer poses of a flexible ligand than Vina does
        if len(poses) >= params.n_poses or (e[j] - e[best]) * norm > params.energy_range:
            break
        total = (float(inter[j]) + float(intra[j]) - intra_best) * norm
        coords = x[j, :n_atoms].astype(np.float64)
        lb, ub = rmsd_bounds(coords, ref, xs)
        poses.append(FinalPose(
            coords=coords, total=total, inter=float(inter[j]), intra=float(intra[j]),
            torsions=total - (float(inter[j]) + float(intra[j]) - intra_best), intra_best=intra_best,
            rmsd_lb=lb, rmsd_ub=ub,
        ))  # fmt: skip
    return poses


def rmsd_bounds(a: np.ndarray, b: np.ndarray, xs: np.ndarray) -> tuple[float, float]:
    """Vina-style RMSD lower bound (nearest same-type atom) and upper bound (same index)."""
    heavy = xs >= 0
    if not heavy.any():
        return 0.0, 0.0
    ub = float(np.sqrt(((a[heavy] - b[heavy]) ** 2).sum(-1).mean()))
    d2 = []
    for t in np.unique(xs[heavy]):
        ia, ib = a[xs == t], b[xs == t]
        d2.append(((ia[:, None] - ib[None]) ** 2).sum(-1).min(1))
    return float(np.sqrt(np.concatenate(d2).mean())), ub
