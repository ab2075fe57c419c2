"""Batched Monte Carlo search with BFGS local optimisation, clustering and top-N selection.

The search follows Vina's Monte Carlo (Trott & Olson 2010): a chain mutates one entity of
its pose (position by up to 2 Å, orientation by up to 2 Å / radius of gyration, or one
torsion set to a random angle), minimises locally with BFGS (Armijo backtracking line
search), and accepts by the Metropolis criterion at T = 1.2 kcal/mol.  During the search
per-atom intermolecular energies are capped as Vina's "hunt cap" (1.5) and intramolecular
pair energies at 10; energies come from the receptor grid.  Every chain of every ligand of
a batch moves in lock-step, so one step is one batched tensor computation.

The documented difference from Vina: many short chains instead of a few long ones (GPU
friendly), and a final stage that refines the best distinct minima of each ligand with the
exact (grid-free) pair sums and uncapped energies -- Vina's own final refinement -- before
clustering at 1 Å RMSD.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from .grids import ReceptorGrid
from .pose import LigandBatch, PoseContext, quat_mul, quat_to_matrix, rotvec_matrix, rotvec_to_quat
from .scoring import AUTHENTIC_CAP, HUNT_CAP_INTER, HUNT_CAP_INTRA

__all__ = [
    "Draws",
    "SearchParams",
    "State",
    "bfgs",
    "cluster",
    "make_draws",
    "make_energy",
    "monte_carlo",
    "refine_exact",
]

EnergyFn = Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


@dataclass(frozen=True)
class SearchParams:
    """Search budget.  ``chains`` per ligand, ``steps`` MC steps per chain, ``local_steps``
    BFGS iterations per MC step (0 = Vina's (25 + atoms) / 3), ``max_trials`` line-search
    halvings during the search (Vina: 10; fewer keeps lock-stepped batches fast), ``refine_top`` minima per
    ligand refined exactly, ``n_poses`` returned, ``min_rmsd`` clustering radius."""

    chains: int = 32
    steps: int = 200
    local_steps: int = 0
    refine_top: int = 12
    refine_steps: int = 30
    n_poses: int = 9
    min_rmsd: float = 1.0
    energy_range: float = 3.0
    temperature: float = 1.2
    amplitude: float = 2.0
    slope: float = 10.0
    max_trials: int = 4


@dataclass
class State:
    """Poses: root position (P, 3), orientation quaternion (P, 4), torsions (P, T)."""

    pos: torch.Tensor
    quat: torch.Tensor
    tors: torch.Tensor

    def index(self, i: torch.Tensor) -> State:
        return State(self.pos[i], self.quat[i], self.tors[i])

    def where(self, m: torch.Tensor, other: State) -> State:
        return State(
            torch.where(m[:, None], self.pos, other.pos),
            torch.where(m[:, None], self.quat, other.quat),
            torch.where(m[:, None], self.tors, other.tors),
        )

    def apply(self, d: torch.Tensor, n_tors: int) -> State:
        """The state moved by a change vector d = (dpos, rotation vector, dtorsions)."""
        q = quat_mul(rotvec_to_quat(d[:, 3:6]), self.quat)
        return State(self.pos + d[:, :3], q / q.norm(dim=-1, keepdim=True), self.tors + d[:, 6 : 6 + n_tors])


def make_energy(
    ctx: PoseContext,
    grid: ReceptorGrid,
    state: State,
    *,
    exact: bool,
    cap_inter: float,
    cap_intra: float,
    slope: float,
    flat: torch.Tensor | None = None,
) -> EnergyFn:
    """f(d) -> (energy (P,), gradient (P, D)) of the poses ``state`` moved by change ``d``."""
    n_tors = state.tors.shape[1]
    rot0 = quat_to_matrix(state.quat)
    xs = ctx.batch.xs[ctx.lig]
    near = None
    if exact:
        x0 = ctx.coords(state.pos, rot0, state.tors)
        near = grid.near_atoms_per_pose(torch.where(ctx.heavy[..., None], x0, x0[:, :1]))

    def f(d: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        with torch.enable_grad():
            d = d.detach().requires_grad_(True)
            rot = rotvec_matrix(d[:, 3:6]) @ rot0
            x = ctx.coords(state.pos + d[:, :3], rot, state.tors + d[:, 6 : 6 + n_tors])
            if exact:
                inter = grid.exact_per_pose(x, xs, near, cap=cap_inter, slope=slope).sum(-1)
            else:
                assert flat is not None
                inter = grid.interpolate(x, ctx.slot, flat, cap=cap_inter, slope=slope).sum(-1)
            e = inter + ctx.intra(x, cap_intra)
            (g,) = torch.autograd.grad(e.sum(), d)
        return e.detach(), g

    return f


def bfgs(
    f: EnergyFn, dim_mask: torch.Tensor, max_steps: int, max_trials: int = 10
) -> tuple[torch.Tensor, torch.Tensor]:
    """Batched BFGS from d = 0; returns (best change (P, D), its energy (P,)).

    Inverse-Hessian BFGS with Vina's line search (step 1, halved up to 10 times until the
    Armijo condition with c = 1e-4 holds; ``max_trials`` halvings at most) and Vina's
    first-step Hessian scaling.  Masked
    dimensions (padded torsions) stay zero.  A pose whose energy did not decrease keeps d = 0.
    """
    p_n, dim = dim_mask.shape
    mask = dim_mask.to(torch.float32 if dim_mask.dtype == torch.bool else dim_mask.dtype)
    x = torch.zeros((p_n, dim), dtype=mask.dtype, device=mask.device)
    f0, g = f(x)
    g = g * mask
    f_start = f0
    eye = torch.diag_embed(mask)
    h = eye.clone()
    active = torch.ones(p_n, dtype=torch.bool, device=mask.device)
    for step in range(max_steps):
        p = -(h @ g[..., None]).squeeze(-1)
        pg = (p * g).sum(-1)
        bad = ~(pg < 0) | ~torch.isfinite(pg)  # not a descent direction: fall back to -g
        h = torch.where(bad[:, None, None], eye, h)
        p = torch.where(bad[:, None], -g, p)
        pg = torch.where(bad, -(g * g).sum(-1), pg)
        alpha = torch.ones(p_n, dtype=mask.dtype, device=mask.device)
        done = ~active
        x_new, f_new, g_new = x.clone(), f0.clone(), g.clone()
        for _ in range(max_trials):
            xt = x + alpha[:, None] * p
            ft, gt = f(xt)
            gt = gt * mask
            ok = ~done & (ft - f0 < 1e-4 * alpha * pg)
            last = ~done
            take = ok | last
            x_new = torch.where(take[:, None], xt, x_new)
            f_new = torch.where(take, ft, f_new)
            g_new = torch.where(take[:, None], gt, g_new)
            done = done | ok
            if bool(done.all()):
                break
            alpha = torch.where(done, alpha, alpha * 0.5)
        y = g_new - g
        s = alpha[:, None] * p
        x = torch.where(active[:, None], x_new, x)
        f0 = torch.where(active, f_new, f0)
        g = torch.where(active[:, None], g_new, g)
        if step == 0:
            yy = (y * y).sum(-1)
            ys0 = (y * s).sum(-1)
            scale = torch.where((yy > 1e-12) & (ys0 > 0), ys0 / yy.clamp(min=1e-12), torch.ones_like(yy))
            h = torch.where(active[:, None, None], eye * scale[:, None, None], h)
        ys = (y * s).sum(-1)
        upd = active & (ys > 1e-7 * (y.norm(dim=-1) * s.norm(dim=-1)).clamp(min=1e-12))
        rho = 1.0 / torch.where(upd, ys, torch.ones_like(ys))
        hy = (h @ y[..., None]).squeeze(-1)
        yhy = (y * hy).sum(-1)
        h_new = (
            h
            - rho[:, None, None] * (s[:, :, None] * hy[:, None, :] + hy[:, :, None] * s[:, None, :])
            + (rho * rho * yhy + rho)[:, None, None] * s[:, :, None] * s[:, None, :]
        )
        upd = upd & torch.isfinite(h_new).all(-1).all(-1)
        h = torch.where(upd[:, None, None], h_new, h)
        active = active & (g.norm(dim=-1) >= 1e-5) & torch.isfinite(f0)
        if not bool(active.any()):
            break
    worse = ~(f0 <= f_start)
    x = torch.where(worse[:, None], torch.zeros_like(x), x)
    f0 = torch.where(worse, f_start, f0)
    return x, f0


@dataclass
class Draws:
    """All random numbers of a search, drawn up front per ligand (see :func:`make_draws`), so a
    ligand's search does not depend on which other ligands share its batch."""

    init_pos: torch.Tensor  # (P, 3) uniform [0, 1)
    init_quat: torch.Tensor  # (P, 4) normal
    init_tors: torch.Tensor  # (P, T) uniform [0, 1)
    which: torch.Tensor  # (S, P) uniform [0, 1)
    shift: torch.Tensor  # (S, P, 3) in the unit ball
    rot: torch.Tensor  # (S, P, 3) in the unit ball
    angle: torch.Tensor  # (S, P) uniform [0, 1)
    accept: torch.Tensor  # (S, P) uniform [0, 1)


