"""Energies with analytic per-atom gradients: grid maps (search), intramolecular pairs and
exact receptor pair sums (final refinement).  Autograd is not used here; the tests check
every gradient against autograd in float64.

Grid term, as Vina's ``cache::eval_deriv``: the atom's map value by trilinear interpolation
(its gradient from the interpolation weights), softened above ``cap`` by ``curl``; outside
the grid the position is clamped onto it, the interpolation gradient along clamped axes is
dropped, and ``slope`` kcal/mol/Å per Å outside is added to energy and gradient.  Unlike
Vina, that slope also applies to hydrogens (which carry no energy otherwise), so every pose
the engine returns lies inside the grid and Vina can score it.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from .kinematics import PoseConsts, backward, forward
from .ordered import ordered_sum
from .scoring import CUTOFF, GLUE_CUTOFF, W_GLUE, WEIGHTS

__all__ = [
    "GridConsts",
    "NearPairs",
    "energy_grad",
    "energy_grad_x",
    "exact_inter_grad",
    "glue_energy_deriv",
    "grid_inter_grad",
    "intra_grad",
    "near_pairs",
    "pair_energy_deriv",
]


class GridConsts(NamedTuple):
    """Receptor maps flattened to one vector, with the grid's geometry as tensors."""

    flat: torch.Tensor  # (S * N,) map values, type slot major, then x, y, z
    origin: torch.Tensor  # (3,)
    upper: torch.Tensor  # (3,) index of the last grid point per axis
    strides: torch.Tensor  # (3,) long: flat index step per axis
    corners: torch.Tensor  # (8,) long: flat offsets of a cell's corners, (dx, dy, dz) order
    inv_spacing: float
    slope: float


