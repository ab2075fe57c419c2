"""Monte Carlo search with BFGS local optimisation, as Vina 1.2 does it, in fixed-shape,
synchronisation-free steps.

Per chain (Trott & Olson 2010; Vina 1.2's ``monte_carlo``): start from a random pose; each
step mutates one entity (position by up to 2 Å, orientation by up to 2 Å / radius of
gyration, or one torsion set to a random angle), minimises locally with BFGS under the
"hunt cap" (``vina.cpp`` sets ``hunt_cap = (10, 10, 10)``: per-atom intermolecular and
per-pair intramolecular energies are softened above 10 kcal/mol), and accepts by the
Metropolis rule at T = 1.2 (or, asked for, a temperature that starts hotter and cools to
1.2 by the chain's end: :func:`chain_temperature`).  An accepted pose that beats the chain's
best (or while the chain's store of minima is not full) is kept in that store, which holds
distinct minima (heavy-atom RMSD >= ``min_rmsd``) as Vina's output container does.

GPU shape: all chains of all ligands of a batch advance one energy-and-gradient evaluation
per *tick* (:func:`mc_tick`), with no host round trip.  The local optimiser is a per-pose state
machine: a pose is either trying a line-search step (Armijo, c = 1e-4, step halved up to 10
times, never an uphill step: when no trial holds the pose stays where it is) or, after an
accepted step, updates its inverse Hessian and sets its next direction.  A chain whose local
optimisation has ended finishes its Monte Carlo step and starts the next one in the same
tick, so chains run at their own pace and no evaluation is spent waiting for the slowest
pose.  Random numbers come from a counter-based hash of (ligand seed, chain, step, stream)
on the device (:mod:`.moves`), so a ligand's search does not depend on the other ligands of its batch.

Since engine 1.9 ``balanced`` runs each ligand's chains as parallel-tempering ladders, one chain of
each pair at Vina's temperature and one hotter, which swap configurations (:mod:`.tempering`;
:func:`exchange`, which the run loop :func:`advance` calls on swap ticks only).

One departure from Vina, measured to pay (engine 1.2): a local optimisation that is still
``abort_margin`` kcal/mol above its chain's current energy after ``abort_after`` BFGS
iterations is abandoned and its step rejected; the evaluations saved go to further Monte
Carlo steps within the same budget (docs/validation.md has the side-by-side measurement).

Four more, as settings (:class:`SearchParams`): ``first_step`` shortens the first line-search
trial of a local optimisation, which Vina takes as the raw gradient (after a mutation often
tens of Å or radians long, halved about five times before Armijo's test holds, and in about a
fifth of optimisations never: ten failed trials and no step); ``min_step`` lets a line search
give up once its next trial would be shorter than that; ``interpolate`` shortens a failed trial
to the minimum of the quadratic through the line's start and the failed trial instead of halving
it; ``stall`` ends a local optimisation once its last two accepted steps together lowered the
energy by less than that many kcal/mol.  The first three are off unless asked for (``--param
first_step=1``, ``--param backtrack=interpolate``): measured over three pockets and two seeds, none
agreed better with Vina.  ``stall`` alone did not either, but with a third more chains it found lower
scores and ranked 1s3v's crystal pose first more often, so ``balanced`` runs it at 0.03 since engine
1.11 (``modes.MODES``; docs/validation.md, "Where a search's evaluations go", "An interpolating line
search" and "Ending stalled local optimisations"; ``bench/bench_line_search.py`` counts where the
evaluations go).  ``stall_after`` lets the rule end only optimisations that have taken that many
accepted steps; off (0) in every mode: at 6 it found higher minima than 1.11 on TMPRSS2 (docs/validation.md,
"Engine 1.11 on another CPU").
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import torch

from .chainmajor import energy_grad_chains
from .energy import GridConsts, energy_grad_x
from .kinematics import PoseConsts
from .modes import VINA_TEMPERATURE
from .moves import _SWAP_STREAM, _in_start_phase, apply_change, hash_uniform, in_ball, mutate, random_start
from .ordered import ordered_dot, ordered_sum
from .tempering import exchange_partner, ladder_factor, ladder_level

__all__ = [
    "EVALS_PER_ITER",
    "HUNT_CAP",
    "MICRO_PER_ITER",
    "Chains",
    "EnergyFn",
    "ExchangeFn",
    "LocalOpt",
    "Search",
    "SearchParams",
    "Store",
    "TickFn",
    "advance",
    "apply_change",
    "chain_temperature",
    "evaluate",
    "exchange",
    "hash_uniform",
    "in_ball",
    "ladder_temperatures",
    "lbfgs_init",
    "lbfgs_micro",
    "ls_tick",
    "mc_accept",
    "mc_tick",
    "new_search",
    "random_start",
    "swap_due",
    "ticks_for",
]

HUNT_CAP = 10.0  # Vina 1.2 vina.cpp: mc.hunt_cap = vec(10, 10, 10)
AUTHENTIC_CAP = 1000.0  # Vina's authentic_v for final refinement
ARMIJO_C = 1e-4
MAX_TRIALS = 10  # Vina's line search: up to 10 trials, step halved each time
# evaluations a local optimisation may spend per allowed BFGS iteration: from a mutated pose
# the first line search takes ~5 trials (unit step on the raw gradient, as Vina), then ~1.5 each
MICRO_PER_ITER = 2.5
# evaluations a local optimisation spends on average per allowed BFGS iteration (measured:
# bench/bench_torch_search.py ticks), used to turn a budget of Monte Carlo steps into ticks
EVALS_PER_ITER = 1.9


@dataclass(frozen=True)
class SearchParams:
    """Search settings of one batch: at most ``micro_per_iter`` evaluations per allowed BFGS
    iteration of a local optimisation, ``store`` minima kept per chain, and how the final
    poses are chosen."""

    micro_per_iter: float = MICRO_PER_ITER
    store: int = 8
    n_poses: int = 9
    min_rmsd: float = 1.0
    energy_range: float = 3.0
    # Metropolis temperature at the start of a chain's budget (the engine's ``temperature``) ...
    temperature: float = VINA_TEMPERATURE
    # ... and at its end: the temperature moves geometrically from ``temperature`` to this over the
    # chain's ticks (equal to ``temperature``: constant, as Vina, the default).  Cooling below 1.2
    # and cooling from 2.4 to 1.2 were both measured not to pay as defaults (docs/validation.md)
    final_temperature: float = VINA_TEMPERATURE
    # parallel tempering (:mod:`.tempering`): ladders of ``ladder`` chains (1: none, as Vina) whose
    # temperatures run geometrically from the temperature above up to ``ladder_top``, neighbours trying
    # to swap every ``swap_every`` ticks (a multiple of an eager run's bookkeeping period).  The engine
    # passes the mode's ladder: 2 for ``balanced`` since engine 1.9
    ladder: int = 1
    ladder_top: float = 2.4
    swap_every: int = 8
    amplitude: float = 2.0
    slope: float = 10.0
    refine_candidates: int = 24
    # a local optimisation still ``abort_margin`` kcal/mol above its chain's current energy after
    # ``abort_after`` BFGS iterations is abandoned and its step rejected (inf: never); measured in
    # docs/validation.md ("Abandoning hopeless local optimisations")
    abort_margin: float = 2.0
    abort_after: int = 3
    # the first line-search trial of a Monte Carlo step's local optimisation moves at most this far
    # (the change vector's length: Å, radians); Vina's first trial is the raw gradient (inf)
    first_step: float = math.inf
    # a line search gives up where its next trial would move less than this (0: after 10 trials, as Vina)
    min_step: float = 0.0
    # after a failed trial the next is the minimum of the quadratic through the energy and slope at the
    # start and the failed trial's energy, kept within [0.1, 0.5] of the failed step (True); Vina halves
    interpolate: bool = False
    # a local optimisation ends once its last two accepted steps together lowered the energy by less
    # than this (kcal/mol; 0: never, as Vina, whose BFGS runs until its iteration cap or a vanishing
    # gradient): the evaluations that would polish a minimum by hundredths go to further Monte Carlo steps.
    # At 0.03, ~1.3x the steps in the same ticks; the engine passes the mode's (balanced: 0.03 since 1.11)
    stall: float = 0.0
    # ``stall`` ends an optimisation only once it has taken at least this many accepted steps (0: from
    # its second, as engine 1.11), so a slow early descent is not cut off
    stall_after: int = 0
    # the chain's first ``starts`` Monte Carlo steps (after its random start) each draw a new random
    # pose instead of mutating, and keep its minimum only if it is lower than the chain's
    # (greedy): each chain sets out from the best of ``starts`` minimised random poses (0 or 1:
    # from one, as Vina)
    starts: int = 0
    # after the exact refinement, each ligand's ``polish_poses`` best distinct final candidates are
    # jiggled and re-minimised ``polish_rounds`` times each, kept where lower (``finish.polish``)
    polish_rounds: int = 0
    polish_poses: int = 4
    # then each ligand's ``rotamer_poses`` best distinct final poses have every free torsion turned by
    # each of :data:`finish.ROTAMER_TURNS` alone, minimised on the grid, and the lowest turn per pose
    # refined exactly, kept where lower (``finish.rotamer_sweep``; 0: none)
    rotamer_poses: int = 0


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
    evals: torch.Tensor  # (P,) line-search evaluations spent so far
    f1: torch.Tensor  # (P,) energy before the last accepted step (+inf before the first)


class Chains(NamedTuple):
    """Monte Carlo chain state: current pose and energy, best energy, step counter."""

    pos: torch.Tensor
    quat: torch.Tensor
    tors: torch.Tensor
    e: torch.Tensor  # (P,) current (accepted) energy, +inf before the first step
    best: torch.Tensor  # (P,) best energy seen
    step: torch.Tensor  # (P,) long: Monte Carlo steps completed
    seed: torch.Tensor  # (P,) long: hash key of the chain (ligand seed, chain index)
    tick_cap: torch.Tensor  # (P,) long: ticks (energy evaluations) this chain's ligand gets
    stale: torch.Tensor  # (P,) long: Monte Carlo steps since the chain's best last improved


class Store(NamedTuple):
    """Each chain's distinct minima: heavy-atom coordinates, pose and energy, +inf = empty."""

    x: torch.Tensor  # (P, K, A, 3)
    pos: torch.Tensor  # (P, K, 3)
    quat: torch.Tensor  # (P, K, 4)
    tors: torch.Tensor  # (P, K, T)
    e: torch.Tensor  # (P, K)


