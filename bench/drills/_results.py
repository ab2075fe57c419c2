"""Synthetic docking results shaped like real ones, for the writer bench and the bulk-write drill.

Each pose carries text of the size and entropy of a real Vina pose of a ~30-heavy-atom drug:
a PDBQT of ~3 kB (REMARK lines, ROOT/BRANCH records, ATOM lines with random coordinates and
charges), a V2000 SDF of ~4 kB (atoms, bonds, DockDB's SD tags), five score terms and a dozen
interacting residues; random digits keep PostgreSQL's TOAST compression honest.  Nothing here
touches a database.
"""

from __future__ import annotations

import random
from typing import Any

from jobs.writer import DockingOutcome, PoseRow

ELEMENTS = ("C", "C", "C", "C", "N", "O", "C", "S", "Cl", "F")
TYPES = ("Hydrophobic", "HBDonor", "HBAcceptor", "PiStacking", "VdWContact", "Cationic")
RESIDUES = ("HIS", "CYS", "MET", "GLU", "GLN", "ASN", "LEU", "THR", "SER", "PHE")


def _pdbqt(rng: random.Random, n_atoms: int, score: float) -> str:
    lines = [f"MODEL 1\nREMARK VINA RESULT:    {score:7.3f}      0.000      0.000",
             "REMARK INTER + INTRA:    -9.876\nREMARK INTER:  -8.765\nREMARK INTRA:  -1.111",
             "REMARK  6 active torsions:", "ROOT"]
    for i in range(1, n_atoms + 1):
        el = rng.choice(ELEMENTS)
        x, y, z = (rng.uniform(-30, 30) for _ in range(3))
        lines.append(f"ATOM  {i:5d}  {el:<3s} UNL     1    {x:8.3f}{y:8.3f}{z:8.3f}  0.00  0.00    "
                     f"{rng.uniform(-0.5, 0.5):+6.3f} {el[0]}")
        if i % 8 == 0:
            lines.append(f"BRANCH {i:3d} {i + 1:3d}")
    lines.append("ENDROOT\nTORSDOF 6\nENDMDL")
    return "\n".join(lines) + "\n"


def _sdf(rng: random.Random, n_atoms: int, score: float, rank: int) -> str:
    lines = [f"drug | target | pose {rank}", "     RDKit          3D", "",
             f"{n_atoms:3d}{n_atoms:3d}  0  0  0  0  0  0  0  0999 V2000"]
    for _ in range(n_atoms):
        x, y, z = (rng.uniform(-30, 30) for _ in range(3))
        lines.append(f"{x:10.4f}{y:10.4f}{z:10.4f} {rng.choice(ELEMENTS):<3s} 0  0  0  0  0  0  0  0  0  0  0  0")
    for i in range(1, n_atoms + 1):
        lines.append(f"{i:3d}{i % n_atoms + 1:3d}{rng.choice((1, 1, 1, 2)):3d}  0")
    lines += ["M  END", "> <drug>", "drug", "", "> <rank>", str(rank), "", "> <score>", f"{score:.3f}", "", "$$$$"]
    return "\n".join(lines) + "\n"


def synthetic_outcome(receptor_id: int, drug_id: int, rng: random.Random, poses: int = 9,
                      heavy_atoms: int = 30) -> DockingOutcome:
    """A 'done' outcome with *poses* poses of real size (about 7 kB of text each)."""
    best = rng.uniform(-10, -5)
    records = []
    for k in range(poses):
        score = round(best + k * rng.uniform(0.05, 0.3), 3)
        interactions: list[dict[str, Any]] = [
            {"chain": "A", "resnum": rng.randint(1, 300), "resname": rng.choice(RESIDUES), "type": rng.choice(TYPES),
             "distance": round(rng.uniform(2.5, 4.5), 2)} for _ in range(12)]
        records.append(PoseRow(
            rank=k + 1, score=score, pdbqt=_pdbqt(rng, heavy_atoms + 8, score),
            sdf=_sdf(rng, heavy_atoms + 12, score, k + 1),
            score_terms={t: round(rng.uniform(-10, 1), 4) for t in ("inter", "intra", "torsions", "total", "gauss")},
            interactions=interactions))
    return DockingOutcome(receptor_id, drug_id, "done", poses=records, runtime_s=round(rng.uniform(1, 60), 3),
                          ligand_smiles="CC(=O)Nc1ccc(O)cc1")
