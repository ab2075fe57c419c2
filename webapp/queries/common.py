"""Shared pieces: pagination, drug summaries, links out, LIKE escaping, residues."""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass, field
from typing import Any

from dockdb import models as m

DESCRIPTORS: tuple[str, ...] = ("mw", "clogp", "hbd", "hba", "tpsa", "rotatable_bonds", "heavy_atoms")
DESCRIPTOR_LABELS: dict[str, str] = {
    "mw": "MW",
    "clogp": "cLogP",
    "hbd": "HBD",
    "hba": "HBA",
    "tpsa": "TPSA",
    "rotatable_bonds": "Rot. bonds",
    "heavy_atoms": "Heavy atoms",
}
DRUG_SUMMARY_COLUMNS = (
    m.Drug.id,
    m.Drug.name,
    m.Drug.smiles,
    m.Drug.inchikey,
    m.Drug.pubchem_cid,
    m.Drug.drugbank_id,
    m.Drug.chembl_id,
    m.Drug.approval_status,
    m.Drug.clinical_phase,
    *(getattr(m.Drug, d) for d in DESCRIPTORS),
)


@dataclass
class Page:
    """One page of a listing: its items, the total count, page number and size, and extra fields."""
    items: list[dict[str, Any]]
    total: int
    page: int
    page_size: int
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        """Number of pages (at least 1)."""
        return max(1, math.ceil(self.total / self.page_size)) if self.page_size else 1

    def as_dict(self) -> dict[str, Any]:
        """The page as a JSON-ready dict, extra fields included."""
        return {
            "items": self.items,
            "total": self.total,
            "page": self.page,
            "page_size": self.page_size,
            "pages": self.pages,
            **self.extra,
        }


def like_escape(text: str) -> str:
    """Escape LIKE wildcards so user text matches literally (use with ``escape='\\\\'``)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def rounded(value: float | int | None, digits: int = 2) -> float | int | None:
    """*value* rounded to *digits* decimals; integers and None unchanged."""
    if value is None or isinstance(value, int):
        return value
    return round(float(value), digits)


def drug_summary(row: Any) -> dict[str, Any]:
    """A drug's headline fields from a row selected with :data:`DRUG_SUMMARY_COLUMNS`."""
    out = {
        "id": row.id,
        "name": row.name,
        "smiles": row.smiles,
        "inchikey": row.inchikey,
        "pubchem_cid": row.pubchem_cid,
        "drugbank_id": row.drugbank_id,
        "chembl_id": row.chembl_id,
        "approval_status": row.approval_status,
        "clinical_phase": row.clinical_phase,
    }
    for d in DESCRIPTORS:
        out[d] = rounded(getattr(row, d))
    return out


def identifier_links(drug: m.Drug) -> list[dict[str, str]]:
    """Links out to the public databases that know this drug."""
    links: list[dict[str, str]] = []
    if drug.pubchem_cid:
        links.append(
            {
                "db": "PubChem",
                "id": str(drug.pubchem_cid),
                "url": f"https://pubchem.ncbi.nlm.nih.gov/compound/{int(drug.pubchem_cid)}",
            }
        )
    if drug.drugbank_id and re.fullmatch(r"DB\d{5}", drug.drugbank_id):
        links.append(
            {"db": "DrugBank", "id": drug.drugbank_id, "url": f"https://go.drugbank.com/drugs/{drug.drugbank_id}"}
        )
    if drug.chembl_id and re.fullmatch(r"CHEMBL\d+", drug.chembl_id):
        links.append(
            {
                "db": "ChEMBL",
                "id": drug.chembl_id,
                "url": f"https://www.ebi.ac.uk/chembl/compound_report_card/{drug.chembl_id}/",
            }
        )
    if drug.drugcentral_id:
        links.append(
            {
                "db": "DrugCentral",
                "id": str(drug.drugcentral_id),
                "url": f"https://drugcentral.org/drugcard/{int(drug.drugcentral_id)}",
            }
        )
    return links


# words that follow a hyphen in real Reactome names ("maresin-like", "Ca2+-dependent"): the hyphen stays
_HYPHEN_SUFFIXES = frozenset({"like", "dependent", "independent", "induced", "mediated", "associated", "specific",
                              "binding", "containing", "coupled", "linked", "type", "rich", "activated", "regulated",
                              "derived", "only"})


_STOPWORDS = frozenset({"of", "to", "and", "the", "from", "by", "with", "in", "on", "for", "into", "via"})


