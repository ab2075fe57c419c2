"""X-Score (XS) atom typing as AutoDock Vina does it, from AD4 types and covalent bonding.

Vina (Trott & Olson 2010) types heavy atoms by element and bonding:
carbon is hydrophobic (``C_H``) unless bonded to a heteroatom (``C_P``); N and O are
acceptors when their AD4 type is ``NA``/``OA``, donors when bonded to a polar hydrogen
(``HD``), both, or neither; halogens are hydrophobic; metals are donors (``Met_D``).
Hydrogens get no XS type and take no part in scoring.  Bonds are found from distances:
two atoms are bonded when closer than 1.1 × the sum of their covalent radii.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from dockdb.errors import EngineError

__all__ = [
    "ACCEPTOR",
    "DONOR",
    "HYDROPHOBIC",
    "XS_NAMES",
    "XS_RADII",
    "bonds_from_distance",
    "covalent_radius",
    "glue_index",
    "xs_types",
]

XS_NAMES = (
    "C_H", "C_P", "N_P", "N_D", "N_A", "N_DA", "O_P", "O_D", "O_A", "O_DA",
    "S_P", "P_P", "F_H", "Cl_H", "Br_H", "I_H", "Si", "At", "Met_D",
)  # fmt: skip
XS = {name: i for i, name in enumerate(XS_NAMES)}
NO_TYPE = -1
XS_RADII = np.array(
    [1.9, 1.9, 1.8, 1.8, 1.8, 1.8, 1.7, 1.7, 1.7, 1.7, 2.0, 2.1, 1.5, 1.8, 2.0, 2.2, 2.2, 2.3, 1.2]
)
HYDROPHOBIC = np.array([n in ("C_H", "F_H", "Cl_H", "Br_H", "I_H", "Si", "At") for n in XS_NAMES])
DONOR = np.array([n in ("N_D", "N_DA", "O_D", "O_DA", "Met_D") for n in XS_NAMES])
ACCEPTOR = np.array([n in ("N_A", "N_DA", "O_A", "O_DA") for n in XS_NAMES])

# AD4 type -> (element class, covalent radius Å)
_AD: dict[str, tuple[str, float]] = {
    "C": ("C", 0.77), "A": ("C", 0.77), "N": ("N", 0.75), "NA": ("N", 0.75), "NS": ("N", 0.75),
    "O": ("O", 0.73), "OA": ("O", 0.73), "OS": ("O", 0.73), "P": ("P", 1.06), "S": ("S", 1.02),
    "SA": ("S", 1.02), "H": ("H", 0.37), "HD": ("H", 0.37), "HS": ("H", 0.37), "F": ("F", 0.71),
    "I": ("I", 1.33), "Cl": ("Cl", 0.99), "CL": ("Cl", 0.99), "Br": ("Br", 1.14), "BR": ("Br", 1.14),
    "Si": ("Si", 1.11), "At": ("At", 1.50),
    "Mg": ("Met", 1.30), "MG": ("Met", 1.30), "Mn": ("Met", 1.39), "MN": ("Met", 1.39),
    "Zn": ("Met", 1.31), "ZN": ("Met", 1.31), "Ca": ("Met", 1.74), "CA": ("Met", 1.74),
    "Fe": ("Met", 1.25), "FE": ("Met", 1.25), "Cu": ("Met", 1.32), "Co": ("Met", 1.26),
    "Ni": ("Met", 1.24), "Na": ("Met", 1.54), "K": ("Met", 1.96), "Hg": ("Met", 1.49),
    "Cd": ("Met", 1.48),
    # Meeko's flexible macrocycles: a broken ring bond's two carbons (CG0-CG3) and, bonded to
    # each, a dummy (G0-G3) where its partner was; Vina glues each G to the other CG
    "CG0": ("C", 0.77), "CG1": ("C", 0.77), "CG2": ("C", 0.77), "CG3": ("C", 0.77),
    "G0": ("G", 0.77), "G1": ("G", 0.77), "G2": ("G", 0.77), "G3": ("G", 0.77),
}  # fmt: skip
_BOND_ALLOWANCE = 1.1


def _element(ad: str) -> str:
    try:
        return _AD[ad][0]
    except KeyError:
        raise EngineError(f"AD4 atom type {ad!r} is not supported by the torch engine; re-prepare with Meeko") from None


def covalent_radius(ad: str) -> float:
    """Covalent radius (Å) of the element of AutoDock type ``ad``."""
    _element(ad)
    return _AD[ad][1]


def bonds_from_distance(
    coords: np.ndarray, ad_types: list[str], allowed: np.ndarray | None = None
) -> list[tuple[int, int]]:
    """Covalent bonds (i < j) by Vina's rule r < 1.1 (R_cov,i + R_cov,j).

    ``allowed`` (N×N bool), when given, restricts candidate pairs (Vina only bonds atoms
    whose distance the torsion tree keeps fixed, plus the rotatable bonds themselves).
    As in Vina, a candidate is not a bond when a third atom (fixed relative to both) is
    closer to each of its two atoms than they are to each other: in a three-membered
    ring the longest side is dropped, which changes the intramolecular pairs.
    """
    radii = np.array([covalent_radius(t) for t in ad_types])
    tree = cKDTree(coords)
    pairs = tree.query_pairs(r=_BOND_ALLOWANCE * 2 * float(radii.max()), output_type="ndarray")
    if len(pairs) == 0:
        return []
    i, j = pairs[:, 0], pairs[:, 1]
    r = np.linalg.norm(coords[i] - coords[j], axis=1)
    ok = r < _BOND_ALLOWANCE * (radii[i] + radii[j])
    if allowed is not None:
        ok &= allowed[i, j]
    # an atom "between" a bonded pair is closer to both than the longest candidate bond
    reach = r < float(r[ok].max()) if ok.any() else np.zeros_like(ok)
    near: dict[int, dict[int, float]] = {}
    for a, b, d in zip(i[reach].tolist(), j[reach].tolist(), r[reach].tolist(), strict=True):
        if allowed is None or allowed[a, b]:
            near.setdefault(a, {})[b] = d
            near.setdefault(b, {})[a] = d
    bonds = []
    for a, b, d in zip(i[ok].tolist(), j[ok].tolist(), r[ok].tolist(), strict=True):
        na, nb = near.get(a, {}), near.get(b, {})
        if any(na[c] < d and nb[c] < d for c in na.keys() & nb.keys()):
            continue  # an atom lies between them
        bonds.append((int(a), int(b)))
    return sorted(bonds)


def xs_types(ad_types: list[str], bonds: list[tuple[int, int]]) -> np.ndarray:
    """XS type index of every atom (``-1`` for hydrogens and untyped pseudo-atoms).  This is the
    type an atom meets the receptor with: a closure carbon (CG) scores as C_H/C_P, a closure
    dummy (G) not at all (:func:`glue_index` gives their intramolecular roles)."""
    n = len(ad_types)
    elem = [_element(t) for t in ad_types]
    hetero_nb = np.zeros(n, dtype=bool)
    hd_nb = np.zeros(n, dtype=bool)
    for a, b in bonds:
        for x, y in ((a, b), (b, a)):
            # Vina's ad_is_heteroatom: anything but C, A and hydrogens, so a closure carbon (CG)
            # or dummy (G) neighbour makes a carbon polar too
            if elem[y] not in ("C", "H") or ad_types[y].startswith("CG"):
                hetero_nb[x] = True
            if ad_types[y] == "HD":
                hd_nb[x] = True
    out = np.full(n, NO_TYPE, dtype=np.int64)
    for i, (t, e) in enumerate(zip(ad_types, elem, strict=True)):
        acceptor = t in ("NA", "OA")
        if e == "C":
            out[i] = XS["C_P"] if hetero_nb[i] else XS["C_H"]
        elif e in ("N", "O"):
            suffix = "DA" if acceptor and hd_nb[i] else "A" if acceptor else "D" if hd_nb[i] else "P"
            out[i] = XS[f"{e}_{suffix}"]
        elif e == "S":
            out[i] = XS["S_P"]
        elif e == "P":
            out[i] = XS["P_P"]
        elif e in ("F", "Cl", "Br", "I"):
            out[i] = XS[f"{e}_H"]
        elif e in ("Si", "At"):
            out[i] = XS[e]
        elif e == "Met":
            out[i] = XS["Met_D"]
    return out


def glue_index(ad_types: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Per atom, the closure index k of a Meeko macrocycle closure carbon ``CGk`` and dummy
    ``Gk`` (-1 elsewhere): (carbon index, dummy index)."""
    cg = np.array([int(t[2]) if t[:2] == "CG" and t[2:].isdigit() else -1 for t in ad_types], dtype=np.int64)
    g = np.array([int(t[1]) if t[:1] == "G" and t[1:].isdigit() else -1 for t in ad_types], dtype=np.int64)
    return cg, g
