"""Drugs: DrugCentral (structures, FDA-approved list, identifiers) and the Broad Repurposing Hub,
standardised with RDKit and merged into one row per parent structure (InChIKey).

Libraries written: ``fda-approved`` (DrugCentral FDA-approved struct_ids; those without
a DrugCentral structure take the Hub's structure when the Hub has the same PubChem CID
or name, else a ChEMBL assay file's structure matched by ChEMBL id or name, see
:mod:`ingest.chembl_drugs`) and ``broad-repurposing`` (every Hub sample).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from dockdb.config import Config
from dockdb.models import Drug, DrugIdentifier, DrugSynonym, Library, LibraryMember
from ingest.chembl_drugs import merge_chembl, struct_maps
from ingest.common import SourceReport, clip, key_map, read_table, sync_rows, to_int
from ingest.standardize import Standardized, standardize_many

FDA_LIBRARY = "fda-approved"
BROAD_LIBRARY = "broad-repurposing"
FDA_STATUS = "FDA approved"

# DrugCentral ID_TYPE -> our identifier kind (others: lower-cased ID_TYPE)
ID_KINDS = {
    "PUBCHEM_CID": "pubchem_cid",
    "DRUGBANK_ID": "drugbank_id",
    "ChEMBL_ID": "chembl_id",
    "SECONDARY_CAS_RN": "cas",
}
PHASE_RANK = {
    "Launched": 0,
    "Phase 3": 1,
    "Phase 2/Phase 3": 2,
    "Phase 2": 3,
    "Phase 1/Phase 2": 4,
    "Phase 1": 5,
    "Preclinical": 6,
    "Withdrawn": 7,
}


def broad_compound_id(broad_id: str) -> str:
    """``BRD-K76022557-003-28-9`` (a sample) -> ``BRD-K76022557`` (the compound)."""
    return broad_id[:13] if broad_id.startswith("BRD-") else broad_id


@dataclass
class DrugRecord:
    """Everything the drug sources say about one standardised structure, merged before it becomes a Drug row."""
    std: Standardized
    name: str | None = None
    name_rank: tuple[int, int] = (9, 0)
    drugcentral_ids: set[int] = field(default_factory=set)
    primary_struct: int | None = None
    cas: list[str] = field(default_factory=list)
    pubchem: list[int] = field(default_factory=list)
    dc_pubchem: list[int] = field(default_factory=list)
    drugbank: list[str] = field(default_factory=list)
    chembl: list[str] = field(default_factory=list)
    approval: str | None = None
    phase: str | None = None
    mechanism: str | None = None
    synonyms: dict[str, tuple[str, str]] = field(default_factory=dict)
    identifiers: set[tuple[str, str]] = field(default_factory=set)

    def set_name(self, name: str, rank: tuple[int, int]) -> None:
        """Take *name* as the display name when its source *rank* is better than the current name's."""
        if name and rank < self.name_rank:
            self.name, self.name_rank = name, rank

    def synonym(self, name: str, source: str) -> None:
        """Keep *name* as a synonym from *source* (first spelling of each lower-cased name wins)."""
        name = (name or "").strip()
        if name:
            self.synonyms.setdefault(clip(name.lower(), 512) or "", (clip(name, 512) or "", source))

    def ident(self, kind: str, value: object) -> None:
        """Add the cross-reference (*kind*, *value*) when *value* is not empty."""
        text = str(value).strip() if value is not None else ""
        if text:
            self.identifiers.add((kind, clip(text, 128) or ""))


def _append(values: list, value: object) -> None:
    if value not in (None, "") and value not in values:
        values.append(value)


