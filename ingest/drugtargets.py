"""Drug -> target genes: DrugCentral drug-target interactions, the Repurposing Hub's target
lists, and DrugCentral's Entrez-gene table (via rephetio).

The Entrez table names genes only by NCBI GeneID; no source in the manifest maps GeneIDs to
symbols, so those rows are stored as ``gene = 'NCBIGene:<id>'`` with ``entrez_id`` set, and
take no part in the (symbol-based) Reactome enrichment.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from dockdb.config import Config
from dockdb.models import DrugTarget
from ingest.common import SourceReport, clip, read_table, sync_rows, to_int
from ingest.drugs import broad_compound_id
from ingest.matching import DrugIndex


def ingest_drug_targets(session: Session, config: Config, report: SourceReport) -> None:
    dc = read_table("drugcentral-drug-target", config,
                    required=("DRUG_ID", "TARGET_NAME", "UNIPROT", "GENE", "ACTION_TYPE"))
    hub = read_table("broad-drugs", config, required=("pert_iname", "target"))
    samples = read_table("broad-samples", config, required=("broad_id", "pert_iname"))
    entrez = read_table("drugcentral-targets-entrez", config, required=("GeneID", "drugbank_id", "actions"))
    report.read = len(dc) + len(hub) + len(entrez)
    index = DrugIndex.load(session)
    rows: dict[tuple[int, str, str], dict] = {}

    def add(drug_id: int, gene: str, source: str, **values: object) -> None:
        key = (drug_id, clip(gene, 64) or "", source)
        row = rows.get(key)
        if row is None:
            rows[key] = {"drug_id": drug_id, "gene": key[1], "source": source, "uniprot": None,
                         "entrez_id": None, "target_name": None, "action": None, **values}
        elif values.get("action") and row["action"] and values["action"] not in row["action"].split("; "):
            row["action"] = clip(f"{row['action']}; {values['action']}", 128)

    unmatched: set[str] = set()
    for r in dc:
        did = index.by_identifier("drugcentral_id", r["DRUG_ID"])
        if did is None:
            unmatched.add(f"drugcentral:{r['DRUG_ID']}")
            continue
        genes = [g.strip() for g in r["GENE"].split("|") if g.strip()]
        uniprots = [u.strip() for u in r["UNIPROT"].split("|")]
        for i, gene in enumerate(genes):
            uni = uniprots[i] if len(uniprots) == len(genes) else None
            add(did, gene, "drugcentral", uniprot=clip(uni, 32), target_name=r["TARGET_NAME"] or None,
                action=clip(r["ACTION_TYPE"], 128) or None)

    compounds: dict[str, set[str]] = {}
    for s in samples:
        compounds.setdefault(s["pert_iname"], set()).add(broad_compound_id(s["broad_id"]))
    for r in hub:
        genes = [g.strip() for g in r["target"].split("|") if g.strip()]
        if not genes:
            continue
        dids = {d for c in compounds.get(r["pert_iname"], ()) if (d := index.by_identifier("broad_id", c)) is not None}
        if not dids:
            unmatched.add(f"broad:{r['pert_iname']}")
            continue
        for did in sorted(dids):
            for gene in genes:
                add(did, gene, "broad")

    for r in entrez:
        did = index.by_drugbank(r["drugbank_id"])
        gid = to_int(r["GeneID"])
        if did is None or gid is None:
            unmatched.add(f"drugbank:{r['drugbank_id']}")
            continue
        add(did, f"NCBIGene:{gid}", "drugcentral-entrez", entrez_id=gid, action=clip(r["actions"], 128) or None)

    report.unmatched = len(unmatched)
    report.details["drug_targets"] = len(rows)
    report.add(sync_rows(session, DrugTarget, ("drug_id", "gene", "source"), list(rows.values())), "drug_target")
