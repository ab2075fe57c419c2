"""Ring inversion of a Meeko macrocycle: the torsion values that turn its ring into its mirror image.

Meeko opens one bond of every flexible ring of 7 or more atoms, and the ring's other bonds become
torsions of the tree.  A ring's conformation is then fixed by those torsions, and its mirror image
(the other pucker of a benzodiazepine's 7-ring, say) has every endocyclic dihedral negated while
bond lengths and angles stay: a closed ring stays closed.  In a chiral pocket the two puckers bind
differently, and the prepared ligand holds only the one RDKit embedded.  Setting every ring torsion
``t`` to ``flip - t`` (with ``flip`` from :func:`ring_flip_angles`) inverts the ring from wherever it
is, since a torsion value ``t`` changes its dihedral to ``phi + t`` (``phi`` as prepared).
Dihedrals about the ring's non-rotatable bonds (fused aromatic, amide, double) are kept, and they
are only near 0 or 180 degrees (a tricyclic's fused bonds are 5-10 degrees off in an MMFF
geometry), which opens the mirrored ring by up to about 1 Å; so the ring torsions are then
adjusted, a few least-squares steps, until the closure dummies sit on their partner carbons again,
staying as near the mirror image as that allows.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from .atomtypes import glue_index
from .pdbqt import LigandPDBQT

__all__ = ["dihedral", "ring_flip_angles"]


def dihedral(p0: np.ndarray, p1: np.ndarray, p2: np.ndarray, p3: np.ndarray) -> float:
    """The dihedral angle p0-p1-p2-p3 in radians, in (-pi, pi]."""
    b0, b1, b2 = p0 - p1, p2 - p1, p3 - p2
    b1n = b1 / np.linalg.norm(b1)
    v = b0 - (b0 @ b1n) * b1n
    w = b2 - (b2 @ b1n) * b1n
    return float(np.arctan2(np.cross(b1n, v) @ w, v @ w))


def _rotate(p: np.ndarray, origin: np.ndarray, axis: np.ndarray, angle: float) -> np.ndarray:
    """``p`` turned by ``angle`` about the unit ``axis`` through ``origin`` (right-handed, as the
    engine's torsions)."""
    v = p - origin
    c, s = np.cos(angle), np.sin(angle)
    return origin + v * c + np.cross(axis, v) * s + np.multiply.outer(v @ axis, axis) * (1 - c)


def _ring_path(adj: list[set[int]], a: int, b: int) -> list[int] | None:
    """Shortest path from ``a`` to ``b`` that does not take the bond a-b (None: the bond is in no ring)."""
    prev = {a: a}
    q = deque([a])
    while q:
        u = q.popleft()
        for v in adj[u]:
            if v in prev or (u == a and v == b):
                continue
            prev[v] = u
            if v == b:
                path = [b]
                while path[-1] != a:
                    path.append(prev[path[-1]])
                return path[::-1]
            q.append(v)
    return None


def _turned(coords: np.ndarray, axes: list[tuple[int, int]], moved: list[np.ndarray], tors: np.ndarray) -> np.ndarray:
    """The coordinates with torsion ``t`` of body ``t + 1`` turned by ``tors[t]`` (the tree's leaves first,
    so each turn moves the turns below it rigidly; the root stays)."""
    x = coords.copy()
    for t in range(len(tors) - 1, -1, -1):
        if tors[t] != 0.0:
            a0, a1 = axes[t + 1]
            axis = (x[a1] - x[a0]) / np.linalg.norm(x[a1] - x[a0])
            x[moved[t]] = _rotate(x[moved[t]], x[a1], axis, float(tors[t]))
    return x


def _close(lig: LigandPDBQT, moved: list[np.ndarray], glue: list[tuple[int, int]], start: np.ndarray,
           ring: np.ndarray, iters: int = 30, stay: float = 0.1) -> np.ndarray:
    """Ring torsions near ``start`` that put every closure dummy back on its partner carbon
    (Gauss-Newton with finite differences on the dummy-partner offsets, plus ``stay`` x the change
    from ``start``, so that the ring stays as near the mirror image as closure allows)."""
    idx = np.flatnonzero(ring)
    t = start.copy()

    def resid(v: np.ndarray) -> np.ndarray:
        x = _turned(lig.coords, lig.axis, moved, v)
        gaps = np.concatenate([x[d] - x[c] for d, c in glue])
        return np.concatenate([gaps, stay * (v[idx] - start[idx])])

    r = resid(t)
    for _ in range(iters):
        jac = np.empty((len(r), len(idx)))
        for k, j in enumerate(idx):
            dt = np.zeros_like(t)
            dt[j] = 1e-5
            jac[:, k] = (resid(t + dt) - resid(t - dt)) / 2e-5
        step = np.linalg.lstsq(jac, -r, rcond=None)[0]
        trial = t.copy()
        trial[idx] += step
        r_new = resid(trial)
        if r_new @ r_new >= r @ r:
            break
        t, r = trial, r_new
        if np.abs(step).max() < 1e-6:
            break
    return t


def ring_flip_angles(lig: LigandPDBQT, bonds: list[tuple[int, int]]) -> np.ndarray:
    """Per torsion of the tree, the value ``flip`` such that ``flip - t`` inverts the torsion's ring
    dihedral from ``t`` (0 for a torsion in no broken ring).  ``bonds``: the ligand's bonds within its
    rigid nodes and along its rotatable bonds (a broken ring's closure bond is added here from the
    closure carbons ``CGk``; dummies ``Gk`` are left out of the ring)."""
    n_t = len(lig.parent) - 1
    out = np.zeros(n_t)
    cg, g = glue_index(lig.ad_types)
    if not (cg >= 0).any():
        return out
    n = lig.n_atoms
    adj: list[set[int]] = [set() for _ in range(n)]
    nbrs: list[set[int]] = [set() for _ in range(n)]
    for a, b in bonds:
        nbrs[a].add(b)
        nbrs[b].add(a)
        if g[a] < 0 and g[b] < 0:
            adj[a].add(b)
            adj[b].add(a)
    for k in set(cg[cg >= 0].tolist()):
        ends = np.flatnonzero(cg == k)
        if len(ends) == 2:
            a, b = (int(v) for v in ends)
            adj[a].add(b)
            adj[b].add(a)
    # bodies below each body (itself included): the atoms a torsion moves
    below = [{b} for b in range(len(lig.parent))]
    for b in range(len(lig.parent) - 1, 0, -1):
        below[lig.parent[b]] |= below[b]
    xyz = lig.coords
    moved = [np.flatnonzero(np.isin(lig.body_of, list(below[b]))) for b in range(1, len(lig.parent))]
    for t in range(n_t):
        body = t + 1
        a0, a1 = lig.axis[body]
        path = _ring_path(adj, a0, a1)
        if path is None:
            continue
        moving = np.isin(lig.body_of, list(below[body]))
        n0, n1 = path[1], path[-2]
        # across the broken bond the ring neighbour sits on the other side of the torsion; the
        # dummy on the near side stands where it is in the prepared (closed) ring
        if moving[n0]:
            n0 = next((d for d in nbrs[a0] if g[d] >= 0 and g[d] == cg[a0] and not moving[d]), -1)
        if not moving[n1]:
            n1 = next((d for d in nbrs[a1] if g[d] >= 0 and g[d] == cg[a1] and moving[d]), -1)
        if n0 < 0 or n1 < 0:
            continue
        # n1 turns with the torsion (right-handed about a0 -> a1), which adds the torsion's value
        # to this dihedral: -2 phi takes it to -phi
        out[t] = -2.0 * dihedral(xyz[n0], xyz[a0], xyz[a1], xyz[n1])
    ring = out != 0
    if not ring.any():
        return out
    # each closure dummy and the partner carbon it stands in for (the closure carbon of its index
    # that it is not bonded to)
    glue = [(int(d), int(c)) for d in np.flatnonzero(g >= 0) for c in np.flatnonzero(cg == g[d]) if c not in nbrs[d]]
    return _close(lig, moved, glue, out, ring)
