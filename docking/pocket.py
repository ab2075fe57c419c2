"""Docking boxes: build them from a co-crystal ligand, pocket residues, the whole protein
or a Vina ``.conf`` file, and refuse boxes that cannot give a meaningful docking run."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from dockdb.errors import PocketError

__all__ = [
    "MAX_SIDE",
    "Box",
    "blind_box",
    "box_from_coords",
    "box_from_ligand",
    "box_from_residues",
    "parse_vina_conf",
    "pdb_atoms",
    "validate_box",
]

MAX_SIDE = 30.0
"""Largest box side (Å) accepted without ``allow_large``; Vina's search degrades beyond it."""

_WATERS = frozenset({"HOH", "WAT", "DOD", "H2O", "TIP", "TIP3", "SOL"})

Vec3 = tuple[float, float, float]


@dataclass(frozen=True)
class Box:
    """A rectangular search box: centre and edge lengths in Å."""

    center: Vec3
    size: Vec3

    def __post_init__(self) -> None:
        if len(self.center) != 3 or len(self.size) != 3:
            raise PocketError("a box needs 3 centre and 3 size values; give x,y,z for both")
        values = [float(v) for v in (*self.center, *self.size)]
        if not all(math.isfinite(v) for v in values):
            raise PocketError("box centre/size contain a non-finite number; give finite values")
        if min(self.size) <= 0:
            raise PocketError(f"box size {self.size} has a non-positive side; every side must be > 0 Å")
        object.__setattr__(self, "center", tuple(float(v) for v in self.center))
        object.__setattr__(self, "size", tuple(float(v) for v in self.size))

    @property
    def volume(self) -> float:
        """Box volume in Å³."""
        return self.size[0] * self.size[1] * self.size[2]

    def contains(self, xyz: np.ndarray, margin: float = 0.0) -> np.ndarray:
        """Boolean mask of points (N×3) inside the box grown by ``margin`` Å on each face."""
        pts = np.atleast_2d(np.asarray(xyz, dtype=float))
        half = np.asarray(self.size) / 2.0 + margin
        return np.all(np.abs(pts - np.asarray(self.center)) <= half, axis=1)

    def to_vina_conf(self) -> str:
        """The box as Vina ``.conf`` lines."""
        cx, cy, cz = self.center
        sx, sy, sz = self.size
        return (
            f"center_x = {cx:.3f}\ncenter_y = {cy:.3f}\ncenter_z = {cz:.3f}\n"
            f"size_x = {sx:.3f}\nsize_y = {sy:.3f}\nsize_z = {sz:.3f}\n"
        )


@dataclass(frozen=True)
class PdbAtom:
    """One ATOM/HETATM record reduced to what box building needs."""

    record: str
    name: str
    resname: str
    chain: str
    resnum: int
    element: str
    xyz: Vec3


def pdb_atoms(pdb_text: str) -> list[PdbAtom]:
    """Parse ATOM/HETATM records; raise PocketError if there are none or one is malformed."""
    atoms: list[PdbAtom] = []
    for lineno, line in enumerate(pdb_text.splitlines(), 1):
        rec = line[:6].strip()
        if rec not in ("ATOM", "HETATM"):
            continue
        try:
            xyz = (float(line[30:38]), float(line[38:46]), float(line[46:54]))
            resnum = int(line[22:26])
        except ValueError as exc:
            raise PocketError(
                f"PDB line {lineno} has unreadable coordinates or residue number; fix the PDB file"
            ) from exc
        element = line[76:78].strip() if len(line) >= 78 else ""
        if not element:
            element = re.sub(r"[^A-Za-z]", "", line[12:16])[:1]
        atoms.append(PdbAtom(rec, line[12:16].strip(), line[17:20].strip(), line[21].strip(),
                             resnum, element.upper(), xyz))
    if not atoms:
        raise PocketError("the structure has no ATOM/HETATM records; pass PDB text of the receptor")
    return atoms


def box_from_coords(xyz: np.ndarray, padding: float, min_size: float = 1.0) -> Box:
    """Axis-aligned box around points, ``padding`` Å added on each side, sides >= ``min_size``."""
    pts = np.asarray(xyz, dtype=float)
    if pts.ndim != 2 or len(pts) == 0:
        raise PocketError("no atoms to build a box around; check the ligand/residue selection")
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    center = (lo + hi) / 2.0
    size = np.maximum(hi - lo + 2.0 * padding, min_size)
    return Box(tuple(center.round(3)), tuple(size.round(3)))