def build_records(config: Config, report: SourceReport) -> tuple[dict[str, DrugRecord], dict[str, list]]:
    """Read every drug source and merge by parent InChIKey.

    Returns the records and the library memberships ``{library: [(inchikey, name, ref)]}``.
    """
    structures = read_table("drugcentral-structures", config, required=("SMILES", "InChIKey", "ID", "INN", "CAS_RN"))
    fda = read_table("drugcentral-fda-approved", config, delimiter=",", fieldnames=("struct_id", "name"))
    idents = read_table("drugcentral-identifiers", config, required=("DRUG_ID", "DRUG_NAME", "ID_TYPE", "IDENTIFIER"))
    samples = read_table("broad-samples", config, required=("broad_id", "pert_iname", "smiles", "pubchem_cid"))
    hub = read_table("broad-drugs", config, required=("pert_iname", "clinical_phase", "moa", "target"))
    report.read = len(structures) + len(samples)

    std = standardize_many(
        [r["SMILES"] for r in structures] + [r["smiles"] for r in samples if r["smiles"]],
        cache_dir=config.home / "cache",
    )
    records: dict[str, DrugRecord] = {}

    def record(smiles: str, where: str) -> DrugRecord | None:
        res = std.get(smiles)
        if not isinstance(res, Standardized):
            report.rejected += 1
            if len(report.problems) < 20:
                report.problems.append(f"{where}: {res or 'no SMILES'}")
            return None
        rec = records.get(res.inchikey)
        if rec is None:
            rec = records[res.inchikey] = DrugRecord(std=res)
        return rec

    # --- DrugCentral structures
    struct_parent: dict[int, str] = {}
    for row in structures:
        sid = to_int(row["ID"])
        rec = record(row["SMILES"], f"drugcentral struct_id {row['ID']}")
        if rec is None or sid is None:
            continue
        struct_parent[sid] = rec.std.inchikey
        exact = row["InChIKey"] == rec.std.inchikey
        rec.drugcentral_ids.add(sid)
        rank = (0 if exact else 1, sid)
        if rank < rec.name_rank:
            rec.primary_struct = sid
        rec.set_name(row["INN"], rank)
        rec.synonym(row["INN"], "drugcentral")
        rec.ident("drugcentral_id", sid)
        if row["CAS_RN"]:
            _append(rec.cas, row["CAS_RN"])
            rec.ident("cas", row["CAS_RN"])

    # --- Broad samples (structures of the Hub)
    hub_by_name = {r["pert_iname"]: r for r in hub}
    broad_by_cid: dict[str, str] = {}
    broad_by_name: dict[str, str] = {}
    broad_members: list[tuple[str, str, str]] = []
    for row in samples:
        if not row["smiles"]:
            report.rejected += 1
            continue
        rec = record(row["smiles"], f"broad sample {row['broad_id']}")
        if rec is None:
            continue
        ik = rec.std.inchikey
        name = row["pert_iname"]
        cid = to_int(row["pubchem_cid"])
        compound = broad_compound_id(row["broad_id"])
        rec.set_name(name, (5, 0))
        rec.synonym(name, "broad")
        rec.ident("broad_id", compound)
        if cid is not None:
            _append(rec.pubchem, cid)
            rec.ident("pubchem_cid", cid)
            broad_by_cid.setdefault(str(cid), ik)
        broad_by_name.setdefault(name.lower(), ik)
        broad_members.append((ik, name, compound))
        info = hub_by_name.get(name)
        if info is not None:
            phase = info["clinical_phase"] or None
            if phase and (rec.phase is None or PHASE_RANK.get(phase, 9) < PHASE_RANK.get(rec.phase, 9)):
                rec.phase = phase
                rec.mechanism = info["moa"] or rec.mechanism
            elif rec.mechanism is None and info["moa"]:
                rec.mechanism = info["moa"]

    # --- DrugCentral identifiers (by struct_id); CIDs let missing FDA structures use the Hub's
    by_struct: dict[int, list[dict[str, str]]] = defaultdict(list)
    for row in idents:
        sid = to_int(row["DRUG_ID"])
        if sid is not None:
            by_struct[sid].append(row)
    fda_ids = [(to_int(r["struct_id"]), r["name"]) for r in fda]
    filled = 0
    for sid, name in fda_ids:
        if sid is None or sid in struct_parent:
            continue
        cids = [r["IDENTIFIER"] for r in by_struct.get(sid, []) if r["ID_TYPE"] == "PUBCHEM_CID"]
        ik = next((broad_by_cid[c] for c in cids if c in broad_by_cid), None) or broad_by_name.get(name.lower())
        if ik is not None:
            struct_parent[sid] = ik
            rec = records[ik]
            rec.drugcentral_ids.add(sid)
            rec.set_name(name, (2, sid))
            rec.synonym(name, "drugcentral")
            rec.ident("drugcentral_id", sid)
            filled += 1

    # --- ChEMBL assay compounds: drugs of their own, and structures for FDA ids still without one
    def chembl_record(res: Standardized) -> DrugRecord:
        rec = records.get(res.inchikey)
        if rec is None:
            rec = records[res.inchikey] = DrugRecord(std=res)
        return rec

    chembl_of, names_of = struct_maps(by_struct)
    still_missing = [(sid, name) for sid, name in fda_ids if sid is not None and sid not in struct_parent]
    from_chembl, _ = merge_chembl(config, report, chembl_record, still_missing, chembl_of, names_of)
    for sid, ik in from_chembl.items():
        struct_parent[sid] = ik
        rec = records[ik]
        rec.drugcentral_ids.add(sid)
        rec.set_name(dict(still_missing)[sid], (2, sid))
        rec.ident("drugcentral_id", sid)
    for sid, rows in by_struct.items():
        ik = struct_parent.get(sid)
        if ik is None:
            continue
        rec = records[ik]
        for row in rows:
            kind = ID_KINDS.get(row["ID_TYPE"], row["ID_TYPE"].lower())
            value = row["IDENTIFIER"]
            rec.synonym(row["DRUG_NAME"], "drugcentral")
            if kind == "pubchem_cid":
                cid = to_int(value)
                if cid is None:
                    continue
                value = str(cid)
                if sid == rec.primary_struct:
                    rec.dc_pubchem.insert(0, cid)
                else:
                    _append(rec.dc_pubchem, cid)
            elif kind == "drugbank_id":
                _append(rec.drugbank, value)
            elif kind == "chembl_id":
                _append(rec.chembl, value)
            rec.ident(kind, value)

    # --- FDA approval and libraries
    fda_members: list[tuple[str, str, str]] = []
    missing = 0
    for sid, name in fda_ids:
        ik = struct_parent.get(sid) if sid is not None else None
        if ik is None:
            missing += 1
            continue
        records[ik].approval = FDA_STATUS
        records[ik].synonym(name, "drugcentral")
        fda_members.append((ik, name, str(sid)))
    report.unmatched = missing
    report.details["fda_struct_ids"] = len(fda_ids)
    report.details["fda_filled_from_broad"] = filled
    report.details["fda_filled_from_chembl"] = len(from_chembl)
    report.details["fda_without_structure"] = missing
    return records, {FDA_LIBRARY: fda_members, BROAD_LIBRARY: broad_members}