def _in_ball(gen: torch.Generator, shape: tuple[int, ...]) -> torch.Tensor:
    v = torch.randn((*shape, 3), generator=gen, dtype=torch.float64)
    v = v / v.norm(dim=-1, keepdim=True).clamp(min=1e-12)
    return v * torch.rand((*shape, 1), generator=gen, dtype=torch.float64) ** (1.0 / 3.0)


def make_draws(
    seeds: list[int], chains: int, steps: int, n_tors: list[int], t_max: int, device: torch.device, dtype: torch.dtype
) -> Draws:
    """Draws for ligands with ``seeds`` (one CPU generator each; identical on every device)."""
    parts: dict[str, list[torch.Tensor]] = {k: [] for k in Draws.__dataclass_fields__}
    for seed, nt in zip(seeds, n_tors, strict=True):
        g = torch.Generator().manual_seed(int(seed) & 0x7FFF_FFFF_FFFF_FFFF)
        parts["init_pos"].append(torch.rand((chains, 3), generator=g, dtype=torch.float64))
        parts["init_quat"].append(torch.randn((chains, 4), generator=g, dtype=torch.float64))
        tors = torch.full((chains, t_max), 0.5, dtype=torch.float64)
        tors[:, :nt] = torch.rand((chains, nt), generator=g, dtype=torch.float64)
        parts["init_tors"].append(tors)
        parts["which"].append(torch.rand((steps, chains), generator=g, dtype=torch.float64))
        parts["shift"].append(_in_ball(g, (steps, chains)))
        parts["rot"].append(_in_ball(g, (steps, chains)))
        parts["angle"].append(torch.rand((steps, chains), generator=g, dtype=torch.float64))
        parts["accept"].append(torch.rand((steps, chains), generator=g, dtype=torch.float64))
    out = {}
    for k, v in parts.items():
        dim = 1 if k in ("which", "shift", "rot", "angle", "accept") else 0
        out[k] = torch.cat(v, dim).to(device=device, dtype=dtype)
    return Draws(**out)


