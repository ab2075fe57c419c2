"""Pose model: translation + orientation + torsions -> atom coordinates, batched.

Every ligand of a batch is padded to the largest atom, body, torsion and pair counts of
the batch; masks mark real entries.  A pose belongs to one ligand (``lig`` index), so
many search chains of many ligands evaluate together as one (P, A, 3) tensor.

Body frames: every atom's coordinates are stored relative to its body's origin in the
input frame (root origin: centroid of the root atoms; branch origin: the branch's first
atom).  A body's rotation is its parent's times the rotation about its (input-frame)
bond axis by its torsion angle, and its origin is the parent's origin plus the parent's
rotation of the input-frame offset.  Bodies are resolved level by level of the tree, so
the work is ``depth`` batched steps, not one per body.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .topology import LigandTopology

__all__ = [
    "LigandBatch",
    "axis_angle_matrix",
    "mat3_mul",
    "quat_mul",
    "quat_to_matrix",
    "rotvec_to_quat",
]


def _skew(v: torch.Tensor) -> torch.Tensor:
    z = torch.zeros_like(v[..., 0])
    return torch.stack(
        [
            torch.stack([z, -v[..., 2], v[..., 1]], -1),
            torch.stack([v[..., 2], z, -v[..., 0]], -1),
            torch.stack([-v[..., 1], v[..., 0], z], -1),
        ],
        -2,
    )


def _skew_squared(v: torch.Tensor) -> torch.Tensor:
    """K(v) @ K(v) = v vᵀ - |v|² I, elementwise: a batched 3 x 3 matmul is one library call per
    tiny matrix on a CPU, where this fuses into the compiled kernel around it."""
    eye = torch.eye(3, dtype=v.dtype, device=v.device)
    return v[..., :, None] * v[..., None, :] - (v * v).sum(-1)[..., None, None] * eye


def mat3_mul(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """a @ b for stacks of 3 x 3 matrices, elementwise (see :func:`_skew_squared`)."""
    return (a[..., :, :, None] * b[..., None, :, :]).sum(-2)


def axis_angle_matrix(axis: torch.Tensor, angle: torch.Tensor) -> torch.Tensor:
    """Rotation matrices about unit ``axis`` (..., 3) by ``angle`` (...) (Rodrigues)."""
    k = _skew(axis)
    s, c = torch.sin(angle)[..., None, None], torch.cos(angle)[..., None, None]
    eye = torch.eye(3, dtype=axis.dtype, device=axis.device)
    return eye + s * k + (1 - c) * _skew_squared(axis)


def rotvec_matrix(w: torch.Tensor) -> torch.Tensor:
    """Rotation matrices of rotation vectors ``w`` (..., 3); smooth through w = 0."""
    t2 = (w * w).sum(-1)
    small = t2 < 1e-8
    t2s = torch.where(small, torch.ones_like(t2), t2)
    t = torch.sqrt(t2s)
    a = torch.where(small, 1 - t2 / 6, torch.sin(t) / t)
    b = torch.where(small, 0.5 - t2 / 24, (1 - torch.cos(t)) / t2s)
    k = _skew(w)
    eye = torch.eye(3, dtype=w.dtype, device=w.device)
    return eye + a[..., None, None] * k + b[..., None, None] * _skew_squared(w)


def quat_to_matrix(q: torch.Tensor) -> torch.Tensor:
    """Rotation matrices of quaternions (w, x, y, z) (..., 4); q is normalised first."""
    q = q / q.norm(dim=-1, keepdim=True)
    w, x, y, z = q.unbind(-1)
    return torch.stack(
        [
            torch.stack([1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)], -1),
            torch.stack([2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)], -1),
            torch.stack([2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)], -1),
        ],
        -2,
    )


def rotvec_to_quat(w: torch.Tensor) -> torch.Tensor:
    """Unit quaternions (w, x, y, z) of rotation vectors ``w`` (axis × angle in radians)."""
    t = w.norm(dim=-1, keepdim=True)
    half = 0.5 * t
    scale = torch.where(t > 1e-12, torch.sin(half) / t.clamp(min=1e-12), 0.5 * torch.ones_like(t))
    return torch.cat([torch.cos(half), w * scale], -1)


def quat_mul(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Hamilton product ``a * b`` of quaternions (w, x, y, z): rotation ``b`` first, then ``a``."""
    aw, ax, ay, az = a.unbind(-1)
    bw, bx, by, bz = b.unbind(-1)
    return torch.stack(
        [
            aw * bw - ax * bx - ay * by - az * bz,
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
        ],
        -1,
    )


