"""Drug -> target genes: DrugCentral drug-target interactions, the Repurposing Hub's target
lists, and DrugCentral's Entrez-gene table (via rephetio).

The Entrez table names genes only by NCBI GeneID and no source in the manifest is a GeneID ->
symbol table, so each GeneID is mapped to the gene symbol of DrugCentral's own drug-target table
(its GENE column) that the same drugs target: the symbol shared by the most of the GeneID's drugs,
when it is shared by at least two of them and by at least half, and no other symbol ties it
(:func:`entrez_symbols`).  Mapped rows are stored under the symbol (``entrez_id`` kept) and take
part in the Reactome enrichment; the others stay ``gene = 'NCBIGene:<id>'``.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from dockdb.config import Config
from dockdb.models import DrugTarget
from ingest.common import SourceReport, clip, read_table, sync_rows, to_int
from ingest.drugs import broad_compound_id
from ingest.matching import DrugIndex

MIN_SHARED_DRUGS = 2
MIN_SHARED_FRACTION = 0.5


def entrez_symbols(entrez_drugs: dict[int, set[int]], symbol_drugs: dict[str, set[int]]) -> dict[int, str]:
    """``{GeneID: symbol}`` from the drugs each names: the symbol whose drugs overlap the GeneID's drugs most,
    when the overlap is at least MIN_SHARED_DRUGS and MIN_SHARED_FRACTION of the GeneID's drugs and unique."""
    by_drug: dict[int, set[str]] = defaultdict(set)
    for symbol, drugs in symbol_drugs.items():
        for d in drugs:
            by_drug[d].add(symbol)
    out: dict[int, str] = {}
    for gid, drugs in entrez_drugs.items():
        shared = Counter(sym for d in drugs for sym in by_drug.get(d, ()))
        top = shared.most_common(2)
        if not top:
            continue
        symbol, n = top[0]
        if n >= MIN_SHARED_DRUGS and n >= MIN_SHARED_FRACTION * len(drugs) and (len(top) == 1 or top[1][1] < n):
            out[gid] = symbol
    return out


def ingest_drug_targets(session: Session, config: Config, report: SourceReport) -> None:
    """Load drug-target genes from DrugCentral, the Repurposing Hub and DrugCentral's Entrez table."""
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

    symbol_drugs: dict[str, set[int]] = defaultdict(set)
    for (did, gene, source) in rows:
        if source == "drugcentral":
            symbol_drugs[gene].add(did)
    entrez_rows: list[tuple[int, int, str]] = []
    entrez_drugs: dict[int, set[int]] = defaultdict(set)
    for r in entrez:
        did = index.by_drugbank(r["drugbank_id"])
        gid = to_int(r["GeneID"])
        if did is None or gid is None:
            unmatched.add(f"drugbank:{r['drugbank_id']}")
            continue
        entrez_rows.append((did, gid, r["actions"]))
        entrez_drugs[gid].add(did)
    symbols = entrez_symbols(entrez_drugs, symbol_drugs)
    for did, gid, actions in entrez_rows:
        add(did, symbols.get(gid, f"NCBIGene:{gid}"), "drugcentral-entrez", entrez_id=gid,
            action=clip(actions, 128) or None)
    report.details["entrez_genes"] = len(entrez_drugs)
    report.details["entrez_genes_mapped"] = len(symbols)

    report.unmatched = len(unmatched)
    report.details["drug_targets"] = len(rows)
    report.add(sync_rows(session, DrugTarget, ("drug_id", "gene", "source"), list(rows.values())), "drug_target")
    # an Entrez row stored under NCBIGene:<id> by an earlier ingest that now maps to a symbol
    keep = {(did, gene) for (did, gene, source) in rows if source == "drugcentral-entrez"}
    stale = [rid for rid, did, gene in session.execute(
        select(DrugTarget.id, DrugTarget.drug_id, DrugTarget.gene).where(DrugTarget.source == "drugcentral-entrez"))
        if (did, gene) not in keep]
    if stale:
        session.execute(delete(DrugTarget).where(DrugTarget.id.in_(stale)))
