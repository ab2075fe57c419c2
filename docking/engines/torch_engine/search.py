"""Monte Carlo search with BFGS local optimisation, as Vina 1.2 does it, in fixed-shape,
synchronisation-free steps.

Per chain (Trott & Olson 2010; Vina 1.2's ``monte_carlo``): start from a random pose; each
step mutates one entity (position by up to 2 Å, orientation by up to 2 Å / radius of
gyration, or one torsion set to a random angle), minimises locally with BFGS under the
"hunt cap" (``vina.cpp`` sets ``hunt_cap = (10, 10, 10)``: per-atom intermolecular and
per-pair intramolecular energies are softened above 10 kcal/mol), and accepts by the
Metropolis rule at T = 1.2.  An accepted pose that beats the chain's best (or while the
chain's store of minima is not full) is kept in that store, which holds distinct minima
(heavy-atom RMSD >= ``min_rmsd``) as Vina's output container does.

GPU shape: all chains of all ligands of a batch move in lock-step.  The local optimiser is a
per-pose state machine that does exactly one energy-and-gradient evaluation per call
(:func:`lbfgs_micro`): a pose is either trying a line-search step (Armijo, c = 1e-4, step
halved up to 10 times, never an uphill step: when no trial holds the pose stays where it
is) or, after an accepted step, updates its inverse Hessian and sets its next direction.
So a Monte Carlo step is a fixed number of identical calls, with no host round trip.
Random numbers come from a counter-based hash of (ligand seed, chain, step, stream) on the
device, so a ligand's search does not depend on the other ligands of its batch.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import torch

from .batch import quat_mul, rotvec_to_quat
from .energy import GridConsts, energy_grad
from .kinematics import PoseConsts, forward

__all__ = [
    "HUNT_CAP",
    "MICRO_PER_ITER",
    "Chains",
    "EnergyFn",
    "LocalOpt",
    "SearchParams",
    "Store",
    "apply_change",
    "hash_uniform",
    "lbfgs_init",
    "lbfgs_micro",
    "mc_accept",
    "mc_propose",
    "random_start",
]

HUNT_CAP = 10.0  # Vina 1.2 vina.cpp: mc.hunt_cap = vec(10, 10, 10)
AUTHENTIC_CAP = 1000.0  # Vina's authentic_v for final refinement
ARMIJO_C = 1e-4
MAX_TRIALS = 10  # Vina's line search: up to 10 trials, step halved each time
# evaluations a local optimisation gets per allowed BFGS iteration: from a mutated pose the
# first line search takes ~5 trials (unit step on the raw gradient, as Vina), then ~1.5 each
MICRO_PER_ITER = 2.5


@dataclass(frozen=True)
class SearchParams:
    """Search settings of one batch.  ``steps`` Monte Carlo steps per chain (the most any
    ligand of the batch needs; per-ligand budgets are in the chains' step caps),
    ``micro`` evaluations per local optimisation, ``store`` minima kept per chain."""

    chains: int = 64
    steps: int = 60
    micro: int = 24
    store: int = 8
    n_poses: int = 9
    min_rmsd: float = 1.0
    energy_range: float = 3.0
    temperature: float = 1.2
    amplitude: float = 2.0
    slope: float = 10.0
    refine_candidates: int = 24


class LocalOpt(NamedTuple):
    """BFGS state of every pose (see the module docstring)."""

    pos: torch.Tensor  # (P, 3)
    quat: torch.Tensor  # (P, 4)
    tors: torch.Tensor  # (P, T)
    f: torch.Tensor  # (P,) energy at the pose
    g: torch.Tensor  # (P, D) gradient at the pose
    h: torch.Tensor  # (P, D, D) inverse Hessian estimate
    p: torch.Tensor  # (P, D) search direction
    pg: torch.Tensor  # (P,) p . g (< 0)
    alpha: torch.Tensor  # (P,) current trial step
    trials: torch.Tensor  # (P,) failed trials of the current line search
    iters: torch.Tensor  # (P,) accepted BFGS steps
    active: torch.Tensor  # (P,) bool
    first: torch.Tensor  # (P,) bool: no step accepted yet (Vina's first-step Hessian scaling)


class Chains(NamedTuple):
    """Monte Carlo chain state: current pose and energy, best energy, step counter."""

    pos: torch.Tensor
    quat: torch.Tensor
    tors: torch.Tensor
    e: torch.Tensor  # (P,) current (accepted) energy, +inf before the first step
    best: torch.Tensor  # (P,) best energy seen
    step: torch.Tensor  # () long, on the device
    seed: torch.Tensor  # (P,) long: hash key of the chain (ligand seed, chain index)
    step_cap: torch.Tensor  # (P,) long: steps this chain's ligand gets


class Store(NamedTuple):
    """Each chain's distinct minima: heavy-atom coordinates, pose and energy, +inf = empty."""

    x: torch.Tensor  # (P, K, A, 3)
    pos: torch.Tensor  # (P, K, 3)
    quat: torch.Tensor  # (P, K, 4)
    tors: torch.Tensor  # (P, K, T)
    e: torch.Tensor  # (P, K)


# -- random numbers ---------------------------------------------------------------------------
_M32 = 0xFFFFFFFF


def _mix32(x: torch.Tensor) -> torch.Tensor:
    """A 32-bit integer mixer (xor-shift-multiply rounds) on int64 tensors holding 32-bit values."""
    x = ((x >> 16) ^ x) * 0x45D9F3B & _M32
    x = ((x >> 16) ^ x) * 0x45D9F3B & _M32
    return (x >> 16) ^ x


def hash_uniform(seed: torch.Tensor, step: torch.Tensor, n: int) -> torch.Tensor:
    """(P, n) uniform numbers in [0, 1) from (chain key ``seed`` (P,), ``step`` (), stream)."""
    streams = torch.arange(n, device=seed.device, dtype=torch.long)
    k = _mix32((seed[:, None] ^ _mix32(step * 0x9E37 + 0x51ED)) & _M32)
    k = _mix32((k + streams * 0x2C1B3C6D + 0x297A2D39) & _M32)
    k = _mix32((k ^ (seed[:, None] >> 32)) & _M32)
    return (k >> 8).to(torch.float32) * (1.0 / 16777216.0)


def _normals(u: torch.Tensor) -> torch.Tensor:
    """Box-Muller: (P, 2k) uniforms -> (P, 2k) standard normals."""
    a, b = u.chunk(2, dim=-1)
    r = torch.sqrt(-2.0 * torch.log1p(-a))  # 1 - a in (0, 1]
    t = 2.0 * math.pi * b
    return torch.cat([r * torch.cos(t), r * torch.sin(t)], -1)


def _in_ball(u: torch.Tensor) -> torch.Tensor:
    """(P, 5) uniforms -> a point uniformly inside the unit ball (P, 3)."""
    n = _normals(u[:, :4])[:, :3]
    n = n / n.norm(dim=-1, keepdim=True).clamp(min=1e-12)
    return n * u[:, 4:5].clamp(min=0.0) ** (1.0 / 3.0)


# -- pose changes -------------------------------------------------------------------------------
def apply_change(
    pos: torch.Tensor, quat: torch.Tensor, tors: torch.Tensor, d: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The poses moved by change vectors d = (dpos, rotation vector, dtorsions)."""
    q = quat_mul(rotvec_to_quat(d[:, 3:6]), quat)
    return pos + d[:, :3], q / q.norm(dim=-1, keepdim=True), tors + d[:, 6:]


def random_start(
    c: PoseConsts, center: torch.Tensor, size: torch.Tensor, seed: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Vina's start: a uniform position in the box, a random orientation and random torsions."""
    t_n = c.tors_mask.shape[1]
    u = hash_uniform(seed, torch.full((), -1, dtype=torch.long, device=seed.device), 7 + t_n).to(center.dtype)
    pos = center + (u[:, :3] - 0.5) * size
    q = _normals(u[:, 3:7])
    q = q / q.norm(dim=-1, keepdim=True).clamp(min=1e-12)
    tors = (u[:, 7:] * 2 - 1) * math.pi * c.tors_mask
    return pos, q, tors


def mutate(
    c: PoseConsts, ch: Chains, amplitude: float
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Vina's mutation: one of position, orientation or one torsion, chosen uniformly; none
    at step 0 (the random start is minimised as it is)."""
    dtype = ch.pos.dtype
    u = hash_uniform(ch.seed, ch.step, 12).to(dtype)
    which = torch.minimum((u[:, 0] * c.n_entities).floor(), c.n_entities - 1)
    which = torch.where(ch.step == 0, torch.full_like(which, -1.0), which)
    shift = amplitude * _in_ball(u[:, 1:6])
    rotv = (amplitude / c.gyration.clamp(min=0.5))[:, None] * _in_ball(u[:, 6:11])
    angle = (u[:, 11] * 2 - 1) * math.pi
    pos = torch.where((which == 0)[:, None], ch.pos + shift, ch.pos)
    q = quat_mul(rotvec_to_quat(rotv), ch.quat)
    q = torch.where((which == 1)[:, None], q / q.norm(dim=-1, keepdim=True), ch.quat)
    t_idx = torch.arange(ch.tors.shape[1], device=ch.pos.device, dtype=dtype)
    hit = (which[:, None] - 2) == t_idx[None, :]
    tors = torch.where(hit, angle[:, None].expand_as(ch.tors), ch.tors)
    return pos, q, tors


# -- local optimisation -------------------------------------------------------------------------
def _eye(c: PoseConsts) -> torch.Tensor:
    return torch.diag_embed(c.dim_mask)


EnergyFn = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


def grid_energy(c: PoseConsts, gc: GridConsts, cap: float) -> EnergyFn:
    """f(pos, quat, tors) -> (energy, gradient) on the grid maps with caps ``cap``."""

    def f(pos: torch.Tensor, quat: torch.Tensor, tors: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return energy_grad(c, gc, pos, quat, tors, cap, cap)

    return f


def lbfgs_init(c: PoseConsts, efn: EnergyFn, pos: torch.Tensor, quat: torch.Tensor, tors: torch.Tensor) -> LocalOpt:
    """Start a BFGS minimisation at the poses: one evaluation, steepest-descent direction."""
    f, g = efn(pos, quat, tors)
    g = g * c.dim_mask
    gg = (g * g).sum(-1)
    p_n = pos.shape[0]
    ok = torch.isfinite(f) & (gg.sqrt() >= 1e-5)
    return LocalOpt(
        pos=pos, quat=quat, tors=tors, f=f, g=g, h=_eye(c), p=-g, pg=-gg,
        alpha=torch.ones_like(f), trials=torch.zeros_like(f), iters=torch.zeros_like(f), active=ok,
        first=torch.ones(p_n, dtype=torch.bool, device=f.device),
    )  # fmt: skip


def lbfgs_micro(c: PoseConsts, gc: GridConsts, s: LocalOpt, cap: float) -> LocalOpt:
    """One grid evaluation of every pose's line search (see :func:`lbfgs_micro_with`)."""
    return lbfgs_micro_with(c, grid_energy(c, gc, cap), s)


def lbfgs_micro_with(c: PoseConsts, efn: EnergyFn, s: LocalOpt) -> LocalOpt:
    """One energy evaluation of every pose's line search, then BFGS bookkeeping where a trial
    step was accepted.  Inactive poses do not move."""
    step = s.alpha[:, None] * s.p
    pos_t, quat_t, tors_t = apply_change(s.pos, s.quat, s.tors, step)
    ft, gt = efn(pos_t, quat_t, tors_t)
    gt = gt * c.dim_mask
    ok = s.active & (ft - s.f < ARMIJO_C * s.alpha * s.pg)
    fail = s.active & ~ok
    y = gt - s.g
    yy = (y * y).sum(-1)
    ys = (y * step).sum(-1)
    eye = _eye(c)
    # Vina's first accepted step scales the initial inverse Hessian by (y.s) / (y.y)
    scale = torch.where(yy > 1e-12, ys / yy.clamp(min=1e-12), torch.ones_like(yy))
    h = torch.where((ok & s.first)[:, None, None], eye * scale[:, None, None], s.h)
    hy = (h @ y[..., None]).squeeze(-1)
    yhy = (y * hy).sum(-1)
    upd = ok & (ys > 1e-7 * (yy.sqrt() * step.norm(dim=-1)).clamp(min=1e-12))
    rho = 1.0 / torch.where(upd, ys, torch.ones_like(ys))
    h_new = (
        h
        - rho[:, None, None] * (step[:, :, None] * hy[:, None, :] + hy[:, :, None] * step[:, None, :])
        + (rho * rho * yhy + rho)[:, None, None] * step[:, :, None] * step[:, None, :]
    )
    upd = upd & torch.isfinite(h_new).all(-1).all(-1)
    h = torch.where(upd[:, None, None], h_new, h)
    okc = ok[:, None]
    pos = torch.where(okc, pos_t, s.pos)
    quat = torch.where(okc, quat_t, s.quat)
    tors = torch.where(okc, tors_t, s.tors)
    f = torch.where(ok, ft, s.f)
    g = torch.where(okc, gt, s.g)
    iters = s.iters + ok.to(s.iters.dtype)
    # next direction where a step was taken; reset to steepest descent if it is not downhill
    pn = -(h @ g[..., None]).squeeze(-1)
    pgn = (pn * g).sum(-1)
    bad = ~(pgn < 0)
    gg = (g * g).sum(-1)
    h = torch.where((ok & bad)[:, None, None], eye, h)
    pn = torch.where(bad[:, None], -g, pn)
    pgn = torch.where(bad, -gg, pgn)
    p = torch.where(okc, pn, s.p)
    pg = torch.where(ok, pgn, s.pg)
    alpha = torch.where(ok, torch.ones_like(s.alpha), s.alpha * 0.5)
    trials = torch.where(ok, torch.zeros_like(s.trials), s.trials + fail.to(s.trials.dtype))
    done = (fail & (trials >= MAX_TRIALS)) | (ok & ((gg.sqrt() < 1e-5) | (iters >= c.iter_cap)))
    active = s.active & ~done & torch.isfinite(f)
    return LocalOpt(pos, quat, tors, f, g, h, p, pg, alpha, trials, iters, active, s.first & ~ok)


# -- Monte Carlo ----------------------------------------------------------------------------------
def mc_propose(c: PoseConsts, gc: GridConsts, ch: Chains, amplitude: float) -> LocalOpt:
    """Mutate every chain's current pose and start its local optimisation (hunt cap)."""
    pos, quat, tors = mutate(c, ch, amplitude)
    return lbfgs_init(c, grid_energy(c, gc, HUNT_CAP), pos, quat, tors)


def _rmsd_to_store(c: PoseConsts, store_x: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    d = ((store_x - x[:, None]) ** 2).sum(-1)  # (P, K, A)
    return torch.sqrt((d * c.heavy[:, None]).sum(-1) / c.n_heavy[:, None])


def mc_accept(
    c: PoseConsts, ch: Chains, st: Store, opt: LocalOpt, temperature: float, min_rmsd: float
) -> tuple[Chains, Store]:
    """Metropolis acceptance, chain bookkeeping and the chain's store of distinct minima."""
    e = torch.nan_to_num(opt.f, nan=float("inf"))
    u = hash_uniform(ch.seed, ch.step, 13)[:, 12].to(e.dtype)
    running = ch.step < ch.step_cap
    prob = torch.exp(((ch.e - e) / temperature).clamp(max=0.0))
    accept = running & torch.isfinite(e) & ((e < ch.e) | (u < prob) | (ch.step == 0))
    acc = accept[:, None]
    pos = torch.where(acc, opt.pos, ch.pos)
    quat = torch.where(acc, opt.quat, ch.quat)
    tors = torch.where(acc, opt.tors, ch.tors)
    cur = torch.where(accept, e, ch.e)
    # store: Vina keeps an accepted pose that beats the chain's best, or any while not full
    not_full = torch.isinf(st.e).any(-1)
    keep = accept & ((e < ch.best) | not_full)
    x, _r, _o = forward(c, opt.pos, opt.quat, opt.tors)
    rmsd = _rmsd_to_store(c, st.x, x)
    rmsd = torch.where(torch.isinf(st.e), torch.full_like(rmsd, float("inf")), rmsd)
    near_d, near_j = rmsd.min(-1)
    has_near = near_d < min_rmsd
    worst_e, worst_j = st.e.max(-1)
    near_e = torch.gather(st.e, 1, near_j[:, None]).squeeze(-1)
    slot = torch.where(has_near, near_j, worst_j)
    better = torch.where(has_near, e < near_e, e < worst_e)
    k_idx = torch.arange(st.e.shape[1], device=e.device)
    sel = (slot[:, None] == k_idx[None]) & (keep & better)[:, None]  # (P, K)
    new = Store(
        x=torch.where(sel[..., None, None], x[:, None], st.x),
        pos=torch.where(sel[..., None], opt.pos[:, None], st.pos),
        quat=torch.where(sel[..., None], opt.quat[:, None], st.quat),
        tors=torch.where(sel[..., None], opt.tors[:, None], st.tors),
        e=torch.where(sel, e[:, None], st.e),
    )
    best = torch.where(accept, torch.minimum(ch.best, e), ch.best)
    return Chains(pos, quat, tors, cur, best, ch.step + 1, ch.seed, ch.step_cap), new


def new_chains(
    c: PoseConsts, center: torch.Tensor, size: torch.Tensor, seed: torch.Tensor, step_cap: torch.Tensor,
    store: int,
) -> tuple[Chains, Store]:
    """Random starts and empty stores for every chain."""
    pos, quat, tors = random_start(c, center, size, seed)
    p_n, a = c.local.shape[:2]
    inf = torch.full((p_n,), float("inf"), dtype=pos.dtype, device=pos.device)
    ch = Chains(pos, quat, tors, inf, inf.clone(), torch.zeros((), dtype=torch.long, device=pos.device), seed,
                step_cap)
    st = Store(
        x=torch.zeros((p_n, store, a, 3), dtype=pos.dtype, device=pos.device),
        pos=pos[:, None].repeat(1, store, 1), quat=quat[:, None].repeat(1, store, 1),
        tors=tors[:, None].repeat(1, store, 1),
        e=torch.full((p_n, store), float("inf"), dtype=pos.dtype, device=pos.device),
    )  # fmt: skip
    return ch, st


StepFns = tuple[Callable[..., Any], ...]  # (propose, micro, accept), eager or compiled


def mc_step(
    c: PoseConsts, gc: GridConsts, ch: Chains, st: Store, params: SearchParams, fns: StepFns | None = None
) -> tuple[Chains, Store]:
    """One Monte Carlo step of every chain: mutation, local optimisation (``params.micro``
    evaluations), acceptance and the store.  ``fns`` are the (compiled) pieces."""
    propose, micro, accept = fns or (mc_propose, lbfgs_micro, mc_accept)
    opt = propose(c, gc, ch, params.amplitude)
    for _ in range(params.micro):
        opt = micro(c, gc, opt, HUNT_CAP)
    return accept(c, ch, st, opt, params.temperature, params.min_rmsd)
