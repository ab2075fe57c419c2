"""Energy and gradient of a search batch with the chain as the innermost dimension (engine 1.7).

A search batch holds each ligand's ``C`` chains one after another (``PoseConsts.chains``), and
the chains of a ligand share its input coordinates, torsion tree, atom types and pair list.
Here every per-atom quantity is laid out (ligand, atom, [x, y, z,] chain): whatever belongs to
the ligand is one number broadcast along the chains, whatever belongs to a pose runs along
them, so a compiled CPU loop is one vector of chains per atom (16 float32 lanes with AVX-512
for ``balanced``'s 16 chains) with no tail, and no loop runs along a dimension of 3 or 8.

Coordinates (:func:`forward_chains`): each atom starts at its input position relative to the
root origin and is turned about every rotatable bond whose subtree holds it, deepest bond
first.  A bond's axis then has not moved yet (only deeper bonds have turned, and they move
neither of its atoms), so every turn is about a constant input-frame axis, a per-atom
elementwise update; the root's rotation and position come last.  Same coordinates as
:func:`.kinematics.forward`'s body frames, composed the other way round, with no gathers
between tree levels.  The torsion gradient (:func:`backward_chains`) takes each bond's world
axis from its two atoms' coordinates.

The per-pose functions of :mod:`.energy` and :mod:`.kinematics` are the reference: a test
checks this layout against them in float64 (``tests/docking/test_torch_search.py``).
"""

from __future__ import annotations

import torch

from .batch import quat_to_matrix
from .energy import GridConsts, _curl, _pair_terms
from .kinematics import PoseConsts

__all__ = ["backward_chains", "energy_grad_chains", "forward_chains", "grid_chains", "intra_chains"]


def _per_lig(c: PoseConsts, v: torch.Tensor) -> torch.Tensor:
    """A per-pose constant's value per ligand (the first chain's)."""
    return v[:: c.chains]


