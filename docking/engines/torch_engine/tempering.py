"""Parallel tempering (replica exchange) between the Monte Carlo chains of each ligand.

With ``SearchParams.ladder`` = L > 1, a ligand's chains form ladders of L consecutive chains
(chain ``p`` of the batch sits at level ``p % L``; a ligand's chain count is a multiple of L,
so no ladder spans two ligands).  Level ``k`` runs its Metropolis test at the search's
temperature times ``(ladder_top / temperature) ** (k / (L - 1))``: level 0 is Vina's chain,
level L - 1 the hottest.  Every ``swap_every`` ticks, neighbouring levels try to exchange their
configurations (current pose and energy, with the local optimisation in flight), alternately
pairs (0, 1), (2, 3), ... and (1, 2), (3, 4), ...; a pair swaps with probability
``min(1, exp((1/T_a - 1/T_b) (E_a - E_b)))`` (Swendsen & Wang 1986; Earl & Deem 2005), so a
minimum a hot chain finds moves down to the cold chains while the cold ones keep digging.
Each chain keeps its own store of minima, best energy and random stream.

All of it is index arithmetic and gathers on fixed shapes: no host synchronisation.  The run loop
(:func:`.search.advance`) applies the swaps (:func:`.search.exchange`, a small compiled graph of
its own) before every ``swap_every``-th tick only, so the other ticks gather nothing.
"""

from __future__ import annotations

import torch

__all__ = ["exchange_partner", "ladder_factor", "ladder_level"]


def ladder_level(p_n: int, levels: int, device: torch.device) -> torch.Tensor:
    """(P,) long: each chain's level in its ladder."""
    return torch.arange(p_n, device=device) % levels


def ladder_factor(level: torch.Tensor, levels: int, top_ratio: float, dtype: torch.dtype) -> torch.Tensor:
    """(P,) multipliers of the search temperature: 1 at level 0, ``top_ratio`` at the top,
    geometric in between."""
    return top_ratio ** (level.to(dtype) / (levels - 1))


def exchange_partner(
    level: torch.Tensor, levels: int, tick: torch.Tensor, swap_every: int, e: torch.Tensor,
    temperature: torch.Tensor, u: torch.Tensor,
) -> torch.Tensor:
    """(P,) long permutation: the chain each chain takes its configuration from this tick
    (itself unless it swaps).  ``e`` current energies (+inf before a chain's first step: never
    swapped), ``temperature`` (P,) each chain's, ``u`` (P,) uniforms: a pair decides with its
    lower chain's number, so both members agree and the permutation is an involution."""
    p_n = level.shape[0]
    idx = torch.arange(p_n, device=level.device)
    odd = (torch.div(tick, swap_every, rounding_mode="floor") % 2) == 1
    other = torch.where(odd, ((level + 1) ^ 1) - 1, level ^ 1)
    valid = (other >= 0) & (other < levels)
    partner = torch.where(valid, (idx + other - level).clamp(0, p_n - 1), idx)
    e_p, t_p = e[partner], temperature[partner]
    arg = (1.0 / temperature - 1.0 / t_p) * (e - e_p)  # not finite only where an energy is not: no swap
    swap = valid & torch.isfinite(e) & torch.isfinite(e_p) & (tick % swap_every == 0)
    swap = swap & (u[torch.minimum(idx, partner)] < torch.exp(arg.clamp(max=0.0)))
    return torch.where(swap, partner, idx)
