"""Drugs from the structures in the ChEMBL assay files (Ellinger, Touret, Heiser).

DrugCentral's structure file lacks a few hundred FDA-approved struct_ids (remdesivir among them);
the ChEMBL 27 screens of approved-drug collections carry a parent structure for many of them.
Each assay compound is merged into the drug records by parent InChIKey; one that matches no
structure yet becomes a drug of its own (GS-441524, for instance), so its assay results are kept.
An FDA-approved struct_id still without a structure takes the compound matched to it by ChEMBL id
(DrugCentral's identifiers) or by name (its FDA name and DrugCentral synonyms against the assay
file's parent name, name and compound key, with and without a parenthesised alias).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from dockdb.config import Config
from ingest.common import SourceReport, read_table
from ingest.standardize import Standardized, standardize_many

if TYPE_CHECKING:
    from ingest.drugs import DrugRecord

CHEMBL_SOURCES = ("chembl-ellinger", "chembl-touret", "chembl-heiser")
_PAREN = re.compile(r"\s*\(([^)]*)\)\s*")


def name_keys(name: str | None) -> set[str]:
    """Lower-case forms a compound name is matched by: ``REMDESIVIR (GS-5734)`` -> remdesivir (gs-5734),
    remdesivir, gs-5734."""
    text = (name or "").strip().lower()
    if not text:
        return set()
    keys = {text}
    bare = _PAREN.sub(" ", text).strip()
    if bare:
        keys.add(bare)
    keys.update(a.strip() for a in _PAREN.findall(text) if a.strip())
    return keys


def display_name(row: dict[str, str]) -> str:
    """The assay file's name for a compound, lower-cased when it is an all-capitals INN."""
    name = (row.get("parent_name") or row.get("name") or row.get("compound_key") or "").strip()
    name = _PAREN.sub(" ", name).strip() or name
    return name.lower() if name.isupper() and not any(ch.isdigit() for ch in name) else name


def read_compounds(config: Config) -> list[dict[str, str]]:
    """Rows of the ChEMBL assay files that carry a parent structure."""
    rows: list[dict[str, str]] = []
    for source in CHEMBL_SOURCES:
        table = read_table(source, config, delimiter=",",
                           required=("parent_chembl_id", "parent_smiles", "chembl_id", "name"))
        rows.extend(r for r in table if r["parent_smiles"])
    return rows


def merge_chembl(
    config: Config,
    report: SourceReport,
    record_for: Callable[[Standardized], DrugRecord],
    fda_missing: Iterable[tuple[int, str]],
    chembl_of_struct: dict[int, set[str]],
    names_of_struct: dict[int, set[str]],
) -> tuple[dict[int, str], int]:
    """Merge every ChEMBL assay compound into the drug records (``record_for`` returns the record of a
    standardised structure, creating it); return ``{struct_id: inchikey}`` for the FDA-approved ids in
    ``fda_missing`` that a compound fills, and how many compounds were merged."""
    rows = read_compounds(config)
    std = standardize_many([r["parent_smiles"] for r in rows], cache_dir=config.home / "cache")
    by_chembl: dict[str, str] = {}
    by_name: dict[str, str] = {}
    merged = 0
    for r in rows:
        res = std.get(r["parent_smiles"])
        if not isinstance(res, Standardized):
            continue
        rec = record_for(res)
        merged += 1
        chembl_ids = [c for c in (r["parent_chembl_id"], r["chembl_id"]) if c]
        for cid in chembl_ids:
            rec.ident("chembl_id", cid)
            by_chembl.setdefault(cid.upper(), res.inchikey)
        if chembl_ids and not rec.chembl and not rec.drugcentral_ids:  # DrugCentral's own ChEMBL id comes first
            rec.chembl.append(chembl_ids[0])
        rec.set_name(display_name(r), (6, 0))
        for col in ("parent_name", "name", "compound_key"):
            if r.get(col):
                rec.synonym(_PAREN.sub(" ", r[col]).strip() or r[col], "chembl")
                for key in name_keys(r[col]):
                    by_name.setdefault(key, res.inchikey)
    filled: dict[int, str] = {}
    for sid, name in fda_missing:
        ik = next((by_chembl[c.upper()] for c in sorted(chembl_of_struct.get(sid, ())) if c.upper() in by_chembl),
                  None)
        if ik is None:
            for candidate in [name, *sorted(names_of_struct.get(sid, ()))]:
                ik = next((by_name[k] for k in sorted(name_keys(candidate)) if k in by_name), None)
                if ik is not None:
                    break
        if ik is not None:
            filled[sid] = ik
    report.details["chembl_compounds"] = merged
    return filled, merged


def struct_maps(by_struct: dict[int, list[dict[str, str]]]) -> tuple[dict[int, set[str]], dict[int, set[str]]]:
    """DrugCentral identifiers per struct_id: its ChEMBL ids and its names."""
    chembl: dict[int, set[str]] = {}
    names: dict[int, set[str]] = {}
    for sid, rows in by_struct.items():
        for row in rows:
            if row["ID_TYPE"] == "ChEMBL_ID" and row["IDENTIFIER"]:
                chembl.setdefault(sid, set()).add(row["IDENTIFIER"])
            if row["DRUG_NAME"]:
                names.setdefault(sid, set()).add(row["DRUG_NAME"])
    return chembl, names