def _chains_last(c: PoseConsts, v: torch.Tensor) -> torch.Tensor:
    """(P, ...) per-pose values as (L, ..., C)."""
    n = c.chains
    return v.reshape(v.shape[0] // n, n, *v.shape[1:]).movedim(1, -1)


def _poses_first(v: torch.Tensor) -> torch.Tensor:
    """(L, ..., C) values back to (P, ...)."""
    w = v.movedim(-1, 1)
    return w.reshape(w.shape[0] * w.shape[1], *w.shape[2:])


def _per_pose_rows(c: PoseConsts, v: torch.Tensor) -> torch.Tensor:
    """Per-pose values (P, K) as a contiguous (L, K, C) buffer.  Written by a batched product
    with the identity, which the compiler keeps as a buffer of its own: as a view, every
    atom's loop would gather its chains' values with stride K (measured 2x slower)."""
    n = c.chains
    eye = torch.eye(n, dtype=v.dtype, device=v.device).expand(v.shape[0] // n, n, n)
    return torch.bmm(v.reshape(-1, n, v.shape[1]).transpose(1, 2), eye)


def forward_chains(c: PoseConsts, pos: torch.Tensor, quat: torch.Tensor, tors: torch.Tensor) -> torch.Tensor:
    """Atom coordinates (L, A, 3, C) of poses (P = L x C, ligand-major)."""
    t_n = tors.shape[1]
    t = tors * c.tors_mask
    rows = _per_pose_rows(c, torch.cat([t, quat_to_matrix(quat).flatten(1), pos], 1))
    # cos and sin after the transpose, over rows of chains (engine 1.14): taken per pose over the
    # padded torsions, a compiled loop's vector body and scalar tail split them by the padding, so a
    # drug's angles (and all that follows) rounded apart with the batch on 8-lane vectors
    cos, sin = torch.cos(rows[:, :t_n]), torch.sin(rows[:, :t_n])  # (L, T, C)
    r = rows[:, t_n : t_n + 9, None]  # (L, 9, 1, C)
    p = rows[:, t_n + 9 :, None]  # (L, 3, 1, C)
    x0 = _per_lig(c, c.x0)  # (L, A, 3)
    u = _per_lig(c, c.axis)  # (L, B, 3)
    o = _per_lig(c, c.origin0)
    sub = _per_lig(c, c.subtree)  # (L, B, A)
    x, y, z = x0[..., 0, None], x0[..., 1, None], x0[..., 2, None]  # (L, A, 1): same for every chain
    for k in range(t_n - 1, -1, -1):  # body k + 1; a child's index is above its parent's
        b = k + 1
        ux, uy, uz = u[:, b, 0, None, None], u[:, b, 1, None, None], u[:, b, 2, None, None]
        vx, vy, vz = x - o[:, b, 0, None, None], y - o[:, b, 1, None, None], z - o[:, b, 2, None, None]
        ck, sk = cos[:, k, None, :], sin[:, k, None, :]  # (L, 1, C)
        m = sub[:, b, :, None]
        # Rodrigues: v' = v cos + (u x v) sin + u (u . v)(1 - cos); the atom moves by m (v' - v)
        uv = (ux * vx + uy * vy + uz * vz) * (1.0 - ck)
        x = x + m * ((ck - 1.0) * vx + (uy * vz - uz * vy) * sk + ux * uv)
        y = y + m * ((ck - 1.0) * vy + (uz * vx - ux * vz) * sk + uy * uv)
        z = z + m * ((ck - 1.0) * vz + (ux * vy - uy * vx) * sk + uz * uv)
    world = [p[:, i] + r[:, 3 * i] * x + r[:, 3 * i + 1] * y + r[:, 3 * i + 2] * z for i in range(3)]
    return torch.stack(world, 2)


def grid_chains(c: PoseConsts, gc: GridConsts, xc: torch.Tensor, cap: float) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`.energy.grid_inter_grad` in this layout: per-atom energies (L, A, C) and
    gradients (L, A, 3, C) at coordinates ``xc`` (L, A, 3, C)."""
    s, sc, region, i0 = [], [], [], []
    for k in range(3):
        sk = (xc[:, :, k] - gc.origin[k]) * gc.inv_spacing
        sck = torch.minimum(sk.clamp(min=0.0), gc.upper[k])
        s.append(sk)
        sc.append(sck)
        region.append(torch.sign(sk - sck))
        i0.append(torch.minimum(sck.floor(), gc.upper[k] - 1))
    miss = ((s[0] - sc[0]).abs() + (s[1] - sc[1]).abs() + (s[2] - sc[2]).abs()) / gc.inv_spacing
    fx, fy, fz = (sc[k] - i0[k] for k in range(3))
    base = _per_lig(c, c.slot_base)[..., None] + (
        i0[0].long() * gc.strides[0] + i0[1].long() * gc.strides[1] + i0[2].long() * gc.strides[2]
    )
    v = [torch.take(gc.flat, base + gc.corners[j]) for j in range(8)]  # corner (dx, dy, dz) = j's bits
    # along z, then y, then x (as grid_inter_grad)
    vz = [v[2 * i] + fz * (v[2 * i + 1] - v[2 * i]) for i in range(4)]  # (dx, dy)
    dz = [v[2 * i + 1] - v[2 * i] for i in range(4)]
    vyz = [vz[2 * i] + fy * (vz[2 * i + 1] - vz[2 * i]) for i in range(2)]  # (dx)
    dy = [vz[2 * i + 1] - vz[2 * i] for i in range(2)]
    dzy = [dz[2 * i] + fy * (dz[2 * i + 1] - dz[2 * i]) for i in range(2)]
    e = vyz[0] + fx * (vyz[1] - vyz[0])
    g = [vyz[1] - vyz[0], dy[0] + fx * (dy[1] - dy[0]), dzy[0] + fx * (dzy[1] - dzy[0])]
    e, kc = _curl(e, cap)
    typed = _per_lig(c, c.typed)[..., None]  # the out-of-grid slope too: heavy atoms only, as Vina
    scale = kc * gc.inv_spacing * typed
    grads = [
        g[k] * scale * (region[k] == 0).to(xc.dtype) + gc.slope * region[k] * typed for k in range(3)
    ]
    return e * typed + gc.slope * miss * typed, torch.stack(grads, 2)


def intra_chains(c: PoseConsts, xc: torch.Tensor, cap: float) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`.energy.intra_grad` in this layout: energies (L, C) and gradients (L, A, 3, C);
    every gather and scatter moves a row of chains and the pair arithmetic runs along them."""
    lig, a, _, n = xc.shape
    m = c.pair_mask.shape[1]
    xt = xc.reshape(lig, a * 3, n)
    k3 = torch.arange(3, device=xc.device)
    rows_i = (_per_lig(c, c.pair_i3) * 3 + k3).reshape(lig, m * 3, 1).expand(lig, m * 3, n)
    rows_j = (_per_lig(c, c.pair_j3) * 3 + k3).reshape(lig, m * 3, 1).expand(lig, m * 3, n)
    dv = (torch.gather(xt, 1, rows_i) - torch.gather(xt, 1, rows_j)).reshape(lig, m, 3, n)
    r = torch.sqrt((dv * dv).sum(2) + 1e-12)  # (L, M, C)

    def pl(v: torch.Tensor) -> torch.Tensor:
        return _per_lig(c, v)[..., None]

    e, f = _pair_terms(c, r, pl(c.pair_radius), pl(c.pair_hyd), pl(c.pair_hb), pl(c.pair_glue), pl(c.pair_mask), cap)
    fvec = (f[:, :, None, :] * dv).reshape(lig, m * 3, n)
    if c.pair_gather.numel():  # each atom gathers its pairs' forces (kinematics.pair_gather)
        k = c.pair_gather.shape[2]
        rows = torch.cat([fvec.reshape(lig, m, 3 * n), fvec.new_zeros((lig, 1, 3 * n))], 1)  # row M: none
        idx = c.pair_gather.reshape(lig, a * k, 1).expand(lig, a * k, 3 * n)
        g = (torch.gather(rows, 1, idx).reshape(lig, a, k, 3 * n) * c.pair_sign[..., None]).sum(2)
        return e.sum(1), g.reshape(lig, a, 3, n)
    g = torch.zeros_like(xt).scatter_add(1, rows_i, fvec).scatter_add(1, rows_j, -fvec)
    return e.sum(1), g.reshape(lig, a, 3, n)


def _cross(a: list[torch.Tensor], b: list[torch.Tensor]) -> list[torch.Tensor]:
    return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]


def backward_chains(c: PoseConsts, xc: torch.Tensor, pos: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """Gradient (P, 6 + T) w.r.t. the change vector from per-atom gradients ``g`` (L, A, 3, C)
    at coordinates ``xc`` (see :func:`.kinematics.backward`): force and torque about the root
    origin summed per subtree as one (B, A) x (A, 6 C) product per ligand, each torsion's
    derivative the subtree's torque about its bond projected on the bond's world axis."""
    lig, a, _, n = xc.shape
    p = _chains_last(c, pos)[:, None]  # (L, 1, 3, C)
    rel = [xc[:, :, k] - p[:, :, k] for k in range(3)]
    gk = [g[:, :, k] for k in range(3)]
    cols = torch.stack([*gk, *_cross(rel, gk)], 2).reshape(lig, a, 6 * n)
    s = (_per_lig(c, c.subtree) @ cols).reshape(lig, -1, 6, n)  # (L, B, 6, C)
    a0 = _per_lig(c, c.bond_atoms[..., 0])[:, :, None, None].expand(-1, -1, 3, n)
    a1 = _per_lig(c, c.bond_atoms[..., 1])[:, :, None, None].expand(-1, -1, 3, n)
    x1 = torch.gather(xc, 1, a1)  # (L, B, 3, C): the bond's atom in the child body (on the axis)
    axis = (x1 - torch.gather(xc, 1, a0)) * _per_lig(c, c.bond_inv_len)[:, :, None, None]
    lever = [x1[:, :, k] - p[:, :, k] for k in range(3)]
    force, torque = [s[:, :, k] for k in range(3)], [s[:, :, 3 + k] for k in range(3)]
    about = _cross(lever, force)
    tors_g = axis[:, :, 0] * (torque[0] - about[0]) + axis[:, :, 1] * (torque[1] - about[1]) \
        + axis[:, :, 2] * (torque[2] - about[2])  # (L, B, C)
    head = _poses_first(s[:, 0])  # (P, 6): force and torque of the whole ligand
    return torch.cat([head, _poses_first(tors_g[:, 1:]) * c.tors_mask], 1)


def energy_grad_chains(
    c: PoseConsts, gc: GridConsts, pos: torch.Tensor, quat: torch.Tensor, tors: torch.Tensor, cap_inter: float,
    cap_intra: float,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """:func:`.energy.energy_grad_x` of a search batch: energies (P,), gradients (P, 6 + T)
    and atom coordinates (P, A, 3)."""
    xc = forward_chains(c, pos, quat, tors)
    e_at, g_at = grid_chains(c, gc, xc, cap_inter)
    e_in, g_in = intra_chains(c, xc, cap_intra)
    e = _poses_first(e_at.sum(1) + e_in)
    return e, backward_chains(c, xc, pos, g_at + g_in), _poses_first(xc)
