"""Ligand topology for scoring: XS types, intramolecular pairs and Vina's rotor count.

Follows Vina's model: atoms in one rigid node (a body plus the first atoms of its child
branches), and a branch's two axis atoms with every atom of the branch keep their
distances ("fixed"); all other pairs are "variable".  Bonds are
only looked for among fixed pairs.  Intramolecular pairs are variable pairs of typed
(heavy) atoms more than three bonds apart.  The rotor count N_rot used by the torsional
normalisation adds, for every rotatable bond, 0.5 per side whose atom is heavy and whose
partner has more than one heavy neighbour (so an O-H or a methyl rotor counts 0.5).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from .atomtypes import ACCEPTOR, DONOR, HYDROPHOBIC, XS_RADII, bonds_from_distance, glue_index, xs_types
from .pdbqt import LigandPDBQT

__all__ = ["LigandTopology", "build_topology"]


@dataclass
class LigandTopology:
    """Everything the scorer needs about one ligand (numpy, device-free)."""

    pdbqt: LigandPDBQT
    xs: np.ndarray  # (N,) XS type or -1
    bonds: list[tuple[int, int]]
    pairs: np.ndarray  # (M, 2) intramolecular pairs
    pair_radius: np.ndarray  # (M,)
    pair_hydrophobic: np.ndarray  # (M,) bool
    pair_hbond: np.ndarray  # (M,) bool
    pair_glue: np.ndarray  # (M,) bool: a macrocycle closure dummy Gk and closure carbon CGk
    num_tors: float
    root_origin: np.ndarray  # (3,)

    @property
    def n_atoms(self) -> int:
        """Atoms of the ligand, hydrogens included."""
        return self.pdbqt.n_atoms

    @property
    def n_heavy(self) -> int:
        """Atoms with an XS type (heavy atoms)."""
        return int((self.xs >= 0).sum())

    @property
    def n_torsions(self) -> int:
        """Rotatable bonds of the torsion tree."""
        return self.pdbqt.n_torsions


def _fixed_matrix(lig: LigandPDBQT) -> np.ndarray:
    body = lig.body_of
    fixed = body[:, None] == body[None, :]
    for b in range(1, len(lig.parent)):
        a, c = lig.axis[b]
        members = body == b
        fixed[a, members] = True
        fixed[members, a] = True
        fixed[c, members] = True
        fixed[members, c] = True
    # Vina stores a branch's first atom in the parent's rigid node: it is fixed with the
    # parent body's atoms and with the first atoms of its sibling branches.
    for p in range(len(lig.parent)):
        firsts = [lig.axis[b][1] for b in range(1, len(lig.parent)) if lig.parent[b] == p]
        node = list(np.flatnonzero(body == p)) + firsts
        idx = np.asarray(node, dtype=np.int64)
        fixed[np.ix_(idx, idx)] = True
    return fixed


def _within_three_bonds(n: int, bonds: list[tuple[int, int]]) -> np.ndarray:
    adj: list[list[int]] = [[] for _ in range(n)]
    for a, b in bonds:
        adj[a].append(b)
        adj[b].append(a)
    close = np.zeros((n, n), dtype=bool)
    for s in range(n):
        dist = {s: 0}
        q = deque([s])
        while q:
            u = q.popleft()
            if dist[u] == 3:
                continue
            for v in adj[u]:
                if v not in dist:
                    dist[v] = dist[u] + 1
                    q.append(v)
        close[s, list(dist)] = True
    return close


def _closure_clash(n: int, bonds: list[tuple[int, int]], cg: np.ndarray) -> np.ndarray:
    """Pairs around a broken macrocycle bond (Vina's ``is_closure_clash``): atom i or one of its
    neighbours is a closure carbon CGk, and so is atom j or one of its neighbours.  In the closed
    ring these are 1-2, 1-3 and 1-4 pairs, which Vina leaves out of the intramolecular sum."""
    touch = np.zeros((n, 4), dtype=bool)  # atom touches closure k (is CGk or bonded to it)
    for c in np.flatnonzero(cg >= 0):
        touch[c, cg[c]] = True
    for a, b in bonds:
        for x, y in ((a, b), (b, a)):
            if cg[y] >= 0:
                touch[x, cg[y]] = True
    return (touch.astype(np.int64) @ touch.T.astype(np.int64)) > 0


def build_topology(lig: LigandPDBQT) -> LigandTopology:
    """Type the ligand and list its intramolecular pairs as Vina does."""
    n = lig.n_atoms
    fixed = _fixed_matrix(lig)
    bonds = bonds_from_distance(lig.coords, lig.ad_types, allowed=fixed)
    for b in range(1, len(lig.parent)):  # the rotatable bond itself is always a bond
        a, c = lig.axis[b]
        pair = (min(a, c), max(a, c))
        if pair not in bonds:
            bonds.append(pair)
    xs = xs_types(lig.ad_types, bonds)
    close = _within_three_bonds(n, bonds)
    typed = xs >= 0
    cg, g = glue_index(lig.ad_types)
    # closure carbons are never hydrophobic (C_H_CGk is not a hydrophobic type in Vina)
    dummy = g >= 0
    paired = typed | dummy
    radius = np.where(typed, XS_RADII[np.maximum(xs, 0)], 0.0)
    hyd = typed & HYDROPHOBIC[np.maximum(xs, 0)] & (cg < 0)
    don = typed & DONOR[np.maximum(xs, 0)]
    acc = typed & ACCEPTOR[np.maximum(xs, 0)]
    iu, ju = np.triu_indices(n, k=1)
    glued = ((g[iu] >= 0) & (g[iu] == cg[ju])) | ((g[ju] >= 0) & (g[ju] == cg[iu]))
    # a closure dummy pairs with its closure carbon only (Vina 1.2.7's is_unmatched_closure_dummy)
    plain = typed[iu] & typed[ju] & ~_closure_clash(n, bonds, cg)[iu, ju]
    keep = ~fixed[iu, ju] & ~close[iu, ju] & (glued | plain)
    pi, pj, glue = iu[keep], ju[keep], glued[keep]
    heavy_nb = np.zeros(n, dtype=np.int64)
    for a, b in bonds:  # a closure dummy is a heavy atom to Vina
        heavy_nb[a] += int(paired[b])
        heavy_nb[b] += int(paired[a])
    num_tors = 0.0
    for b in range(1, len(lig.parent)):
        a, c = lig.axis[b]
        for x, y in ((a, c), (c, a)):
            if typed[x] and typed[y] and heavy_nb[y] > 1:
                num_tors += 0.5
    root = lig.body_of == 0
    return LigandTopology(
        pdbqt=lig,
        xs=xs,
        bonds=sorted(bonds),
        pairs=np.stack([pi, pj], axis=1).astype(np.int64),
        # Vina's optimal distance is 0 for any pair with a closure dummy
        pair_radius=np.where(dummy[pi] | dummy[pj], 0.0, radius[pi] + radius[pj]),
        pair_hydrophobic=hyd[pi] & hyd[pj],
        pair_hbond=(don[pi] & acc[pj]) | (acc[pi] & don[pj]),
        pair_glue=glue,
        num_tors=num_tors,
        root_origin=lig.coords[root].mean(axis=0),
    )