def random_state(ctx: PoseContext, grid: ReceptorGrid, draws: Draws) -> State:
    """Uniform random positions in the box, random orientations and torsions (Vina's start)."""
    dev, dtype = draws.init_pos.device, draws.init_pos.dtype
    center = torch.as_tensor(grid.center, dtype=dtype, device=dev)
    size = torch.as_tensor(grid.size, dtype=dtype, device=dev)
    pos = center + (draws.init_pos - 0.5) * size
    q = draws.init_quat / draws.init_quat.norm(dim=-1, keepdim=True)
    tors = (draws.init_tors * 2 - 1) * math.pi
    return State(pos, q, tors * ctx.tors_mask)


def mutate(state: State, ctx: PoseContext, gyration: torch.Tensor, amplitude: float, draws: Draws, step: int) -> State:
    """Vina's mutation: one of position, orientation or one torsion, chosen uniformly."""
    dev = state.pos.device
    n_ent = 2 + ctx.tors_mask.sum(-1)
    which = torch.minimum((draws.which[step] * n_ent).floor().long(), n_ent - 1)
    shift = amplitude * draws.shift[step]
    rotv = (amplitude / gyration.clamp(min=0.5))[:, None] * draws.rot[step]
    angle = (draws.angle[step] * 2 - 1) * math.pi
    pos = torch.where((which == 0)[:, None], state.pos + shift, state.pos)
    q = torch.where((which == 1)[:, None], quat_mul(rotvec_to_quat(rotv), state.quat), state.quat)
    t_n = state.tors.shape[1]
    hit = (which[:, None] - 2) == torch.arange(t_n, device=dev)[None, :]
    tors = torch.where(hit, angle[:, None], state.tors)
    return State(pos, q / q.norm(dim=-1, keepdim=True), tors)