def drug_row(rec: DrugRecord) -> dict:
    """The ``drugs`` table row of a merged record: name, first identifiers, approval, mechanism and descriptors."""
    name = clip(rec.name or rec.std.inchikey, 255) or rec.std.inchikey
    return {
        "inchikey": rec.std.inchikey,
        "name": name,
        "name_lower": name.lower(),
        "smiles": rec.std.smiles,
        "pubchem_cid": (rec.dc_pubchem or rec.pubchem or [None])[0],
        "drugbank_id": clip(rec.drugbank[0], 16) if rec.drugbank else None,
        "chembl_id": clip(rec.chembl[0], 32) if rec.chembl else None,
        "drugcentral_id": rec.primary_struct if rec.primary_struct is not None
        else min(rec.drugcentral_ids, default=None),
        "cas": clip(rec.cas[0], 32) if rec.cas else None,
        "approval_status": rec.approval,
        "clinical_phase": rec.phase,
        "mechanism": rec.mechanism,
        **rec.std.descriptors(),
    }


LIBRARIES = {
    FDA_LIBRARY: ("FDA-approved drugs (DrugCentral 2023)", "drugcentral-fda-approved"),
    BROAD_LIBRARY: ("Broad Drug Repurposing Hub (2020-03-24)", "broad-samples"),
}


def ingest_drugs(session: Session, config: Config, report: SourceReport) -> None:
    """Load DrugCentral + Broad drugs, their names, identifiers and the two libraries."""
    records, members = build_records(config, report)
    report.add(sync_rows(session, Drug, ("inchikey",), [drug_row(r) for r in records.values()]), "drug")
    ids = key_map(session, Drug, "inchikey")
    report.details["drugs"] = len(records)

    synonyms = [
        {"drug_id": ids[ik], "name_lower": low, "name": name, "source": src}
        for ik, rec in records.items()
        for low, (name, src) in rec.synonyms.items()
    ]
    report.add(sync_rows(session, DrugSynonym, ("drug_id", "name_lower"), synonyms), "drug_synonym")
    idents = [
        {"drug_id": ids[ik], "kind": kind, "value": value}
        for ik, rec in records.items()
        for kind, value in sorted(rec.identifiers)
    ]
    report.add(sync_rows(session, DrugIdentifier, ("drug_id", "kind", "value"), idents, compare=()), "drug_identifier")

    libs = [{"name": n, "description": d, "source": s} for n, (d, s) in LIBRARIES.items()]
    report.add(sync_rows(session, Library, ("name",), libs), "library")
    lib_ids = key_map(session, Library, "name")
    rows = []
    for lib, entries in members.items():
        seen: set[str] = set()
        for ik, name, ref in entries:
            if ik in seen:
                continue
            seen.add(ik)
            rows.append({"library_id": lib_ids[lib], "drug_id": ids[ik], "source_name": clip(name, 255),
                         "source_ref": clip(ref, 255)})
        report.details[f"library {lib}"] = len(seen)
    report.add(
        sync_rows(session, LibraryMember, ("library_id", "drug_id"), rows,
                  where=LibraryMember.library_id.in_([lib_ids[n] for n in LIBRARIES])),
        "library_member",
    )


def library_size(session: Session, name: str) -> int:
    """Number of members of library *name* (0 when there is no such library)."""
    lib = session.scalar(select(Library.id).where(Library.name == name))
    if lib is None:
        return 0
    return len(session.scalars(select(LibraryMember.id).where(LibraryMember.library_id == lib)).all())
