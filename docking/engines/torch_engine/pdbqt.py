"""PDBQT parsing for the torch engine: rigid receptors and ligands with their torsion tree.

A ligand PDBQT (as Meeko writes it) holds one ``ROOT`` block and nested ``BRANCH a b``
blocks; ``a`` is the serial number of the parent atom, ``b`` of the first atom of the
branch, and the bond a-b is the rotatable bond.  Every block is a rigid *body*.  We keep
every input line so that poses can be written back in the input atom order with only the
coordinates changed (Meeko then rebuilds the molecule with bond orders from the REMARK
lines, exactly as for Vina's output).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from dockdb.errors import EngineError

__all__ = [
    "LigandPDBQT",
    "ReceptorPDBQT",
    "format_pose_pdbqt",
    "format_single_pose",
    "parse_ligand_pdbqt",
    "parse_receptor_pdbqt",
]


def _ad_type(line: str) -> str:
    parts = line[77:].split()
    if parts:
        return parts[0]
    # some writers put the type right after the charge without the usual column alignment
    return line.split()[-1]


def _xyz(line: str) -> tuple[float, float, float]:
    return float(line[30:38]), float(line[38:46]), float(line[46:54])


@dataclass(frozen=True)
class ReceptorPDBQT:
    """Heavy and polar-hydrogen atoms of a rigid receptor (``coords`` is N×3, Å)."""

    coords: np.ndarray
    ad_types: list[str]


def parse_receptor_pdbqt(text: str) -> ReceptorPDBQT:
    """Read the ATOM/HETATM records of a rigid receptor PDBQT."""
    xyz: list[tuple[float, float, float]] = []
    types: list[str] = []
    for line in text.splitlines():
        if line.startswith(("ATOM  ", "HETATM")):
            try:
                xyz.append(_xyz(line))
            except ValueError as exc:
                raise EngineError(f"receptor PDBQT line has unreadable coordinates: {line!r}") from exc
            types.append(_ad_type(line))
    if not xyz:
        raise EngineError("receptor PDBQT has no atoms; pass a prepared receptor")
    return ReceptorPDBQT(coords=np.asarray(xyz, dtype=np.float64), ad_types=types)


@dataclass
class LigandPDBQT:
    """A ligand with its torsion tree.

    ``body_of[i]`` is the body of atom ``i`` (0 = ROOT); ``parent[b]`` the parent body of
    body ``b`` (-1 for the root); ``axis[b]`` the atom pair (parent atom, first branch atom)
    of the rotatable bond that moves body ``b``.  Bodies are numbered in file order, so a
    parent always has a smaller index than its children.
    """

    lines: list[str]
    atom_line: list[int]
    coords: np.ndarray
    ad_types: list[str]
    names: list[str]
    body_of: np.ndarray
    parent: list[int]
    axis: list[tuple[int, int]]
    torsdof: int
    remarks: list[str] = field(default_factory=list)

    @property
    def n_atoms(self) -> int:
        """Atoms of the ligand, hydrogens included."""
        return len(self.ad_types)

    @property
    def n_torsions(self) -> int:
        """Rotatable bonds of the torsion tree (branches)."""
        return len(self.parent) - 1

    def depth(self) -> list[int]:
        """Depth of each body of the torsion tree (the root is 0)."""
        d = [0] * len(self.parent)
        for b in range(1, len(self.parent)):
            d[b] = d[self.parent[b]] + 1
        return d


def parse_ligand_pdbqt(text: str) -> LigandPDBQT:
    """Parse a single-ligand PDBQT (the first MODEL when there are several)."""
    lines: list[str] = []
    for line in text.splitlines():
        if line.startswith("ENDMDL"):
            break
        if line.startswith("MODEL"):
            continue
        lines.append(line.rstrip("\n"))
    serial_to_idx: dict[int, int] = {}
    atom_line: list[int] = []
    coords: list[tuple[float, float, float]] = []
    types: list[str] = []
    names: list[str] = []
    body_of: list[int] = []
    parent: list[int] = []
    axis_serial: list[tuple[int, int]] = []
    stack: list[int] = []
    torsdof = 0
    seen_root = False
    for k, line in enumerate(lines):
        words = line.split()
        rec = words[0] if words else ""
        if rec == "ROOT":
            if seen_root:
                raise EngineError("ligand PDBQT has two ROOT blocks; pass one ligand per PDBQT")
            seen_root = True
            parent.append(-1)
            axis_serial.append((-1, -1))
            stack.append(0)
        elif rec == "ENDROOT":
            stack.clear()
        elif rec == "BRANCH":
            if len(words) < 3 or not seen_root:
                raise EngineError(f"malformed BRANCH line in ligand PDBQT: {line!r}")
            b = len(parent)
            a_serial = int(words[1])
            if a_serial not in serial_to_idx:
                raise EngineError(f"BRANCH {a_serial} names a parent atom not seen before it in the ligand PDBQT")
            parent.append(body_of[serial_to_idx[a_serial]])
            axis_serial.append((a_serial, int(words[2])))
            stack.append(b)
        elif rec == "ENDBRANCH":
            if stack:
                stack.pop()
        elif line.startswith(("ATOM  ", "HETATM")):
            if not stack:
                raise EngineError("ligand PDBQT atom outside ROOT/BRANCH; pass a Meeko/ADT ligand PDBQT")
            try:
                serial = int(line[6:11])
                xyz = _xyz(line)
            except ValueError as exc:
                raise EngineError(f"ligand PDBQT atom line unreadable: {line!r}") from exc
            serial_to_idx[serial] = len(types)
            atom_line.append(k)
            coords.append(xyz)
            types.append(_ad_type(line))
            names.append(line[12:16].strip())
            body_of.append(stack[-1])
        elif rec == "TORSDOF" and len(words) > 1:
            torsdof = int(words[1])
    if not seen_root or not types:
        raise EngineError("ligand PDBQT has no ROOT or no atoms; prepare the ligand with Meeko")
    axis: list[tuple[int, int]] = [(-1, -1)]
    for b in range(1, len(parent)):
        a_s, b_s = axis_serial[b]
        if a_s not in serial_to_idx or b_s not in serial_to_idx:
            raise EngineError(f"BRANCH {a_s} {b_s} names atoms that are not in the ligand PDBQT")
        axis.append((serial_to_idx[a_s], serial_to_idx[b_s]))
    return LigandPDBQT(
        lines=lines,
        atom_line=atom_line,
        coords=np.asarray(coords, dtype=np.float64),
        ad_types=types,
        names=names,
        body_of=np.asarray(body_of, dtype=np.int64),
        parent=parent,
        axis=axis,
        torsdof=torsdof,
        remarks=[ln for ln in lines if ln.startswith("REMARK")],
    )


def _with_xyz(line: str, xyz: np.ndarray) -> str:
    return f"{line[:30]}{xyz[0]:8.3f}{xyz[1]:8.3f}{xyz[2]:8.3f}{line[54:]}"


def format_single_pose(lig: LigandPDBQT, xyz: np.ndarray, energy: float, lb: float = 0.0, ub: float = 0.0) -> str:
    """One pose as a single-model PDBQT (no MODEL/ENDMDL lines), as DockDB stores poses."""
    text = format_pose_pdbqt(lig, [(xyz, energy, lb, ub)])
    return "\n".join(ln for ln in text.splitlines() if not ln.startswith(("MODEL", "ENDMDL"))) + "\n"


def format_pose_pdbqt(lig: LigandPDBQT, poses: list[tuple[np.ndarray, float, float, float]]) -> str:
    """Multi-MODEL PDBQT of ``poses`` = (coords N×3, energy, rmsd_lb, rmsd_ub), Vina's layout."""
    out: list[str] = []
    by_line = dict(zip(lig.atom_line, range(lig.n_atoms), strict=True))
    for m, (xyz, energy, lb, ub) in enumerate(poses, 1):
        out.append(f"MODEL {m}")
        out.append(f"REMARK VINA RESULT: {energy:9.3f} {lb:10.3f} {ub:10.3f}")
        for k, line in enumerate(lig.lines):
            i = by_line.get(k)
            out.append(line if i is None else _with_xyz(line, xyz[i]))
        out.append("ENDMDL")
    return "\n".join(out) + "\n"
