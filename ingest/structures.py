"""Registering another target structure: an RCSB entry (cached download) or a local PDB file,
with a focused pocket from residues, a co-crystal ligand or an explicit box, and a blind box."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from dockdb.config import Config
from dockdb.db import Database
from dockdb.errors import InputError, OfflineError
from dockdb.models import Target
from docking.pocket import Box, blind_box, box_from_ligand, box_from_residues, validate_box
from ingest.targets import PocketSpec, store_target

RCSB_URL = "https://files.rcsb.org/download/{id}.pdb"
_PDB_ID = re.compile(r"^[0-9][A-Za-z0-9]{3}$")
_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{1,63}$")
TIMEOUT_S = 30


def fetch_pdb(pdb_id: str, config: Config) -> tuple[str, str]:
    """Text and URL of an RCSB entry, downloaded once into ``$DOCKDB_HOME/structures`` (atomically)."""
    pid = pdb_id.strip().upper()
    if not _PDB_ID.match(pid):
        raise InputError(f"{pdb_id!r} is not a PDB id; give four characters like 6LU7")
    url = RCSB_URL.format(id=pid)
    dest = config.home / "structures" / f"{pid}.pdb"
    if not dest.is_file():
        if config.offline:
            raise OfflineError(f"{pid} is not cached and DOCKDB_OFFLINE is set; download {url} and use --file")
        import requests

        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{pid}.", dir=dest.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                resp = requests.get(url, timeout=TIMEOUT_S)
                if resp.status_code == 404:
                    raise InputError(f"RCSB has no PDB-format file for {pid} ({url}); check the id or use --file")
                resp.raise_for_status()
                fh.write(resp.content)
            os.replace(tmp, dest)
        except requests.RequestException as e:
            raise OfflineError(f"cannot download {url} ({e.__class__.__name__}); when offline use --file PATH") from e
        finally:
            Path(tmp).unlink(missing_ok=True)
    return read_pdb_file(dest), url


def read_pdb_file(path: Path) -> str:
    """Text of the PDB file at *path*; InputError when missing, binary or without ATOM/HETATM records."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path} does not exist; give the path of a PDB file")
    raw = path.read_bytes()
    if b"\x00" in raw[:8192]:
        raise InputError(f"{path} is binary, not a PDB text file")
    text = raw.decode("utf-8", errors="replace")
    if not any(line.startswith(("ATOM", "HETATM")) for line in text.splitlines()):
        raise InputError(f"{path} has no ATOM/HETATM records; give a PDB-format structure")
    return text


def protein_text(pdb_text: str, keep_chains: Sequence[str], remove_chains: Sequence[str]) -> str:
    """ATOM records of the chains that will be docked into (for box checks)."""
    out = []
    for line in pdb_text.splitlines():
        if not line.startswith("ATOM"):
            continue
        chain = line[21:22].strip()
        if (keep_chains and chain not in keep_chains) or chain in remove_chains:
            continue
        out.append(line)
    if not out:
        raise InputError("no protein atoms left after --keep-chains/--remove-chains; check the chain ids")
    return "\n".join(out) + "\n"


@dataclass(frozen=True)
class AddResult:
    """Outcome of adding a user target: its key, whether it was added, updated or unchanged, and its two pockets."""
    key: str
    status: str  # "added", "updated" or "unchanged"
    focused: PocketSpec
    blind: PocketSpec


def parse_box(text: str) -> Box:
    """A Box from ``--box`` text 'cx,cy,cz,sx,sy,sz'; InputError unless six numbers."""
    try:
        v = [float(x) for x in text.split(",")]
    except ValueError:
        v = []
    if len(v) != 6:
        raise InputError(f"--box {text!r}: give six numbers cx,cy,cz,sx,sy,sz")
    return Box((v[0], v[1], v[2]), (v[3], v[4], v[5]))


def add_target(
    db: Database,
    *,
    key: str,
    name: str,
    pdb_text: str,
    source: str,
    source_url: str | None,
    structure_id: str | None,
    residues: Sequence[str] = (),
    ligand: str | None = None,
    box: Box | None = None,
    keep_chains: Sequence[str] = (),
    remove_chains: Sequence[str] = (),
    keep_hetero: Sequence[str] = (),
    organism: str | None = None,
    padding: float = 8.0,
    allow_large_box: bool = False,
) -> AddResult:
    """Compute, check and store a new target with its focused and blind pockets."""
    if not _KEY.match(key):
        raise InputError(f"target key {key!r}: use 2-64 lower-case letters, digits, '-' or '_'")
    if sum((bool(residues), ligand is not None, box is not None)) != 1:
        raise InputError("give exactly one pocket: --residues A:41,A:145, --ligand RESNAME or --box cx,cy,cz,sx,sy,sz")
    protein = protein_text(pdb_text, keep_chains, remove_chains)
    if residues:
        focused = box_from_residues(pdb_text, list(residues), padding)
        basis = f"pocket residues {', '.join(residues)} +{padding:g} Å"
    elif ligand:
        focused = box_from_ligand(pdb_text, resname=ligand, padding=padding)
        basis = f"co-crystal ligand {ligand.upper()} (read before stripping) +{padding:g} Å"
    else:
        assert box is not None
        focused, basis = box, "explicit box"
    validate_box(focused, protein, allow_large=allow_large_box)
    whole = blind_box(protein)
    fpocket = PocketSpec("focused", focused.center, focused.size, list(residues), basis, None)
    bpocket = PocketSpec("blind", whole.center, whole.size, [], "whole protein (kept chains) +5 Å", None)
    spec = {"structure_source": source, "keep_chains": list(keep_chains),
            "remove_chains": {c: "removed by the user" for c in remove_chains}, "keep_hetero": list(keep_hetero),
            "pocket_row": None, "blind_source": None, "dockcov2_protein": None}
    row = {"key": key, "name": name, "organism": organism, "uniprot": None, "gene": None,
           "structure_id": structure_id, "source_url": source_url, "spec": spec}
    with db.session() as session:
        existed = session.scalar(select(Target.id).where(Target.key == key)) is not None
        ins, upd = store_target(session, row, [fpocket, bpocket], pdb_text)
    status = "added" if not existed else ("updated" if ins or upd else "unchanged")
    return AddResult(key, status, fpocket, bpocket)
