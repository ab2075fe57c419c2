"""The held-out redocking set (``dockdb validate redock --set heldout``).

Crystal complexes that are not in the shared data mirror, listed in ``data/redock_heldout.yaml``:
each names a public archive of the source manifest and the protein (PDB or mmCIF) and ligand
files inside it.  The archives come from the download cache (downloaded once from PyPI) or, when
``DOCKDB_MIRROR`` is set, from the mirror, which must then hold them.
"""

from __future__ import annotations

import gzip
import tarfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from dockdb.config import Config
from dockdb.errors import ConfigError, InputError, SourceError
from dockdb.sources import DATA_DIR

REGISTRY_PATH = DATA_DIR / "redock_heldout.yaml"

__all__ = ["REGISTRY_PATH", "HeldoutEntry", "heldout_entries", "load_heldout", "read_archive"]


@dataclass(frozen=True)
class HeldoutEntry:
    """One held-out complex of the registry."""

    id: str
    source: str  # a key of data/sources.yaml: the archive holding the files
    protein: str  # path inside the archive (.pdb, .pdb.gz or .cif)
    chains: tuple[str, ...]
    residue: str | None = None  # the ligand as a residue of the protein file
    mol2: str | None = None  # or as a MOL2 file in the crystal frame
    what: str = ""


@cache
def heldout_entries(path: Path = REGISTRY_PATH) -> tuple[HeldoutEntry, ...]:
    """The registry's complexes, in file order; ConfigError naming the entry that is malformed."""
    try:
        raw = yaml.safe_load(path.read_text())
        entries = tuple(HeldoutEntry(**{**x, "chains": tuple(x.get("chains", ()))}) for x in raw["complexes"])
    except (OSError, yaml.YAMLError, KeyError, TypeError) as exc:
        raise ConfigError(f"cannot read the held-out redocking registry {path}: {exc}; restore it from git") from exc
    for entry in entries:
        if (entry.residue is None) == (entry.mol2 is None):
            raise ConfigError(f"held-out complex {entry.id} in {path} needs exactly one of residue: or mol2:")
    return entries


def _member_text(archive: tarfile.TarFile, name: str, where: Path) -> str:
    try:
        fh = archive.extractfile(name)
    except KeyError:
        fh = None
    if fh is None:
        raise SourceError(f"{name} is not a file in {where}; the registry {REGISTRY_PATH} names another release")
    data = fh.read()
    if name.endswith(".gz"):
        data = gzip.decompress(data)
    return data.decode("latin-1")


def _pdb_text(name: str, text: str) -> str:
    """PDB text of a protein file; an mmCIF file is converted with gemmi."""
    if not name.endswith(".cif"):
        return text
    import gemmi

    structure = gemmi.make_structure_from_block(gemmi.cif.read_string(text).sole_block())
    structure.setup_entities()
    return structure.make_pdb_string()


def _ligand(entry: HeldoutEntry, pdb: str, archive: tarfile.TarFile, where: Path) -> Any:
    from rdkit import Chem

    from docking.pdb_ligand import ligand_from_pdb_residue

    if entry.residue is not None:
        mol = ligand_from_pdb_residue(pdb, entry.residue)
    else:
        assert entry.mol2 is not None
        mol = Chem.MolFromMol2Block(_member_text(archive, entry.mol2, where), removeHs=False)
        if mol is None:
            raise SourceError(f"RDKit cannot read {entry.mol2} in {where}; delete the file and fetch it again")
    return mol


def read_archive(where: Path, entries: list[HeldoutEntry]) -> list[Any]:
    """``entries`` (all in the archive at ``where``) as ``RedockComplex``, the ligand's SMILES
    (with the crystal's stereochemistry) taken from its crystal coordinates."""
    from rdkit import Chem

    from jobs.validation.redock import RedockComplex

    out = []
    with tarfile.open(where, "r:gz") as archive:
        for entry in entries:
            pdb = _pdb_text(entry.protein, _member_text(archive, entry.protein, where))
            try:
                ligand = _ligand(entry, pdb, archive, where)
            except InputError as e:
                raise SourceError(f"held-out complex {entry.id}: {e}") from e
            smiles = Chem.MolToSmiles(Chem.RemoveHs(ligand))
            out.append(RedockComplex(entry.id, pdb, ligand, smiles, entry.chains))
    return out


def load_heldout(config: Config, only: set[str] | None = None) -> list[Any]:
    """The held-out complexes of the registry as ``RedockComplex`` (``only``: just these ids), in
    registry order, their archives fetched through the source manifest."""
    from dockdb.sources import fetch

    wanted = [e for e in heldout_entries() if only is None or e.id in only]
    out = []
    for source in dict.fromkeys(e.source for e in wanted):
        out += read_archive(fetch(source, config), [e for e in wanted if e.source == source])
    order = {e.id: i for i, e in enumerate(wanted)}
    return sorted(out, key=lambda c: order[c.id])