@dataclass
class LigandBatch:
    """Padded tensors of L ligands (see the module docstring)."""

    tops: list[LigandTopology]
    local: torch.Tensor  # (L, A, 3)
    atom_body: torch.Tensor  # (L, A)
    atom_mask: torch.Tensor  # (L, A)
    xs: torch.Tensor  # (L, A), -1 = untyped / padding
    body_parent: torch.Tensor  # (L, B)
    body_offset: torch.Tensor  # (L, B, 3)
    body_axis: torch.Tensor  # (L, B, 3)
    body_depth: torch.Tensor  # (L, B), -1 = padding
    bond_atoms: torch.Tensor  # (L, B, 2) the body's rotatable bond (parent-side atom, body's first atom)
    bond_inv_len: torch.Tensor  # (L, B) 1 / that bond's length; 0 for the root and padding
    tors_mask: torch.Tensor  # (L, T)
    pairs: torch.Tensor  # (L, M, 2)
    pair_radius: torch.Tensor  # (L, M)
    pair_hyd: torch.Tensor  # (L, M)
    pair_hb: torch.Tensor  # (L, M)
    pair_glue: torch.Tensor  # (L, M)
    pair_mask: torch.Tensor  # (L, M)
    num_tors: torch.Tensor  # (L,)
    init_origin: torch.Tensor  # (L, 3)
    max_depth: int
    has_glue: bool = False  # some ligand is a Meeko macrocycle (glue pairs to evaluate)

    @classmethod
    def build(
        cls,
        tops: list[LigandTopology],
        device: torch.device | str = "cpu",
        dtype: torch.dtype = torch.float32,
        *,
        atoms: int = 0,
        torsions: int = 0,
        pairs: int = 0,
    ) -> LigandBatch:
        """Pad ``tops`` to at least ``atoms``, ``torsions`` and ``pairs`` (a bucket's sizes)."""
        n = len(tops)
        a_max = max(atoms, max(t.n_atoms for t in tops))
        t_max = max(1, torsions, max(len(t.pdbqt.parent) for t in tops) - 1)
        b_max = t_max + 1
        m_max = max(1, pairs, max(len(t.pairs) for t in tops))
        local = np.zeros((n, a_max, 3))
        atom_body = np.zeros((n, a_max), dtype=np.int64)
        atom_mask = np.zeros((n, a_max), dtype=bool)
        xs = np.full((n, a_max), -1, dtype=np.int64)
        parent = np.zeros((n, b_max), dtype=np.int64)
        offset = np.zeros((n, b_max, 3))
        axis = np.zeros((n, b_max, 3))
        axis[..., 0] = 1.0
        depth = np.full((n, b_max), -1, dtype=np.int64)
        bond_atoms = np.zeros((n, b_max, 2), dtype=np.int64)
        bond_inv_len = np.zeros((n, b_max))
        tors_mask = np.zeros((n, t_max), dtype=bool)
        pair_idx = np.zeros((n, m_max, 2), dtype=np.int64)
        pair_radius = np.zeros((n, m_max))
        pair_hyd = np.zeros((n, m_max), dtype=bool)
        pair_hb = np.zeros((n, m_max), dtype=bool)
        pair_glue = np.zeros((n, m_max), dtype=bool)
        pair_mask = np.zeros((n, m_max), dtype=bool)
        num_tors = np.zeros(n)
        init_origin = np.zeros((n, 3))
        for i, t in enumerate(tops):
            lig = t.pdbqt
            nb = len(lig.parent)
            origins = np.zeros((nb, 3))
            origins[0] = t.root_origin
            for b in range(1, nb):
                a0, a1 = lig.axis[b]
                origins[b] = lig.coords[a1]
                u = lig.coords[a1] - lig.coords[a0]
                axis[i, b] = u / np.linalg.norm(u)
                bond_atoms[i, b] = (a0, a1)
                bond_inv_len[i, b] = 1.0 / np.linalg.norm(u)
                parent[i, b] = lig.parent[b]
                offset[i, b] = origins[b] - origins[lig.parent[b]]
            depth[i, :nb] = lig.depth()
            tors_mask[i, : nb - 1] = True
            na = t.n_atoms
            local[i, :na] = lig.coords - origins[lig.body_of]
            atom_body[i, :na] = lig.body_of
            atom_mask[i, :na] = True
            xs[i, :na] = t.xs
            m = len(t.pairs)
            if m:
                pair_idx[i, :m] = t.pairs
                pair_radius[i, :m] = t.pair_radius
                pair_hyd[i, :m] = t.pair_hydrophobic
                pair_hb[i, :m] = t.pair_hbond
                pair_glue[i, :m] = t.pair_glue
                pair_mask[i, :m] = True
            num_tors[i] = t.num_tors
            init_origin[i] = t.root_origin

        def f(x: np.ndarray) -> torch.Tensor:
            return torch.as_tensor(x, dtype=dtype, device=device)

        def li(x: np.ndarray) -> torch.Tensor:
            return torch.as_tensor(x, device=device)

        return cls(
            tops=tops, local=f(local), atom_body=li(atom_body), atom_mask=li(atom_mask), xs=li(xs),
            body_parent=li(parent), body_offset=f(offset), body_axis=f(axis), body_depth=li(depth),
            bond_atoms=li(bond_atoms), bond_inv_len=f(bond_inv_len),
            tors_mask=li(tors_mask), pairs=li(pair_idx), pair_radius=f(pair_radius), pair_hyd=li(pair_hyd),
            pair_hb=li(pair_hb), pair_glue=li(pair_glue), pair_mask=li(pair_mask), num_tors=f(num_tors),
            init_origin=f(init_origin),
            max_depth=max(1, int(depth.max())), has_glue=bool(pair_glue.any()),
        )  # fmt: skip

    @property
    def n_torsions_max(self) -> int:
        """Torsion slots per ligand after padding."""
        return int(self.tors_mask.shape[1])

    def types(self) -> set[int]:
        """XS atom types present in the batch (the grid maps it needs)."""
        return {int(v) for v in torch.unique(self.xs).tolist() if v >= 0}
