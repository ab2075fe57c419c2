"""The search's moves: counter-based random numbers hashed on the device, Vina's random start and
mutation, and pose changes (split from :mod:`.search`, which runs them).

Every random number is a hash of (chain key, step, stream), so a chain draws the same numbers
whatever else shares its batch, and drawing needs no generator state and no host round trip.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import torch

from .batch import quat_mul, rotvec_to_quat
from .energy import GridConsts
from .kinematics import PoseConsts

if TYPE_CHECKING:
    from .search import Chains

__all__ = ["apply_change", "hash_uniform", "in_ball", "mutate", "random_start"]


# -- random numbers ---------------------------------------------------------------------------
_M32 = 0xFFFFFFFF


def _mix32(x: torch.Tensor) -> torch.Tensor:
    """A 32-bit integer mixer (xor-shift-multiply rounds) on int64 tensors holding 32-bit values."""
    x = ((x >> 16) ^ x) * 0x45D9F3B & _M32
    x = ((x >> 16) ^ x) * 0x45D9F3B & _M32
    return (x >> 16) ^ x


def hash_uniform(seed: torch.Tensor, step: torch.Tensor, n: int) -> torch.Tensor:
    """(P, n) uniform numbers in [0, 1) from (chain key ``seed`` (P,), ``step`` () or (P,), stream)."""
    streams = torch.arange(n, device=seed.device, dtype=torch.long)
    step = step[:, None] if step.dim() else step
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


def in_ball(u: torch.Tensor) -> torch.Tensor:
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


# hash step of the random poses drawn by the first ``SearchParams.starts`` steps: apart from the
# mutations' steps (step numbers stay far below it)
_START_STREAM = 1 << 28
# hash step of the tempering swaps' numbers (keyed by the tick)
_SWAP_STREAM = 1 << 29


def random_start(
    c: PoseConsts, center: torch.Tensor, size: torch.Tensor, seed: torch.Tensor,
    step: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Vina's start: a uniform position in the box, a random orientation and random torsions,
    except that torsions inside a broken macrocycle ring start as prepared (ring closed): from a
    random opening the hunt-capped glue pulls too weakly to close it within a short chain.
    ``step`` (P,) draws other poses for the same chains (default: the chain's first)."""
    t_n = c.tors_mask.shape[1]
    if step is None:
        step = torch.full((), -1, dtype=torch.long, device=seed.device)
    u = hash_uniform(seed, step, 7 + t_n).to(center.dtype)
    pos = center + (u[:, :3] - 0.5) * size
    q = _normals(u[:, 3:7])
    q = q / q.norm(dim=-1, keepdim=True).clamp(min=1e-12)
    tors = (u[:, 7:] * 2 - 1) * math.pi * c.tors_mask * (1.0 - c.ring_tors)
    return pos, q, tors


def _in_start_phase(ch: Chains, starts: int) -> torch.Tensor:
    """(P,) bool: the chain's current step draws a new random pose (``SearchParams.starts``)."""
    return (ch.step >= 1) & (ch.step < starts)


def mutate(
    c: PoseConsts, ch: Chains, amplitude: float, gc: GridConsts | None = None, starts: int = 0
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Vina's mutation: one of position, orientation or one torsion, chosen uniformly; none
    at step 0 (the random start is minimised as it is).  Steps 1 to ``starts`` - 1 draw a new
    random pose on the grid ``gc`` instead."""
    dtype = ch.pos.dtype
    u = hash_uniform(ch.seed, ch.step, 12).to(dtype)
    which = torch.minimum((u[:, 0] * c.n_entities).floor(), c.n_entities - 1)
    which = torch.where(ch.step == 0, torch.full_like(which, -1.0), which)
    shift = amplitude * in_ball(u[:, 1:6])
    rotv = (amplitude / c.gyration.clamp(min=0.5))[:, None] * in_ball(u[:, 6:11])
    angle = (u[:, 11] * 2 - 1) * math.pi
    pos = torch.where((which == 0)[:, None], ch.pos + shift, ch.pos)
    q = quat_mul(rotvec_to_quat(rotv), ch.quat)
    q = torch.where((which == 1)[:, None], q / q.norm(dim=-1, keepdim=True), ch.quat)
    t_idx = torch.arange(ch.tors.shape[1], device=ch.pos.device, dtype=dtype)
    hit = (which[:, None] - 2) == t_idx[None, :]
    tors = torch.where(hit, angle[:, None].expand_as(ch.tors), ch.tors)
    if starts > 1 and gc is not None:
        lo = gc.origin.to(dtype)
        span = (gc.upper / gc.inv_spacing).to(dtype)
        r_pos, r_quat, r_tors = random_start(c, lo + 0.5 * span, span, ch.seed, ch.step + _START_STREAM)
        new = _in_start_phase(ch, starts)[:, None]
        pos, q, tors = torch.where(new, r_pos, pos), torch.where(new, r_quat, q), torch.where(new, r_tors, tors)
    return pos, q, tors
