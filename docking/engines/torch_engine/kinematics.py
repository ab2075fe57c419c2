"""Per-pose constants of a batch, the pose -> coordinates map, and its analytic adjoint.

A *pose* is a root position ``pos`` (P, 3), an orientation quaternion ``quat`` (P, 4) and
torsion angles ``tors`` (P, T).  :func:`forward` gives the atom coordinates (P, A, 3)
together with every body's world rotation and origin; :func:`backward` turns per-atom
energy gradients (forces with the opposite sign) into the gradient with respect to the
pose's change vector ``(dpos, rotation vector, dtorsions)``, as Vina's ``model::eval_deriv``
does: the position derivative is the sum of the atom gradients, the orientation derivative
the torque about the root origin, and each torsion's derivative the torque of its subtree
projected on the (world-frame) rotatable bond.  Subtree sums are one batched product with a
constant (P, B, A) membership matrix (atom a moves with body b's torsion), built once per batch:
no scatter and no loop over tree levels in the search.  (The earlier level-by-level
``scatter_add`` from the leaves was computed right eagerly but wrongly by the inductor compiler
for buckets of 6 or more tree levels -- tests/docking/test_torch_search.py compares the two.)

Every tensor has a fixed shape for the whole search (padded to the batch's bucket), so one
compiled graph serves every Monte Carlo step and every batch of the same bucket.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from .batch import LigandBatch, axis_angle_matrix, mat3_mul, quat_to_matrix
from .modes import bfgs_iterations
from .ordered import ordered_dot

__all__ = ["PoseConsts", "backward", "forward", "pose_consts"]


class PoseConsts(NamedTuple):
    """Everything the energy of a pose needs that does not change during a search."""

    local: torch.Tensor  # (P, A, 3) atom coordinates in their body's frame
    atom_body: torch.Tensor  # (P, A) long
    atom_body3: torch.Tensor  # (P, A, 3) long, for scatter/gather
    slot_base: torch.Tensor  # (P, A) long: first index of the atom type's map in the flat maps
    typed: torch.Tensor  # (P, A) float 1/0: atom has an XS type (heavy) and energy
    parent3: torch.Tensor  # (P, B, 3) long: parent body of each body
    parent33: torch.Tensor  # (P, B, 3, 3) long
    offset: torch.Tensor  # (P, B, 3) body origin relative to its parent's, parent's input frame
    axis: torch.Tensor  # (P, B, 3) unit rotatable-bond axis in the parent's input frame
    level_mask: torch.Tensor  # (D, P, B, 1) float: body sits at tree level d + 1
    subtree: torch.Tensor  # (P, B, A) float 1/0: atom a is in body b's subtree (moves with its torsion)
    tors_mask: torch.Tensor  # (P, T) float 1/0
    dim_mask: torch.Tensor  # (P, 6 + T) float 1/0
    pair_i3: torch.Tensor  # (P, M, 3) long
    pair_j3: torch.Tensor  # (P, M, 3) long
    pair_radius: torch.Tensor  # (P, M)
    pair_hyd: torch.Tensor  # (P, M) float 1/0
    pair_hb: torch.Tensor  # (P, M) float 1/0
    pair_glue: torch.Tensor  # (P, M) float 1/0: macrocycle closure pair (Vina's glue term)
    ring_tors: torch.Tensor  # (P, T) float 1/0: torsion inside a broken macrocycle ring
    pair_mask: torch.Tensor  # (P, M) float 1/0
    heavy: torch.Tensor  # (P, A) float 1/0 (same as typed; kept for RMSD)
    real: torch.Tensor  # (P, A) float 1/0: a real atom, not padding (hydrogens too)
    n_heavy: torch.Tensor  # (P,) float
    gyration: torch.Tensor  # (P,) radius of gyration of the heavy atoms (Å)
    n_entities: torch.Tensor  # (P,) float: 2 + torsions (Vina's mutable entities)
    iter_cap: torch.Tensor  # (P,) float: BFGS iterations per local optimisation
    lig: torch.Tensor  # (P,) long: the pose's ligand in the batch
    x0: torch.Tensor  # (P, A, 3) input coordinates relative to the root origin
    origin0: torch.Tensor  # (P, B, 3) body origins (on the body's rotatable bond), same frame
    bond_atoms: torch.Tensor  # (P, B, 2) long: the rotatable bond's atoms (parent side, body side)
    bond_inv_len: torch.Tensor  # (P, B) 1 / bond length (0 for the root and padding bodies)
    # chain-major search batches that sum pair forces per atom by gathering (:func:`pair_gather`):
    # per *ligand* (L, A, K) the pairs of each atom (index M: none) and the force's sign; (0,)
    # when pair forces are scattered
    pair_gather: torch.Tensor
    pair_sign: torch.Tensor
    # a Python constant per batch, so batches without macrocycles evaluate no glue at all (a
    # compiled graph is specialised on it)
    has_glue: bool = False
    # poses are ligand-major, this many chains per ligand (a search batch); 0: any layout.  The
    # search then evaluates with the chain as the innermost dimension (chainmajor.py)
    chains: int = 0


def pose_consts(
    batch: LigandBatch,
    lig: torch.Tensor,
    slot_of_type: dict[int, int],
    n_points: int,
    *,
    depth: int | None = None,
    chains: int = 0,
    gather_pairs: bool | None = None,
) -> PoseConsts:
    """Constants of poses of ligands ``lig`` (P,); ``n_points`` is the size of one map and
    ``depth`` pads the tree depth (a bucket's depth, so compiled graphs are shared).  ``chains``
    > 1 says that ``lig`` is ``arange(L).repeat_interleave(chains)`` (a search batch's layout);
    such a batch then sums pair forces per atom by gathering instead of scattering where
    ``gather_pairs`` says so (default: on CUDA, see :func:`pair_gather`)."""
    dev = batch.local.device
    dtype = batch.local.dtype
    lut = torch.zeros(64, dtype=torch.long, device=dev)
    for t, s in slot_of_type.items():
        lut[t] = s * n_points
    xs = batch.xs[lig]
    typed_b = xs >= 0
    typed = typed_b.to(dtype)
    slot_base = torch.where(typed_b, lut[xs.clamp(min=0)], torch.zeros_like(xs))
    p, a = xs.shape
    b = batch.body_parent.shape[1]
    parent = batch.body_parent[lig]
    depth_t = batch.body_depth[lig]
    d_max = max(1, depth if depth is not None else batch.max_depth)
    levels = torch.arange(1, d_max + 1, device=dev)
    level_mask = (depth_t[None] == levels[:, None, None]).to(dtype)[..., None]
    local = batch.local[lig]
    tors_mask = batch.tors_mask[lig].to(dtype)
    head = torch.ones((p, 6), dtype=dtype, device=dev)
    pairs = batch.pairs[lig]
    m = pairs.shape[1]
    # ancestor-or-self of each body (parents of the root and of padding bodies are the root)
    anc = torch.eye(b, dtype=dtype, device=dev).expand(p, b, b).clone()  # anc[p, body, ancestor]
    up = torch.arange(b, device=dev).expand(p, b)
    for _ in range(d_max):
        up = torch.gather(parent, 1, up)
        anc = anc.scatter(2, up[..., None], 1.0)
    atom_body = batch.atom_body[lig]
    subtree = torch.gather(anc.transpose(1, 2), 2, atom_body[:, None, :].expand(p, b, atom_body.shape[1]))
    subtree = subtree * batch.atom_mask[lig].to(dtype)[:, None, :]
    # a torsion inside a broken macrocycle ring moves one atom of a glue pair, not the other
    glue = batch.pair_glue[lig]
    sub_i = torch.gather(subtree, 2, pairs[:, None, :, 0].expand(p, b, m))
    sub_j = torch.gather(subtree, 2, pairs[:, None, :, 1].expand(p, b, m))
    ring = ((sub_i != sub_j) & glue[:, None, :]).any(-1).to(dtype)[:, 1:]
    ring_tors = torch.zeros_like(tors_mask)
    ring_tors[:, : min(ring.shape[1], ring_tors.shape[1])] = ring[:, : ring_tors.shape[1]]
    # radius of gyration of the heavy atoms about the root origin in the input conformation
    pre = PoseConsts(
        local=local, atom_body=atom_body, atom_body3=atom_body[..., None].expand(p, a, 3),
        slot_base=slot_base, typed=typed, parent3=parent[..., None].expand(p, b, 3),
        parent33=parent[..., None, None].expand(p, b, 3, 3), offset=batch.body_offset[lig],
        axis=batch.body_axis[lig], level_mask=level_mask, subtree=subtree, tors_mask=tors_mask,
        dim_mask=torch.cat([head, tors_mask], 1), pair_i3=pairs[..., 0:1].expand(p, m, 3),
        pair_j3=pairs[..., 1:2].expand(p, m, 3), pair_radius=batch.pair_radius[lig],
        pair_hyd=batch.pair_hyd[lig].to(dtype), pair_hb=batch.pair_hb[lig].to(dtype),
        pair_glue=glue.to(dtype), ring_tors=ring_tors * tors_mask,
        pair_mask=batch.pair_mask[lig].to(dtype), heavy=typed, real=batch.atom_mask[lig].to(dtype),
        n_heavy=typed.sum(-1).clamp(min=1.0),
        gyration=torch.zeros(p, dtype=dtype, device=dev), n_entities=2 + tors_mask.sum(-1),
        iter_cap=torch.zeros(p, dtype=dtype, device=dev), lig=lig,
        # x0 and origin0 are placeholders of the right shapes: forward() at the zero pose fills them below
        x0=local, origin0=batch.body_offset[lig], bond_atoms=batch.bond_atoms[lig],
        bond_inv_len=batch.bond_inv_len[lig], pair_gather=torch.zeros(0, dtype=torch.long, device=dev),
        pair_sign=torch.zeros(0, dtype=dtype, device=dev), has_glue=batch.has_glue,
        chains=chains if chains > 1 else 0,
    )  # fmt: skip
    x, _r, origin0 = forward(pre, torch.zeros((p, 3), dtype=dtype, device=dev), _identity_quat(p, dtype, dev),
                             torch.zeros_like(tors_mask))
    gyr = torch.sqrt(ordered_dot((x * x).sum(-1), typed) / pre.n_heavy)
    movable = batch.atom_mask[lig].to(dtype).sum(-1)
    iter_cap = bfgs_iterations(movable)
    out = pre._replace(gyration=gyr, iter_cap=iter_cap, x0=x, origin0=origin0)
    if pre.chains and (dev.type == "cuda" if gather_pairs is None else gather_pairs):
        index, sign = pair_gather(batch.pairs, batch.pair_mask, a)
        out = out._replace(pair_gather=index, pair_sign=sign.to(dtype))
    return out


def pair_gather(pairs: torch.Tensor, mask: torch.Tensor, atoms: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Per ligand, each atom's pairs as a table (L, A, K = A): pair index (M where the slot is
    empty) and +1 where the atom is the pair's first, -1 where its second, 0 for an empty slot.

    A search batch then sums pair forces per atom as a gather and a sum along K, with no
    ``scatter_add``: on CUDA, inductor's Triton code for the scatter (atomic adds) gave the
    compiled tick a wrong gradient while its energy was right (measured on an H200 against
    the eager tick, docs/benchmarks.md "GPU"), and atomic float sums are not reproducible.
    An atom has at most A - 1 pairs, so K = A (the bucket's atoms) fits every ligand and
    keeps the compiled shape a function of the bucket."""
    n_lig, m = mask.shape
    dev = pairs.device
    atom = torch.cat([pairs[..., 0], pairs[..., 1]], 1)  # (L, 2M)
    valid = torch.cat([mask, mask], 1).bool()
    atom = torch.where(valid, atom, torch.full_like(atom, atoms))  # empty entries sort last
    which = torch.arange(m, device=dev).repeat(2).expand(n_lig, 2 * m)
    sign = torch.cat([torch.ones(m, device=dev), -torch.ones(m, device=dev)]).expand(n_lig, 2 * m)
    order = torch.argsort(atom, dim=1, stable=True)
    atom_s = torch.gather(atom, 1, order)
    counts = torch.zeros((n_lig, atoms + 1), dtype=torch.long, device=dev).scatter_add(
        1, atom_s, torch.ones_like(atom_s))
    first = torch.cumsum(counts, 1) - counts  # (L, A + 1): first sorted entry of each atom
    rank = torch.arange(2 * m, device=dev).expand(n_lig, 2 * m) - torch.gather(first, 1, atom_s)
    keep = atom_s < atoms
    rows = torch.arange(n_lig, device=dev)[:, None].expand(n_lig, 2 * m)
    index = torch.full((n_lig, atoms, atoms), m, dtype=torch.long, device=dev)
    signs = torch.zeros((n_lig, atoms, atoms), device=dev)
    index[rows[keep], atom_s[keep], rank[keep]] = torch.gather(which, 1, order)[keep]
    signs[rows[keep], atom_s[keep], rank[keep]] = torch.gather(sign, 1, order)[keep]
    return index, signs


def _identity_quat(p: int, dtype: torch.dtype, dev: torch.device) -> torch.Tensor:
    q = torch.zeros((p, 4), dtype=dtype, device=dev)
    q[:, 0] = 1.0
    return q


def cross(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Cross product along the last axis (cheaper than ``torch.cross`` on small vectors)."""
    a0, a1, a2 = a.unbind(-1)
    b0, b1, b2 = b.unbind(-1)
    return torch.stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], -1)


def _rotate(r: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """r (..., 3, 3) applied to v (..., 3), elementwise (no batched tiny matmuls)."""
    return (r * v[..., None, :]).sum(-1)


def forward(
    c: PoseConsts, pos: torch.Tensor, quat: torch.Tensor, tors: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Atom coordinates (P, A, 3), body rotations (P, B, 3, 3) and body origins (P, B, 3)."""
    p, b = c.parent3.shape[:2]
    rot = quat_to_matrix(quat)
    t = tors * c.tors_mask
    rt = axis_angle_matrix(c.axis[:, 1:], t[:, : b - 1])
    eye = torch.eye(3, dtype=rot.dtype, device=rot.device).expand(p, 1, 3, 3)
    rt = torch.cat([eye, rt], 1)
    r_b = rot[:, None].expand(p, b, 3, 3)
    o_b = pos[:, None].expand(p, b, 3)
    for level in range(c.level_mask.shape[0]):
        m = c.level_mask[level]
        rp = torch.gather(r_b, 1, c.parent33)
        op = torch.gather(o_b, 1, c.parent3)
        r_b = r_b + m[..., None] * (mat3_mul(rp, rt) - r_b)
        o_b = o_b + m * (op + _rotate(rp, c.offset) - o_b)
    a = c.local.shape[1]
    ra = torch.gather(r_b, 1, c.atom_body[..., None, None].expand(p, a, 3, 3))
    oa = torch.gather(o_b, 1, c.atom_body3)
    x = oa + _rotate(ra, c.local)
    return x, r_b, o_b


def backward(
    c: PoseConsts, x: torch.Tensor, r_b: torch.Tensor, o_b: torch.Tensor, pos: torch.Tensor, g: torch.Tensor
) -> torch.Tensor:
    """Gradient (P, 6 + T) w.r.t. (dpos, rotation vector about the root origin, dtorsions)
    of an energy whose per-atom coordinate gradients are ``g`` (P, A, 3)."""
    rel = x - pos[:, None]  # about the root origin: small lever arms keep float32 exact enough
    o_rel = o_b - pos[:, None]
    force, torque = _subtree_sums(c, g, cross(rel, g))  # (P, B, 3) each
    axis_w = _rotate(r_b, c.axis)
    tors_g = (axis_w * (torque - cross(o_rel, force))).sum(-1)[:, 1:]
    return torch.cat([force[:, 0], torque[:, 0], tors_g * c.tors_mask], 1)


def _subtree_sums(c: PoseConsts, g: torch.Tensor, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Each body's subtree sums of the per-atom vectors ``g`` and ``t`` (P, A, 3)."""
    s = c.subtree @ torch.cat([g, t], -1)  # (P, B, 6)
    return s[..., :3], s[..., 3:]
