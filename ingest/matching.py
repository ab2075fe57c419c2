"""Find the drug an annotation row is about: by InChIKey, ChEMBL, DrugBank, PubChem CID or name."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from dockdb.models import Drug, DrugIdentifier, DrugSynonym


def _norm_cid(value: object) -> str | None:
    text = str(value).strip() if value is not None else ""
    if not text:
        return None
    try:
        return str(int(float(text)))
    except ValueError:
        return None


# identifier kinds annotations are matched on (the other kinds are for display only)
MATCH_KINDS = ("pubchem_cid", "drugbank_id", "chembl_id", "drugcentral_id", "broad_id")


@dataclass
class DrugIndex:
    """Lookup tables of every drug in the database, built once per ingest step."""

    inchikey: dict[str, int] = field(default_factory=dict)
    ids: dict[str, dict[str, set[int]]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(set)))
    names: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    rank: dict[int, tuple[int, int, int]] = field(default_factory=dict)
    primary: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))

    @classmethod
    def load(cls, session: Session) -> DrugIndex:
        """An index of every stored drug by InChIKey, identifier and name, read in one query."""
        idx = cls()
        for did, ik, cid, dbid, chembl, name_lower, dcid in session.execute(
            select(Drug.id, Drug.inchikey, Drug.pubchem_cid, Drug.drugbank_id, Drug.chembl_id, Drug.name_lower,
                   Drug.drugcentral_id)
        ):
            idx.inchikey[ik] = did
            idx.rank[did] = (0 if dcid is not None else 1, 0 if dbid else 1, did)
            if cid is not None:
                idx.ids["pubchem_cid"][str(cid)].add(did)
            if dbid:
                idx.ids["drugbank_id"][dbid.upper()].add(did)
            if chembl:
                idx.ids["chembl_id"][chembl.upper()].add(did)
            idx.names[name_lower].add(did)
            idx.primary[name_lower].add(did)
        stmt = select(DrugIdentifier.drug_id, DrugIdentifier.kind, DrugIdentifier.value).where(
            DrugIdentifier.kind.in_(MATCH_KINDS))
        for did, kind, value in session.execute(stmt):
            v = _norm_cid(value) if kind == "pubchem_cid" else value.upper()
            if v:
                idx.ids[kind][v].add(did)
        for did, name_lower in session.execute(select(DrugSynonym.drug_id, DrugSynonym.name_lower)):
            idx.names[name_lower].add(did)
        return idx

    def by_identifier(self, kind: str, value: str | None) -> int | None:
        """The drug with identifier *kind* = *value* (lowest id when shared), or None."""
        if not value:
            return None
        v = _norm_cid(value) if kind == "pubchem_cid" else value.strip().upper()
        hits = self.ids.get(kind, {}).get(v or "")
        if hits:
            return min(hits)  # deterministic if an identifier is shared by two parents
        return None

    def by_inchikey(self, inchikey: str | None) -> int | None:
        """The drug with this InChIKey (case-insensitive), or None."""
        return self.inchikey.get((inchikey or "").strip().upper()) if inchikey else None

    def by_chembl(self, chembl_id: str | None) -> int | None:
        """The drug with this ChEMBL id, or None."""
        return self.by_identifier("chembl_id", chembl_id)

    def by_drugbank(self, drugbank_id: str | None) -> int | None:
        """The drug with this DrugBank id, or None."""
        return self.by_identifier("drugbank_id", drugbank_id)

    def by_cid(self, cid: object) -> int | None:
        """The drug with this PubChem CID, or None."""
        return self.by_identifier("pubchem_cid", None if cid is None else str(cid))

    def by_name(self, name: str | None) -> int | None:
        """Exact, case-insensitive match to a drug name or synonym.

        A name shared by several parents (typically one drug with stereo specified in one source
        and not in another) goes to the drug whose own name it is, preferring the DrugCentral entry.
        """
        if not name:
            return None
        low = name.strip().lower()
        hits = self.names.get(low)
        if not hits:
            return None
        if len(hits) == 1:
            return next(iter(hits))
        primary = [d for d in hits if d in self.primary.get(low, ())]
        return min(primary or hits, key=lambda d: self.rank.get(d, (9, 9, d)))