def _dim_mask(ctx: PoseContext) -> torch.Tensor:
    p_n = ctx.lig.shape[0]
    head = torch.ones((p_n, 6), dtype=torch.bool, device=ctx.lig.device)
    return torch.cat([head, ctx.tors_mask], 1)


def local_steps_for(batch: LigandBatch, lig: torch.Tensor) -> int:
    n_atoms = batch.atom_mask.sum(-1)[lig]
    return int((25 + int(n_atoms.max())) // 3)


def monte_carlo(
    ctx: PoseContext,
    grid: ReceptorGrid,
    flat: torch.Tensor,
    params: SearchParams,
    draws: Draws,
    progress: Callable[[int], None] | None = None,
) -> tuple[State, torch.Tensor, torch.Tensor]:
    """Run the chains of ``ctx``; return every accepted minimum (states, energies, chain index)."""
    dtype = ctx.local.dtype
    state = random_state(ctx, grid, draws)
    heavy = ctx.heavy.to(dtype)
    eye = torch.eye(3, dtype=dtype, device=state.pos.device).expand(state.pos.shape[0], 3, 3)
    rel = ctx.coords(torch.zeros_like(state.pos), eye, torch.zeros_like(state.tors))
    gyration = torch.sqrt(((rel**2).sum(-1) * heavy).sum(-1) / heavy.sum(-1).clamp(min=1))
    dmask = _dim_mask(ctx)
    n_local = params.local_steps or local_steps_for(ctx.batch, ctx.lig)
    n_tors = state.tors.shape[1]
    kept_states: list[State] = []
    kept_e: list[torch.Tensor] = []
    kept_chain: list[torch.Tensor] = []
    chain_ids = torch.arange(state.pos.shape[0], device=state.pos.device)
    current_e = torch.full((state.pos.shape[0],), float("inf"), dtype=dtype, device=state.pos.device)
    for step in range(params.steps):
        cand = state if step == 0 else mutate(state, ctx, gyration, params.amplitude, draws, step)
        f = make_energy(ctx, grid, cand, exact=False, cap_inter=HUNT_CAP_INTER, cap_intra=HUNT_CAP_INTRA,
                        slope=params.slope, flat=flat)
        d, e = bfgs(f, dmask, n_local, max_trials=params.max_trials)
        cand = cand.apply(d, n_tors)
        u = draws.accept[step]
        accept = (e < current_e) | (u < torch.exp(torch.clamp((current_e - e) / params.temperature, max=0.0)))
        if step == 0:
            accept = torch.ones_like(accept)
        state = cand.where(accept, state)
        current_e = torch.where(accept, e, current_e)
        if bool(accept.any()):
            idx = torch.nonzero(accept).squeeze(-1)
            kept_states.append(cand.index(idx))
            kept_e.append(e[idx])
            kept_chain.append(chain_ids[idx])
        if progress is not None:
            progress(step)
    states = State(
        torch.cat([s.pos for s in kept_states]),
        torch.cat([s.quat for s in kept_states]),
        torch.cat([s.tors for s in kept_states]),
    )
    return states, torch.cat(kept_e), torch.cat(kept_chain)


def refine_exact(
    ctx: PoseContext, grid: ReceptorGrid, state: State, steps: int, slope: float, max_trials: int = 10
) -> tuple[State, torch.Tensor]:
    """Refine poses with exact pair sums and uncapped energies (Vina's final refinement)."""
    f = make_energy(ctx, grid, state, exact=True, cap_inter=AUTHENTIC_CAP, cap_intra=AUTHENTIC_CAP, slope=slope)
    d, e = bfgs(f, _dim_mask(ctx), steps, max_trials=max_trials)
    return state.apply(d, state.tors.shape[1]), e


def cluster(coords: torch.Tensor, energies: torch.Tensor, heavy: torch.Tensor, min_rmsd: float) -> list[int]:
    """Indices of poses best-first, dropping any pose within ``min_rmsd`` Å (heavy-atom RMSD,
    same atom order) of a better kept pose."""
    order = torch.argsort(energies).tolist()
    kept: list[int] = []
    n = heavy.sum().clamp(min=1)
    for i in order:
        if not math.isfinite(float(energies[i])):
            continue
        if kept:
            diff = ((coords[kept] - coords[i]) ** 2).sum(-1) * heavy
            rmsd = torch.sqrt(diff.sum(-1) / n)
            if bool((rmsd < min_rmsd).any()):
                continue
        kept.append(i)
    return kept
