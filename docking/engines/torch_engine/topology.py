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

from .atomtypes import ACCEPTOR, DONOR, HYDROPHOBIC, XS_RADII, bonds_from_distance, xs_types
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
    iu, ju = np.triu_indices(n, k=1)
    keep = typed[iu] & typed[ju] & ~fixed[iu, ju] & ~close[iu, ju]
    pi, pj = iu[keep], ju[keep]
    ti, tj = xs[pi], xs[pj]
    heavy_nb = np.zeros(n, dtype=np.int64)
    for a, b in bonds:
        heavy_nb[a] += int(typed[b])
        heavy_nb[b] += int(typed[a])
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
        pair_radius=XS_RADII[ti] + XS_RADII[tj],
        pair_hydrophobic=HYDROPHOBIC[ti] & HYDROPHOBIC[tj],
        pair_hbond=(DONOR[ti] & ACCEPTOR[tj]) | (ACCEPTOR[ti] & DONOR[tj]),
        num_tors=num_tors,
        root_origin=lig.coords[root].mean(axis=0),
    )