def box_from_ligand(
    pdb_text: str, resname: str | None = None, chain: str | None = None, padding: float = 8.0
) -> Box:
    """Box around a co-crystal ligand (HETATM, not water); read it before the ligand is stripped.

    With ``resname=None`` the single non-water hetero group is used; ambiguity is an error.
    """
    atoms = [a for a in pdb_atoms(pdb_text) if a.resname not in _WATERS and a.element != "H"]
    if resname is not None:
        sel = [a for a in atoms if a.resname == resname.upper()]
    else:
        sel = [a for a in atoms if a.record == "HETATM"]
    if chain is not None:
        sel = [a for a in sel if a.chain == chain]
    if not sel:
        what = f"resname {resname!r}" if resname else "a hetero group"
        raise PocketError(f"no ligand atoms found for {what}; pass resname=/chain= of the co-crystal ligand")
    groups = {(a.chain, a.resname, a.resnum) for a in sel}
    if resname is None and len({(g[1]) for g in groups}) > 1:
        names = ", ".join(sorted({g[1] for g in groups}))
        raise PocketError(f"several hetero groups ({names}); pass resname= to choose the ligand")
    return box_from_coords(np.array([a.xyz for a in sel]), padding)


def _parse_residue(spec: str | tuple[str, int]) -> tuple[str, int]:
    if isinstance(spec, tuple):
        return str(spec[0]), int(spec[1])
    m = re.fullmatch(r"\s*([A-Za-z0-9]?)\s*:?\s*(-?\d+)\s*", str(spec))
    if not m:
        raise PocketError(f"cannot read residue {spec!r}; write residues as 'A:145' or ('A', 145)")
    return m.group(1), int(m.group(2))


def box_from_residues(
    pdb_text: str, residues: Sequence[str | tuple[str, int]], padding: float = 8.0
) -> Box:
    """Box around the atoms of the given residues (``'A:145'`` or ``('A', 145)``)."""
    if not residues:
        raise PocketError("no pocket residues given; pass at least one residue like 'A:145'")
    wanted = [_parse_residue(r) for r in residues]
    atoms = [a for a in pdb_atoms(pdb_text) if a.element != "H" and a.resname not in _WATERS]
    sel = []
    for chain, num in wanted:
        hit = [a for a in atoms if a.resnum == num and (not chain or a.chain == chain)]
        if not hit:
            raise PocketError(f"residue {chain}:{num} is not in the structure; check chain and numbering")
        sel.extend(hit)
    return box_from_coords(np.array([a.xyz for a in sel]), padding)


def blind_box(pdb_text: str, padding: float = 5.0) -> Box:
    """Whole-protein box (DockCoV2 style): every non-water heavy atom plus ``padding``."""
    atoms = [a for a in pdb_atoms(pdb_text) if a.element != "H" and a.resname not in _WATERS]
    return box_from_coords(np.array([a.xyz for a in atoms]), padding)


def parse_vina_conf(text: str) -> Box:
    """Read ``center_x`` … ``size_z`` from Vina ``.conf`` text into a Box."""
    values: dict[str, float] = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if "=" not in line:
            continue
        key, _, val = line.partition("=")
        key = key.strip().lower()
        if key in {"center_x", "center_y", "center_z", "size_x", "size_y", "size_z"}:
            try:
                values[key] = float(val.strip())
            except ValueError as exc:
                raise PocketError(f"Vina conf value for {key} is not a number: {val.strip()!r}") from exc
    missing = [k for k in ("center_x", "center_y", "center_z", "size_x", "size_y", "size_z")
               if k not in values]
    if missing:
        raise PocketError(f"Vina conf lacks {', '.join(missing)}; give all of center_x..z and size_x..z")
    return Box((values["center_x"], values["center_y"], values["center_z"]),
               (values["size_x"], values["size_y"], values["size_z"]))


def _protein_xyz(pdb_text: str) -> np.ndarray:
    atoms = [a for a in pdb_atoms(pdb_text) if a.resname not in _WATERS and a.element != "H"]
    return np.array([a.xyz for a in atoms], dtype=float)


def validate_box(
    box: Box,
    receptor_pdb_text: str,
    allow_large: bool = False,
    min_atoms: int = 10,
    margin: float = 4.0,
) -> Box:
    """Return ``box`` if usable; raise PocketError with the fix otherwise.

    Refused: any side > :data:`MAX_SIDE` Å (unless ``allow_large``), or fewer than ``min_atoms``
    receptor heavy atoms inside the box grown by ``margin`` Å (the box misses the protein).
    """
    if not allow_large and max(box.size) > MAX_SIDE:
        raise PocketError(
            f"box side {max(box.size):.1f} Å exceeds {MAX_SIDE:.0f} Å (volume {box.volume:.0f} Å³); "
            "use a focused pocket or pass allow_large=True / --allow-large-box"
        )
    xyz = _protein_xyz(receptor_pdb_text)
    inside = int(box.contains(xyz, margin=margin).sum()) if len(xyz) else 0
    if inside < min_atoms:
        raise PocketError(
            f"box at {box.center} contains {inside} receptor atoms (need {min_atoms}); "
            "the box misses the protein: check the centre and that box and receptor share one frame"
        )
    return box


def centroid(points: Iterable[Sequence[float]]) -> Vec3:
    """Mean of 3D points."""
    arr = np.asarray(list(points), dtype=float)
    return tuple(arr.mean(axis=0).round(3))