# -- local optimisation -------------------------------------------------------------------------
def _eye(c: PoseConsts) -> torch.Tensor:
    return torch.diag_embed(c.dim_mask)


EnergyFn = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


def evaluate(
    c: PoseConsts, gc: GridConsts, pos: torch.Tensor, quat: torch.Tensor, tors: torch.Tensor, cap: float
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Grid energies (P,), gradients (P, 6 + T) and coordinates (P, A, 3) of poses, both caps
    ``cap``: a search batch (``c.chains``) evaluates with the chain innermost (engine 1.7)."""
    if c.chains:
        return energy_grad_chains(c, gc, pos, quat, tors, cap, cap)
    return energy_grad_x(c, gc, pos, quat, tors, cap, cap)


def grid_energy(c: PoseConsts, gc: GridConsts, cap: float) -> EnergyFn:
    """f(pos, quat, tors) -> (energy, gradient) on the grid maps with caps ``cap``."""

    def f(pos: torch.Tensor, quat: torch.Tensor, tors: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        e, g, _x = evaluate(c, gc, pos, quat, tors, cap)
        return e, g

    return f


def _start(c: PoseConsts, pos: torch.Tensor, quat: torch.Tensor, tors: torch.Tensor, f: torch.Tensor,
           g: torch.Tensor, first_step: float = math.inf) -> LocalOpt:
    """BFGS state at poses with energy ``f`` and masked gradient ``g``: steepest descent, its first
    trial step the raw gradient (as Vina), shortened to length ``first_step`` where it is longer."""
    gg = ordered_dot(g, g)
    ok = torch.isfinite(f) & (gg.sqrt() >= 1e-5)
    alpha = torch.ones_like(f)
    if math.isfinite(first_step):
        alpha = (first_step / gg.sqrt().clamp(min=1e-12)).clamp(max=1.0)
    return LocalOpt(
        pos=pos, quat=quat, tors=tors, f=f, g=g, h=_eye(c), p=-g, pg=-gg,
        alpha=alpha, trials=torch.zeros_like(f), iters=torch.zeros_like(f), active=ok,
        first=torch.ones_like(ok), evals=torch.zeros_like(f), f1=torch.full_like(f, math.inf),
    )  # fmt: skip


def lbfgs_init(c: PoseConsts, efn: EnergyFn, pos: torch.Tensor, quat: torch.Tensor, tors: torch.Tensor) -> LocalOpt:
    """Start a BFGS minimisation at the poses: one evaluation, steepest-descent direction."""
    f, g = efn(pos, quat, tors)
    return _start(c, pos, quat, tors, f, g * c.dim_mask)


def lbfgs_micro(c: PoseConsts, gc: GridConsts, s: LocalOpt, cap: float) -> LocalOpt:
    """One grid evaluation of every pose's line search (see :func:`lbfgs_micro_with`)."""
    return lbfgs_micro_with(c, grid_energy(c, gc, cap), s)


def _trial(s: LocalOpt) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """The line search's current trial step and the pose it leads to."""
    step = s.alpha[:, None] * s.p
    return (step, *apply_change(s.pos, s.quat, s.tors, step))


def lbfgs_micro_with(c: PoseConsts, efn: EnergyFn, s: LocalOpt) -> LocalOpt:
    """One energy evaluation of every pose's line search, then BFGS bookkeeping where a trial
    step was accepted.  Inactive poses do not move."""
    step, pos_t, quat_t, tors_t = _trial(s)
    ft, gt = efn(pos_t, quat_t, tors_t)
    return _line_search(c, s, step, pos_t, quat_t, tors_t, ft, gt * c.dim_mask)[0]


def _matvec(h: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """h (P, D, D) times v (P, D), elementwise: fuses with its neighbours where a batched
    matrix-vector product is a library call of its own."""
    return ordered_sum(h * v[:, None, :])


def _line_search(
    c: PoseConsts, s: LocalOpt, step: torch.Tensor, pos_t: torch.Tensor, quat_t: torch.Tensor,
    tors_t: torch.Tensor, ft: torch.Tensor, gt: torch.Tensor, min_step: float = 0.0, interpolate: bool = False,
    stall: float = 0.0, stall_after: int = 0,
) -> tuple[LocalOpt, torch.Tensor]:
    """The state after the trial ``step`` was evaluated (energy ``ft``, masked gradient ``gt``),
    and whether each pose took the step.  A failed trial's step is halved, as Vina, or with
    ``interpolate`` shortened to the minimum of the quadratic through the line's start and the failed
    trial (0.1 to 0.5 of it).  A line search also gives up (ending the optimisation) where its next
    trial would move less than ``min_step`` (0: only after Vina's 10 trials), and an optimisation ends
    where its last two accepted steps together lowered the energy by less than ``stall`` (0: never),
    once it has taken at least ``stall_after`` accepted steps."""
    ok = s.active & (ft - s.f < ARMIJO_C * s.alpha * s.pg)
    fail = s.active & ~ok
    y = gt - s.g
    yy = ordered_dot(y, y)
    ys = ordered_dot(y, step)
    eye = _eye(c)
    # Vina's first accepted step scales the initial inverse Hessian by (y.s) / (y.y)
    scale = torch.where(yy > 1e-12, ys / yy.clamp(min=1e-12), torch.ones_like(yy))
    h = torch.where((ok & s.first)[:, None, None], eye * scale[:, None, None], s.h)
    hy = _matvec(h, y)
    yhy = ordered_dot(y, hy)
    upd = ok & (ys > 1e-7 * (yy.sqrt() * ordered_dot(step, step).sqrt()).clamp(min=1e-12))
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
    pn = -_matvec(h, g)
    pgn = ordered_dot(pn, g)
    bad = ~(pgn < 0)
    gg = ordered_dot(g, g)
    h = torch.where((ok & bad)[:, None, None], eye, h)
    pn = torch.where(bad[:, None], -g, pn)
    pgn = torch.where(bad, -gg, pgn)
    p = torch.where(okc, pn, s.p)
    pg = torch.where(ok, pgn, s.pg)
    shrink: float | torch.Tensor = 0.5  # Vina halves a failed trial
    if interpolate:  # phi(a) = f(x + a p): the quadratic with phi(0), phi'(0) = p.g and phi(alpha) = ft
        rise = ft - s.f - s.alpha * s.pg  # > 0 where Armijo's test failed
        shrink = (-s.pg * s.alpha / (2 * rise.clamp(min=1e-30))).nan_to_num(nan=0.5, posinf=0.5).clamp(0.1, 0.5)
    alpha = torch.where(ok, torch.ones_like(s.alpha), s.alpha * shrink)
    trials = torch.where(ok, torch.zeros_like(s.trials), s.trials + fail.to(s.trials.dtype))
    gave_up = fail & (trials >= MAX_TRIALS)
    if min_step > 0:  # or where the next trial would move less than min_step (alpha |p|)
        gave_up = gave_up | (fail & (alpha * ordered_dot(s.p, s.p).sqrt() < min_step))
    done = gave_up | (ok & ((gg.sqrt() < 1e-5) | (iters >= c.iter_cap)))
    if stall > 0:  # s.f1 - ft: the drop over the last two accepted steps (+inf after the first)
        stalled = ok & (s.f1 - ft < stall)
        if stall_after > 1:  # every accepted step has iters >= 1, so 0 and 1 need no test
            stalled = stalled & (iters >= stall_after)
        done = done | stalled
    f1 = torch.where(ok, s.f, s.f1)
    active = s.active & ~done & torch.isfinite(f)
    evals = s.evals + s.active.to(s.evals.dtype)
    out = LocalOpt(pos, quat, tors, f, g, h, p, pg, alpha, trials, iters, active, s.first & ~ok, evals, f1)
    return out, ok


# -- Monte Carlo ----------------------------------------------------------------------------------
class Search(NamedTuple):
    """Everything a search carries from one tick to the next."""

    ch: Chains
    st: Store
    opt: LocalOpt  # each chain's local optimisation in progress
    x: torch.Tensor  # (P, A, 3) atom coordinates of ``opt``'s current pose
    live: torch.Tensor  # (P,) bool: ``opt`` holds a local optimisation (false before the first)
    tick: torch.Tensor  # () long


def _rmsd_to_store(c: PoseConsts, store_x: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    d = ((store_x - x[:, None]) ** 2).sum(-1)  # (P, K, A)
    return torch.sqrt(ordered_dot(d, c.heavy[:, None]) / c.n_heavy[:, None])


def mc_accept(
    c: PoseConsts, ch: Chains, st: Store, opt: LocalOpt, x: torch.Tensor, ended: torch.Tensor,
    temperature: float | torch.Tensor, min_rmsd: float, abandoned: torch.Tensor | None = None,
    starts: int = 0,
) -> tuple[Chains, Store]:
    """Metropolis acceptance of the local optimisations that ``ended`` (minimum ``opt``,
    coordinates ``x``), chain bookkeeping and the chain's store of distinct minima.  An
    ``abandoned`` optimisation ends its step rejected; one of the first ``starts`` steps (a new
    random pose) is accepted only if it is lower."""
    e = torch.nan_to_num(opt.f, nan=float("inf"))
    u = hash_uniform(ch.seed, ch.step, 13)[:, 12].to(e.dtype)
    prob = torch.exp(((ch.e - e) / temperature).clamp(max=0.0))
    uphill = u < prob
    if starts > 1:
        uphill = uphill & ~_in_start_phase(ch, starts)
    accept = ended & torch.isfinite(e) & ((e < ch.e) | uphill | (ch.step == 0))
    if abandoned is not None:
        accept = accept & ~abandoned
    acc = accept[:, None]
    pos = torch.where(acc, opt.pos, ch.pos)
    quat = torch.where(acc, opt.quat, ch.quat)
    tors = torch.where(acc, opt.tors, ch.tors)
    cur = torch.where(accept, e, ch.e)
    # store: Vina keeps an accepted pose that beats the chain's best, or any while not full
    not_full = torch.isinf(st.e).any(-1)
    keep = accept & ((e < ch.best) | not_full)
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
    improved = accept & (e < ch.best)
    best = torch.where(accept, torch.minimum(ch.best, e), ch.best)
    step = ch.step + ended.to(ch.step.dtype)
    stale = torch.where(improved, torch.zeros_like(ch.stale), ch.stale + ended.to(ch.stale.dtype))
    return Chains(pos, quat, tors, cur, best, step, ch.seed, ch.tick_cap, stale), new


def _merge(mask: torch.Tensor, a: LocalOpt, b: LocalOpt) -> LocalOpt:
    """``a`` where ``mask`` (P,), else ``b``, field by field."""
    return LocalOpt(*(torch.where(mask.reshape(-1, *([1] * (u.dim() - 1))), u, v) for u, v in zip(a, b, strict=True)))


def chain_temperature(params: SearchParams, tick: torch.Tensor, tick_cap: torch.Tensor) -> float | torch.Tensor:
    """Metropolis temperature of every chain at ``tick``: ``params.temperature`` throughout, as
    Vina, or moving geometrically from it to ``params.final_temperature`` at the chain's tick cap
    (docs/validation.md: cooling from Vina's 1.2 to 0.3, "Vina at a smaller budget"; from 2.4 to
    1.2, "Chains that start hot")."""
    if params.final_temperature == params.temperature:
        return params.temperature
    done = (tick.to(torch.float32) / tick_cap.to(torch.float32)).clamp(max=1.0)  # no float64 on a GPU
    return params.temperature * (params.final_temperature / params.temperature) ** done


def ladder_temperatures(s: Search, params: SearchParams, temperature: float | torch.Tensor) -> torch.Tensor:
    """(P,) each chain's Metropolis temperature on its tempering ladder (:mod:`.tempering`)."""
    level = ladder_level(s.ch.e.shape[0], params.ladder, s.ch.e.device)
    return temperature * ladder_factor(level, params.ladder, params.ladder_top / params.temperature, s.ch.e.dtype)


def swap_due(params: SearchParams, tick: int) -> bool:
    """Whether neighbouring ladder levels try to swap at ``tick`` (a host-side tick number)."""
    return params.ladder > 1 and tick % params.swap_every == 0


def exchange(s: Search, params: SearchParams) -> Search:
    """The search after this tick's configuration swaps (:mod:`.tempering`): chains exchange
    current pose and energy, local optimisation in flight and its coordinates; stores, best
    energies and random streams stay with the chain.  The identity except on ticks where
    :func:`swap_due`; run loops call it on those ticks only, before the tick (:func:`advance`)."""
    ch = s.ch
    level = ladder_level(ch.e.shape[0], params.ladder, ch.e.device)
    temps = ladder_temperatures(s, params, chain_temperature(params, s.tick, ch.tick_cap))
    u = hash_uniform(ch.seed, s.tick + _SWAP_STREAM, 1)[:, 0].to(ch.e.dtype)
    perm = exchange_partner(level, params.ladder, s.tick, params.swap_every, ch.e, temps, u)

    def take(t: torch.Tensor) -> torch.Tensor:
        return t.index_select(0, perm)

    ch = ch._replace(pos=take(ch.pos), quat=take(ch.quat), tors=take(ch.tors), e=take(ch.e))
    opt = LocalOpt(*(take(t) for t in s.opt))
    return s._replace(ch=ch, opt=opt, x=take(s.x), live=take(s.live))


def mc_tick(c: PoseConsts, gc: GridConsts, s: Search, params: SearchParams, swaps: bool = True) -> Search:
    """One energy evaluation of every chain.

    A chain whose local optimisation has ended (Vina's stopping rules, or ``micro_per_iter``
    evaluations per allowed BFGS iteration spent) finishes its Monte Carlo step (acceptance and
    store), mutates its current pose and evaluates the mutant, which starts its next local
    optimisation; every other chain evaluates its line search's trial step.  So no evaluation
    waits for the slowest pose of the batch, and one tick has one shape.  A chain stops at its
    tick cap (its ligand's budget).

    With tempering ladders, ``swaps`` runs the tick's configuration swaps (:func:`exchange`) first,
    as a gather that is the identity on all but every ``swap_every``-th tick; run loops pass False
    and call :func:`exchange` themselves where :func:`swap_due` (:func:`advance`): the same search,
    without gathering every chain's state on every tick (engine 1.9.1)."""
    temperature = chain_temperature(params, s.tick, s.ch.tick_cap)
    if params.ladder > 1:
        if swaps:
            s = exchange(s, params)
        temperature = ladder_temperatures(s, params, temperature)
    ch, opt = s.ch, s.opt
    running = s.tick < ch.tick_cap
    ended = ~opt.active | (opt.evals >= torch.ceil(params.micro_per_iter * c.iter_cap))
    abandoned = None
    if math.isfinite(params.abort_margin):
        abandoned = opt.active & (opt.iters >= params.abort_after) & (opt.f > ch.e + params.abort_margin)
        ended = ended | abandoned
    ch, st = mc_accept(c, ch, s.st, opt, s.x, ended & s.live & running, temperature, params.min_rmsd,
                       abandoned, params.starts)
    restart = ended & running
    m_pos, m_quat, m_tors = mutate(c, ch, params.amplitude, gc, params.starts)
    step, t_pos, t_quat, t_tors = _trial(opt)
    r1 = restart[:, None]
    pos, quat, tors = torch.where(r1, m_pos, t_pos), torch.where(r1, m_quat, t_quat), torch.where(r1, m_tors, t_tors)
    f, g, x = evaluate(c, gc, pos, quat, tors, HUNT_CAP)
    g = g * c.dim_mask
    cont, took = _line_search(c, opt, step, pos, quat, tors, f, g, params.min_step, params.interpolate,
                              params.stall, params.stall_after)
    new_opt = _merge(restart, _start(c, pos, quat, tors, f, g, params.first_step), cont)
    new_x = torch.where((restart | took)[:, None, None], x, s.x)
    return Search(ch, st, new_opt, new_x, s.live | restart, s.tick + 1)


def ls_tick(c: PoseConsts, gc: GridConsts, s: Search, params: SearchParams, swaps: bool = True) -> Search:
    """A tick without Monte Carlo bookkeeping: every pose evaluates its line search's trial step
    (ended optimisations stay put) and nothing else.  Runs on a CPU call :func:`mc_tick` only every
    few ticks and this one in between: eager ones (one ligand, no compiler), whose cost is the number
    of operations launched, and since engine 1.10 compiled ones, where this tick costs ~0.75x a
    bookkeeping tick.  ``swaps`` is there for the tick functions' common signature: swaps happen on
    Monte Carlo ticks only."""
    opt = s.opt
    step, pos, quat, tors = _trial(opt)
    f, g, x = evaluate(c, gc, pos, quat, tors, HUNT_CAP)
    new_opt, took = _line_search(c, opt, step, pos, quat, tors, f, g * c.dim_mask, params.min_step,
                                 params.interpolate, params.stall, params.stall_after)
    return s._replace(opt=new_opt, x=torch.where(took[:, None, None], x, s.x), tick=s.tick + 1)


def new_search(
    c: PoseConsts, center: torch.Tensor, size: torch.Tensor, seed: torch.Tensor, tick_cap: torch.Tensor,
    store: int,
) -> Search:
    """Random starts, empty stores and no local optimisation yet for every chain."""
    pos, quat, tors = random_start(c, center, size, seed)
    p_n, a = c.local.shape[:2]
    dev, dtype = pos.device, pos.dtype
    inf = torch.full((p_n,), float("inf"), dtype=dtype, device=dev)
    zeros = torch.zeros((p_n,), dtype=torch.long, device=dev)
    ch = Chains(pos, quat, tors, inf, inf.clone(), zeros, seed, tick_cap, zeros.clone())
    st = Store(
        x=torch.zeros((p_n, store, a, 3), dtype=dtype, device=dev),
        pos=pos[:, None].repeat(1, store, 1), quat=quat[:, None].repeat(1, store, 1),
        tors=tors[:, None].repeat(1, store, 1),
        e=torch.full((p_n, store), float("inf"), dtype=dtype, device=dev),
    )  # fmt: skip
    f = inf.clone()
    # inactive (f is not finite); its own tensors, so that no input aliases another (a compiled
    # tick guards on aliasing and would compile twice)
    opt = _start(c, pos.clone(), quat.clone(), tors.clone(), f, torch.zeros_like(c.dim_mask))
    no = torch.zeros((p_n,), dtype=torch.bool, device=dev)
    return Search(ch, st, opt, torch.zeros((p_n, a, 3), dtype=dtype, device=dev), no,
                  torch.zeros((), dtype=torch.long, device=dev))


TickFn = Callable[..., Search]  # mc_tick or ls_tick, eager or compiled: (c, gc, s, params, swaps=True)
ExchangeFn = Callable[[Search, SearchParams], Search]  # exchange, eager or compiled


def advance(
    tick: TickFn, c: PoseConsts, gc: GridConsts, s: Search, params: SearchParams, start: int, stop: int,
    period: int = 1, swap: ExchangeFn = exchange, between: TickFn = ls_tick,
) -> Search:
    """Ticks ``start`` to ``stop`` - 1 of a search at ``s`` (tick ``start``): ``tick`` (without its own
    swaps) every ``period``-th tick, ``between`` (:func:`ls_tick`, eager or compiled) in between, and
    the ladders' configuration swaps (``swap``, :func:`exchange` eager or compiled) before each tick
    where :func:`swap_due`.  The same search as :func:`mc_tick` with its own swaps on every tick,
    where ``period`` divides ``swap_every`` (the swaps' gather then runs on every ``swap_every``-th
    tick only)."""
    for i in range(start, stop):
        if swap_due(params, i):
            s = swap(s, params)
        s = (tick if i % period == 0 else between)(c, gc, s, params, swaps=False)
    return s


def ticks_for(steps: int, iter_cap: float, period: int = 1) -> int:
    """Ticks that give a chain about ``steps`` Monte Carlo steps: one evaluation to start each
    local optimisation, :data:`EVALS_PER_ITER` per allowed BFGS iteration, and on average
    (period - 1) / 2 waiting for the next bookkeeping tick when :func:`mc_tick` runs only every
    ``period`` ticks."""
    return max(1, math.ceil(steps * (1 + EVALS_PER_ITER * iter_cap + (period - 1) / 2)))