def pathway_name(name: str) -> str:
    """A Reactome pathway name as Reactome writes it: the GMT file joins words with hyphens
    ("Activation-of-Matrix-Metalloproteinases"); names that already have spaces are left alone.
    Kept hyphens: before -like/-dependent/..., after a number ("2-oxoglutarate"), before a short number
    ("HIV-1", "BCL-2") and inside short capitalised names ("SARS-CoV-2")."""
    if " " in name or "-" not in name:
        return name
    words = name.split("-")
    out = words[0]
    joined = False  # whether prev was itself kept hyphenated to the word before it ("HIV-1")
    for i, (prev, word) in enumerate(itertools.pairwise(words)):
        before = words[i - 1] if i > 0 else ""
        locant = prev.isdigit() and not joined and (not before or before in _STOPWORDS or before[:1].isupper())
        keep = (
            word.lower().strip("()") in _HYPHEN_SUFFIXES
            or (locant and word[:1].isalpha())  # 2-LTR, of 2-oxoglutarate, Phosphoribose 1-diphosphate
            or (word.isdigit() and len(word) <= 2 and (len(prev) == 1 or (any(c.isupper() for c in prev)
                                                                          and len(prev) <= 5)))  # HIV-1, ω-3
            or (prev.isupper() and len(prev) <= 5 and word[:1].isupper() and len(word) <= 4)  # SARS-CoV
        )
        out += ("-" if keep else " ") + word
        joined = keep
    return out


def reactome_url(reactome_id: str) -> str | None:
    """Reactome's page of pathway *reactome_id* (a bare number is taken as R-HSA-), or None when malformed."""
    rid = reactome_id.strip()
    if re.fullmatch(r"\d+", rid):
        rid = f"R-HSA-{rid}"
    if not re.fullmatch(r"R-[A-Z]{3}-\d+(\.\d+)?", rid):
        return None
    return f"https://reactome.org/content/detail/{rid}"


_THREE = re.compile(r"^([A-Za-z]{3})(-?\d+)([A-Za-z]?)\*?$")
_CHAIN_NUM = re.compile(r"^([A-Za-z0-9]):?([A-Za-z]{3})?(-?\d+)$")


def normalise_residue(item: Any, default_chain: str | None = None) -> dict[str, Any] | None:
    """One pocket residue from any stored shape (``'A:145'``, ``'Thr24'``, ``['A', 145]``, dict)."""
    chain: str | None = default_chain
    resname: str | None = None
    resnum: int | None = None
    if isinstance(item, dict):
        chain = item.get("chain") or chain
        resname = item.get("resname") or item.get("name")
        num = item.get("resnum", item.get("number", item.get("resi")))
        resnum = int(num) if isinstance(num, int | float | str) and str(num).lstrip("-").isdigit() else None
    elif isinstance(item, list | tuple) and len(item) >= 2:
        chain = str(item[0])
        resnum = int(item[1]) if str(item[1]).lstrip("-").isdigit() else None
        resname = str(item[2]) if len(item) > 2 else None
    elif isinstance(item, str):
        text = item.strip()
        if (mt := _CHAIN_NUM.match(text)) is not None:
            chain, resname, resnum = mt.group(1), mt.group(2), int(mt.group(3))
        elif (mt := _THREE.match(text)) is not None:
            resname, resnum = mt.group(1), int(mt.group(2))
        elif text.lstrip("-").isdigit():
            resnum = int(text)
    elif isinstance(item, int):
        resnum = item
    if resnum is None:
        return None
    return {"chain": chain, "resnum": resnum, "resname": resname.upper() if resname else None}


def normalise_residues(items: Any, default_chain: str | None = None) -> list[dict[str, Any]]:
    """Pocket residues (a list, or text split on commas and spaces) as chain/name/number dicts."""
    if isinstance(items, str):
        items = items.replace(",", " ").split()
    if not isinstance(items, list):
        return []
    out = [normalise_residue(i, default_chain) for i in items]
    return [r for r in out if r is not None]


def pocket_dict(pocket: m.Pocket, default_chain: str | None = None) -> dict[str, Any]:
    """A pocket as a JSON-ready dict: kind, basis, box and residues."""
    return {
        "id": pocket.id,
        "kind": pocket.kind,
        "basis": pocket.basis,
        "center": [rounded(v, 3) for v in pocket.center],
        "size": [rounded(v, 3) for v in pocket.size],
        "residues": normalise_residues(pocket.residues, default_chain),
        "literature": pocket.literature,
    }
