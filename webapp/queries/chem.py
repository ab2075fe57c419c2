"""Chemistry on the web: 2D depictions, Tanimoto similarity and SMARTS substructure search.

Both searches are bounded: the query's length and atom count, the number of candidate
structures (``MAX_CANDIDATES``) and the wall time (``config.query_timeout_s``).  Parsed
molecules and fingerprints are cached per app and rebuilt when the drug table changes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dockdb import models as m
from webapp.extensions import cached
from webapp.params import BadParameter

MAX_SMILES_LEN = 1000
MAX_SMILES_ATOMS = 200
MAX_SMARTS_LEN = 300
MAX_SMARTS_ATOMS = 40
MAX_SMARTS_RECURSION = 3
MAX_CANDIDATES = 200_000
MAX_DEPICTION_SMILES = 2000


def _chem() -> Any:
    from rdkit import Chem, RDLogger

    RDLogger.DisableLog("rdApp.*")
    return Chem


@lru_cache(maxsize=2048)
def depiction_svg(smiles: str, width: int = 360, height: int = 280) -> str | None:
    """An RDKit SVG drawing of *smiles* (None when it cannot be parsed)."""
    if len(smiles) > MAX_DEPICTION_SMILES:
        return None
    chem = _chem()
    from rdkit.Chem.Draw import rdMolDraw2D

    mol = chem.MolFromSmiles(smiles)
    if mol is None:
        return None
    drawer = rdMolDraw2D.MolDraw2DSVG(width, height)
    drawer.drawOptions().clearBackground = False
    rdMolDraw2D.PrepareAndDrawMolecule(drawer, mol)
    drawer.FinishDrawing()
    return drawer.GetDrawingText()


def parse_smiles(smiles: str, parameter: str = "smiles") -> Any:
    """An RDKit molecule from *smiles*; BadParameter naming *parameter* when too long, invalid or too large."""
    if len(smiles) > MAX_SMILES_LEN:
        raise BadParameter(parameter, f"{parameter} is longer than {MAX_SMILES_LEN} characters")
    mol = _chem().MolFromSmiles(smiles)
    if mol is None:
        raise BadParameter(parameter, f"{parameter} is not a valid SMILES string")
    if mol.GetNumAtoms() > MAX_SMILES_ATOMS:
        raise BadParameter(parameter, f"{parameter} has more than {MAX_SMILES_ATOMS} heavy atoms")
    if mol.GetNumAtoms() == 0:
        raise BadParameter(parameter, f"{parameter} has no atoms")
    return mol


def parse_smarts(smarts: str, parameter: str = "smarts") -> Any:
    """An RDKit query from *smarts*; BadParameter naming *parameter* when too long, too recursive or invalid."""
    if len(smarts) > MAX_SMARTS_LEN:
        raise BadParameter(parameter, f"{parameter} is longer than {MAX_SMARTS_LEN} characters")
    if smarts.count("$(") > MAX_SMARTS_RECURSION:
        raise BadParameter(parameter, f"{parameter} has more than {MAX_SMARTS_RECURSION} recursive $() groups")
    mol = _chem().MolFromSmarts(smarts)
    if mol is None:
        raise BadParameter(parameter, f"{parameter} is not a valid SMARTS pattern")
    if mol.GetNumAtoms() == 0:
        raise BadParameter(parameter, f"{parameter} has no atoms")
    if mol.GetNumAtoms() > MAX_SMARTS_ATOMS:
        raise BadParameter(parameter, f"{parameter} has more than {MAX_SMARTS_ATOMS} atoms")
    return mol


@dataclass
class Library:
    """Parsed drugs: ids, names, molecules and Morgan fingerprints (same order)."""

    ids: list[int]
    names: list[str]
    smiles: list[str]
    mols: list[Any]
    fps: list[Any]


def _generator() -> Any:
    from rdkit.Chem import rdFingerprintGenerator

    return rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)


def _library(session: Session) -> Library:
    stamp = tuple(session.execute(select(func.count(m.Drug.id), func.max(m.Drug.id))).one())

    def build() -> Library:
        chem = _chem()
        gen = _generator()
        lib = Library([], [], [], [], [])
        rows = session.execute(select(m.Drug.id, m.Drug.name, m.Drug.smiles).order_by(m.Drug.id).limit(MAX_CANDIDATES))
        for drug_id, name, smiles in rows:
            mol = chem.MolFromSmiles(smiles) if smiles and len(smiles) <= MAX_SMILES_LEN * 2 else None
            if mol is None:
                continue
            lib.ids.append(drug_id)
            lib.names.append(name)
            lib.smiles.append(smiles)
            lib.mols.append(mol)
            lib.fps.append(gen.GetFingerprint(mol))
        return lib

    return cached("chem-library", stamp, build)


def similar(session: Session, smiles: str, threshold: float, limit: int) -> dict[str, Any]:
    """Drugs with Tanimoto similarity >= *threshold* to *smiles* (Morgan r=2, 2048 bits)."""
    from rdkit import DataStructs

    query = parse_smiles(smiles)
    lib = _library(session)
    fp = _generator().GetFingerprint(query)
    sims = DataStructs.BulkTanimotoSimilarity(fp, lib.fps) if lib.fps else []
    hits = sorted(
        ((s, i) for i, s in enumerate(sims) if s >= threshold), key=lambda x: (-x[0], lib.names[x[1]].lower())
    )
    items = [
        {"id": lib.ids[i], "name": lib.names[i], "smiles": lib.smiles[i], "similarity": round(s, 3)}
        for s, i in hits[:limit]
    ]
    return {
        "query": smiles,
        "threshold": threshold,
        "fingerprint": "morgan2-2048",
        "candidates": len(lib.ids),
        "total": len(hits),
        "items": items,
    }


def substructure(session: Session, smarts: str, limit: int, timeout_s: float) -> dict[str, Any]:
    """Drugs containing the SMARTS pattern; stops at *limit* hits or after *timeout_s* seconds."""
    pattern = parse_smarts(smarts)
    lib = _library(session)
    deadline = time.monotonic() + timeout_s
    items: list[dict[str, Any]] = []
    scanned = 0
    timed_out = False
    for i, mol in enumerate(lib.mols):
        if i % 64 == 0 and time.monotonic() > deadline:
            timed_out = True
            break
        scanned += 1
        if mol.HasSubstructMatch(pattern):
            items.append({"id": lib.ids[i], "name": lib.names[i], "smiles": lib.smiles[i]})
            if len(items) >= limit:
                break
    return {
        "query": smarts,
        "candidates": len(lib.ids),
        "scanned": scanned,
        "complete": scanned == len(lib.ids),
        "timed_out": timed_out,
        "items": items,
    }
