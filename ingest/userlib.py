"""User libraries: load a .smi, .csv/.tsv or .sdf file as a named library of drugs.

Every row is standardised like the public drugs and merged by InChIKey (an existing drug is
reused, a new structure becomes a new drug).  Bad rows are reported with their line number
and reason and skipped; good rows are kept.  An empty, binary or oversized file is refused
before anything is written.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from dockdb.config import Config
from dockdb.db import Database
from dockdb.errors import InputError
from dockdb.models import Drug, DrugSynonym, Library, LibraryMember
from ingest.common import clip, sync_rows
from ingest.standardize import Standardized, StandardizeError, standardize_mol, standardize_smiles

SMI_EXT = {".smi", ".smiles", ".ism", ".txt"}
CSV_EXT = {".csv": ",", ".tsv": "\t"}
SDF_EXT = {".sdf", ".sd", ".mol"}
NAME_COLUMNS = ("name", "title", "id", "compound", "drug")


@dataclass
class LibraryReport:
    """What loading a user library did: rows read, loaded, new drugs, duplicates and bad lines."""
    library: str
    read: int = 0
    loaded: int = 0
    new_drugs: int = 0
    duplicates: int = 0
    bad: list[tuple[int, str]] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """3 when nothing was loaded, 4 when some lines were bad, else 0."""
        if self.loaded == 0:
            return 3
        return 4 if self.bad else 0

    def as_dict(self) -> dict:
        """The report as a JSON-ready dict, bad lines as {line, reason}."""
        return {"library": self.library, "read": self.read, "loaded": self.loaded, "new_drugs": self.new_drugs,
                "duplicates": self.duplicates, "bad": [{"line": n, "reason": r} for n, r in self.bad]}


@dataclass
class _Row:
    line: int
    name: str | None
    std: Standardized


def _read_text(path: Path, config: Config) -> str:
    if not path.is_file():
        raise InputError(f"{path} does not exist or is not a file; give the path of a .smi, .csv or .sdf file")
    size = path.stat().st_size
    if size == 0:
        raise InputError(f"{path} is empty; give a file with one molecule per line or record")
    if size > config.max_upload_bytes:
        raise InputError(f"{path} is {size:,} bytes, over the {config.max_upload_bytes:,}-byte limit "
                         "(DOCKDB_MAX_UPLOAD_BYTES); split the file")
    raw = path.read_bytes()
    if b"\x00" in raw[:8192]:
        raise InputError(f"{path} is a binary file, not text; give a .smi, .csv or .sdf text file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{path} is not UTF-8 text; save it as UTF-8 .smi, .csv or .sdf") from None
    if not text.strip():
        raise InputError(f"{path} holds only blank lines; give a file with one molecule per line or record")
    return text


def _parse_smi(text: str) -> list[tuple[int, str | None, str]]:
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        body = line.strip()
        if not body or body.startswith("#"):
            continue
        parts = body.split(None, 1)
        if n == 1 and parts[0].lower() == "smiles":
            continue  # a header line
        out.append((n, parts[1].strip() if len(parts) > 1 else None, parts[0]))
    return out


def _parse_csv(text: str, delimiter: str, path: Path) -> list[tuple[int, str | None, str]]:
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = next(reader, [])
    lower = [h.strip().lower() for h in header]
    if "smiles" not in lower:
        raise InputError(f"{path} has no 'smiles' column (header: {', '.join(header)[:120]}); add one")
    si = lower.index("smiles")
    ni = next((lower.index(c) for c in NAME_COLUMNS if c in lower), None)
    out = []
    for rec in reader:
        if not any(c.strip() for c in rec):
            continue
        smiles = rec[si].strip() if si < len(rec) else ""
        name = rec[ni].strip() if ni is not None and ni < len(rec) and rec[ni].strip() else None
        out.append((reader.line_num, name, smiles))
    return out


def _parse_sdf(text: str, report: LibraryReport) -> list[_Row]:
    from rdkit import Chem, rdBase

    rows: list[_Row] = []
    line = 1
    for block in text.split("$$$$"):
        start = line
        line += block.count("\n")
        if not block.strip():
            continue
        report.read += 1
        first = start + (1 if block.startswith("\n") else 0)
        with rdBase.BlockLogs():  # the record is reported below in our words, not RDKit's raw log lines
            mol = Chem.MolFromMolBlock(block.lstrip("\n"), sanitize=True)
        if mol is None:
            report.bad.append((first, "unreadable molecule record (RDKit cannot parse its atom or bond lines)"))
            continue
        try:
            std = standardize_mol(mol)
        except StandardizeError as e:
            report.bad.append((first, str(e)))
            continue
        name = mol.GetProp("_Name").strip() if mol.HasProp("_Name") else ""
        rows.append(_Row(first, name or None, std))
    return rows


def parse_library(path: Path, config: Config, name: str) -> tuple[list[_Row], LibraryReport]:
    """Read and standardise a user file without touching the database."""
    path = Path(path)
    report = LibraryReport(name)
    ext = path.suffix.lower()
    if ext not in SMI_EXT | set(CSV_EXT) | SDF_EXT:
        raise InputError(f"{path.name}: unknown file type {ext or '(none)'}; use .smi, .csv, .tsv or .sdf")
    text = _read_text(path, config)
    if ext in SDF_EXT:
        return _parse_sdf(text, report), report
    entries = _parse_csv(text, CSV_EXT[ext], path) if ext in CSV_EXT else _parse_smi(text)
    rows: list[_Row] = []
    for n, mol_name, smiles in entries:
        report.read += 1
        try:
            rows.append(_Row(n, mol_name, standardize_smiles(smiles)))
        except StandardizeError as e:
            report.bad.append((n, str(e)))
    return rows, report


def load_user_library(db: Database, path: Path, name: str, config: Config, description: str | None = None
                      ) -> LibraryReport:
    """Load ``path`` as library ``name``; returns counts and the bad rows (line, reason)."""
    name = name.strip()
    if not name:
        raise InputError("library name is empty; pass --name NAME")
    rows, report = parse_library(Path(path), config, name)
    if not rows:
        return report
    with db.session() as session:
        existing = {ik: i for i, ik in session.execute(
            select(Drug.id, Drug.inchikey).where(Drug.inchikey.in_({r.std.inchikey for r in rows})))}
        new = {}
        for r in rows:
            if r.std.inchikey not in existing and r.std.inchikey not in new:
                label = clip(r.name or r.std.inchikey, 255) or r.std.inchikey
                new[r.std.inchikey] = {"inchikey": r.std.inchikey, "name": label, "name_lower": label.lower(),
                                       "smiles": r.std.smiles, **r.std.descriptors()}
        report.new_drugs = sync_rows(session, Drug, ("inchikey",), list(new.values()))[0]
        ids = {ik: i for i, ik in session.execute(
            select(Drug.id, Drug.inchikey).where(Drug.inchikey.in_({r.std.inchikey for r in rows})))}
        sync_rows(session, Library, ("name",), [{"name": name, "description": description,
                                                 "source": f"user file {Path(path).name}"}])
        lib_id = session.scalar(select(Library.id).where(Library.name == name))
        members, synonyms = [], []
        seen: set[str] = set()
        for r in rows:
            if r.std.inchikey in seen:
                report.duplicates += 1
                continue
            seen.add(r.std.inchikey)
            did = ids[r.std.inchikey]
            members.append({"library_id": lib_id, "drug_id": did, "source_name": clip(r.name, 255),
                            "source_ref": f"line {r.line}"})
            if r.name:
                synonyms.append({"drug_id": did, "name_lower": clip(r.name.lower(), 512), "name": clip(r.name, 512),
                                 "source": clip(f"library:{name}", 64)})
        sync_rows(session, LibraryMember, ("library_id", "drug_id"), members, compare=(),
                  where=LibraryMember.library_id == lib_id)
        sync_rows(session, DrugSynonym, ("drug_id", "name_lower"), synonyms, compare=())
        report.loaded = len(rows)
    return report