def _curl(e: torch.Tensor, cap: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Vina's curl: (e v / (v + e), d/de) for e > 0; unchanged below."""
    k = torch.where(e > 0, cap / (cap + e.clamp(min=0.0)), torch.ones_like(e))
    return e * k, k * k


def _grid_cell(gc: GridConsts, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Grid coordinates of ``x`` clamped onto the grid, the side each axis is off it (-1, 0, 1)
    and the L1 distance outside it (Å): what Vina's out-of-grid slope acts on."""
    s = (x - gc.origin) * gc.inv_spacing
    sc = torch.minimum(s.clamp(min=0.0), gc.upper)
    return sc, torch.sign(s - sc), (s - sc).abs().sum(-1) / gc.inv_spacing


def grid_inter_grad(
    c: PoseConsts, gc: GridConsts, x: torch.Tensor, cap: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-atom intermolecular energies (P, A) and their coordinate gradients (P, A, 3)."""
    sc, region, miss = _grid_cell(gc, x)
    inside = (region == 0).to(x.dtype)
    i0 = torch.minimum(sc.floor(), gc.upper - 1)
    f = sc - i0
    base = c.slot_base + (i0.long() * gc.strides).sum(-1)
    v = torch.take(gc.flat, base[..., None] + gc.corners).unflatten(-1, (2, 2, 2))  # (P, A, dx, dy, dz)
    fx, fy, fz = f[..., 0, None], f[..., 1, None], f[..., 2, None]
    vz = v[..., 0] + fz[..., None] * (v[..., 1] - v[..., 0])  # (P, A, dx, dy)
    dz = v[..., 1] - v[..., 0]
    vyz = vz[..., 0] + fy * (vz[..., 1] - vz[..., 0])  # (P, A, dx)
    dy = vz[..., 1] - vz[..., 0]
    dzy = dz[..., 0] + fy * (dz[..., 1] - dz[..., 0])
    e = vyz[..., 0] + fx[..., 0] * (vyz[..., 1] - vyz[..., 0])
    gx = vyz[..., 1] - vyz[..., 0]
    gy = dy[..., 0] + fx[..., 0] * (dy[..., 1] - dy[..., 0])
    gz = dzy[..., 0] + fx[..., 0] * (dzy[..., 1] - dzy[..., 0])
    e, k = _curl(e, cap)
    grad = torch.stack([gx, gy, gz], -1) * (k[..., None] * gc.inv_spacing) * inside
    # the out-of-grid slope applies to typed (heavy) atoms only: Vina's grid evaluation skips
    # hydrogens, and its in-grid check (cache::is_in_grid) too, so a polar hydrogen may leave the
    # grid at no cost (engine 1.7.3; before, such poses scored ~10^5 too high)
    e = e * c.typed + gc.slope * miss * c.typed
    return e, grad * c.typed[..., None] + gc.slope * region * c.typed[..., None]


# lowest exponent of the first Gaussian in exact pair sums (pair_energy_deriv): exp(-80) = 1.8e-35, a normal float32
EXP_FLOOR = -80.0


def pair_energy_deriv(
    r: torch.Tensor, radius: torch.Tensor, hyd: torch.Tensor, hb: torch.Tensor, floor: float | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Weighted Vina pair energy at distance ``r`` and its derivative d/dr (zero from 8 Å).

    ``floor`` (:data:`EXP_FLOOR`; the eager exact pair sums of the finish pass it): the first
    Gaussian's exponent is floored there.  From a surface distance of 4.47 Å it is below -80, where
    the CPU's vectorised ``exp`` leaves its fast path and takes up to 10x as long, and most of the
    receptor pairs of an exact sum lie that far apart.  There (surface distances 4.47-5.6 Å within the
    cutoff) the floor adds at most 7e-37 kcal/mol to the energy and 3e-35 to its derivative, whose
    second-Gaussian terms are above 5e-4: no float32 or float64 sum can tell, and beyond the cutoff
    both are zeroed as before (engine 1.13).  The search leaves it out: compiled, it made a ligand's
    intramolecular sums 5-10 % faster but its search then differed beside a larger ligand (the padding
    test of ``tests/docking/test_torch_search.py`` failed; not traced)."""
    d = r - radius
    a = -4.0 * d * d
    g1 = torch.exp(a if floor is None else a.clamp(min=floor))
    g2 = torch.exp(-0.25 * (d - 3.0) ** 2)
    neg = (d < 0).to(r.dtype)
    hyd_on = hyd * ((d > 0.5) & (d < 1.5)).to(r.dtype)
    hb_on = hb * ((d > -0.7) & (d < 0)).to(r.dtype)
    e = (
        WEIGHTS["gauss1"] * g1
        + WEIGHTS["gauss2"] * g2
        + WEIGHTS["repulsion"] * neg * d * d
        + WEIGHTS["hydrophobic"] * hyd * (1.5 - d).clamp(0.0, 1.0)
        + WEIGHTS["hbond"] * hb * (-d / 0.7).clamp(0.0, 1.0)
    )
    de = (
        WEIGHTS["gauss1"] * (-8.0 * d) * g1
        + WEIGHTS["gauss2"] * (-0.5 * (d - 3.0)) * g2
        + WEIGHTS["repulsion"] * 2.0 * neg * d
        - WEIGHTS["hydrophobic"] * hyd_on
        - WEIGHTS["hbond"] / 0.7 * hb_on
    )
    within = (r < CUTOFF).to(r.dtype)
    return e * within, de * within


def glue_energy_deriv(r: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Vina's macrocycle glue (50 x r) as Vina evaluates it: interpolated linearly in r² between
    its table points r² = k / 32 Å², which turns the cone at r = 0 into a smooth well that BFGS can
    settle in (50 x r itself has a kink there, where line searches stall)."""
    r2 = 32.0 * r * r
    k = torch.floor(r2)
    lo = torch.sqrt(k / 32.0)
    step = torch.sqrt((k + 1.0) / 32.0) - lo
    return W_GLUE * (lo + (r2 - k) * step), W_GLUE * 64.0 * r * step


def _pair_terms(
    c: PoseConsts, r: torch.Tensor, radius: torch.Tensor, hyd: torch.Tensor, hb: torch.Tensor, glue: torch.Tensor,
    mask: torch.Tensor, cap: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Capped, masked pair energies at distances ``r`` and their derivative / r."""
    e, de = pair_energy_deriv(r, radius, hyd, hb)
    if c.has_glue:
        eg, deg = glue_energy_deriv(r)
        on = glue * (r < GLUE_CUTOFF).to(r.dtype)
        e = e + on * eg
        de = de + on * deg
    e, k = _curl(e, cap)
    return e * mask, de * k * mask / r


def intra_grad(c: PoseConsts, x: torch.Tensor, cap: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Intramolecular energy (P,) and its coordinate gradients (P, A, 3)."""
    xi = torch.gather(x, 1, c.pair_i3)
    xj = torch.gather(x, 1, c.pair_j3)
    dv = xi - xj
    r = torch.sqrt((dv * dv).sum(-1) + 1e-12)
    e, f = _pair_terms(c, r, c.pair_radius, c.pair_hyd, c.pair_hb, c.pair_glue, c.pair_mask, cap)
    fvec = f[..., None] * dv
    g = torch.zeros_like(x).scatter_add(1, c.pair_i3, fvec).scatter_add(1, c.pair_j3, -fvec)
    return ordered_sum(e), g


def energy_grad(
    c: PoseConsts,
    gc: GridConsts,
    pos: torch.Tensor,
    quat: torch.Tensor,
    tors: torch.Tensor,
    cap_inter: float,
    cap_intra: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Grid energy (P,) of poses and its gradient (P, 6 + T) w.r.t. the change vector."""
    e, g, _x = energy_grad_x(c, gc, pos, quat, tors, cap_inter, cap_intra)
    return e, g


def energy_grad_x(
    c: PoseConsts,
    gc: GridConsts,
    pos: torch.Tensor,
    quat: torch.Tensor,
    tors: torch.Tensor,
    cap_inter: float,
    cap_intra: float,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """:func:`energy_grad` and the atom coordinates (P, A, 3) of the poses."""
    x, r_b, o_b = forward(c, pos, quat, tors)
    e_at, g_at = grid_inter_grad(c, gc, x, cap_inter)
    e_in, g_in = intra_grad(c, x, cap_intra)
    return ordered_sum(e_at) + e_in, backward(c, x, r_b, o_b, pos, g_at + g_in), x


class Receptor(NamedTuple):
    """Receptor atoms for exact pair sums: coordinates, XS radii and flags (1/0 floats)."""

    xyz: torch.Tensor  # (R, 3)
    radius: torch.Tensor  # (R,)
    hyd: torch.Tensor  # (R,)
    don: torch.Tensor  # (R,)
    acc: torch.Tensor  # (R,)


class LigandTypes(NamedTuple):
    """Per-pose ligand atom properties for exact pair sums (padding: radius 0, flags 0)."""

    radius: torch.Tensor  # (P, A)
    hyd: torch.Tensor
    don: torch.Tensor
    acc: torch.Tensor


class NearPairs(NamedTuple):
    """The (ligand atom, receptor atom) pairs of poses' pair lists (:meth:`.grids.ReceptorGrid.pair_lists`)
    for exact pair sums, gathered once for the poses of a refinement (the receptor does not move), flat:
    pose after pose, ``S`` pairs each, ``N = P S`` in all; coordinates and indices component-major, so
    every per-pair array is contiguous."""

    row: torch.Tensor  # (N,) long: the pair's ligand atom as a row of its poses' (P A, 3) coordinates
    to: torch.Tensor  # (4 N,) long: where its energy and three force components add in a (4, P, A) sum
    xyz: torch.Tensor  # (3, N) the receptor atom's coordinates
    radius: torch.Tensor  # (N,) ligand + receptor XS radius
    hyd: torch.Tensor  # (N,) both hydrophobic (1/0)
    hb: torch.Tensor  # (N,) a donor-acceptor pair (1/0)
    mask: torch.Tensor  # (N,) a real pair (1/0)


def near_pairs(rec: Receptor, lt: LigandTypes, atom: torch.Tensor, near: torch.Tensor, mask: torch.Tensor) -> NearPairs:
    """The pair constants of pair lists (ligand atoms ``atom``, receptor atoms ``near``, ``mask``, all
    (P, S); see :meth:`.grids.ReceptorGrid.pair_lists`) for ligand atoms of types ``lt`` (P, A)."""
    n_pose, n_at = lt.radius.shape
    row = (atom + torch.arange(n_pose, device=atom.device)[:, None] * n_at).reshape(-1)
    to = (torch.arange(4, device=atom.device)[:, None] * (n_pose * n_at) + row).reshape(-1)
    near = near.reshape(-1)

    def lig(v: torch.Tensor) -> torch.Tensor:
        return v.reshape(-1)[row]

    hb = lig(lt.don) * rec.acc[near] + lig(lt.acc) * rec.don[near]
    return NearPairs(row, to, rec.xyz[near].t().contiguous(), lig(lt.radius) + rec.radius[near],
                     lig(lt.hyd) * rec.hyd[near], hb.clamp(max=1.0), mask.reshape(-1))


def exact_inter_grad(
    c: PoseConsts, pairs: NearPairs, gc: GridConsts, x: torch.Tensor, cap: float, slope: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-atom energies (P, A) and gradients (P, A, 3) by direct pair sums over the poses' pair
    lists ``pairs`` (Vina's final, grid-free evaluation).  Each atom's energy and force add its pairs
    one by one in list order (``scatter_add``), so padding at a list's end changes no sum."""
    n_pose, n_at = x.shape[:2]
    dv = x.reshape(-1, 3).t().contiguous().index_select(1, pairs.row) - pairs.xyz  # (3, N)
    r = torch.sqrt(dv[0] * dv[0] + dv[1] * dv[1] + dv[2] * dv[2] + 1e-12)
    e, de = pair_energy_deriv(r, pairs.radius, pairs.hyd, pairs.hb, EXP_FLOOR)
    m = pairs.mask
    terms = torch.cat([(e * m)[None], (de * m / r)[None] * dv])  # (4, N): energy, force
    acc = x.new_zeros(4 * n_pose * n_at).scatter_add_(0, pairs.to, terms.reshape(-1)).reshape(4, n_pose, n_at)
    e_at, g_at = acc[0], acc[1:].permute(1, 2, 0)
    e_at, k = _curl(e_at, cap)
    _sc, region, miss = _grid_cell(gc, x)
    e_at = e_at * c.typed + slope * miss * c.typed  # out-of-grid slope on heavy atoms (see grid_inter_grad)
    g_at = g_at * k[..., None] * c.typed[..., None] + slope * region * c.typed[..., None]
    return e_at, g_at


def exact_energy_grad(
    c: PoseConsts,
    gc: GridConsts,
    pairs: NearPairs,
    pos: torch.Tensor,
    quat: torch.Tensor,
    tors: torch.Tensor,
    cap: float,
    slope: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Exact (grid-free) energy (P,) and its gradient (P, 6 + T), uncapped pairs as Vina's
    final refinement."""
    x, r_b, o_b = forward(c, pos, quat, tors)
    e_at, g_at = exact_inter_grad(c, pairs, gc, x, cap, slope)
    e_in, g_in = intra_grad(c, x, cap)
    return ordered_sum(e_at) + e_in, backward(c, x, r_b, o_b, pos, g_at + g_in)
