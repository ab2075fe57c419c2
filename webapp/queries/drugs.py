"""Drugs: search by name/synonym/identifier, detail, scores with percentiles, evidence."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, literal, select, union_all
from sqlalchemy.orm import Session

from dockdb import models as m
from webapp.params import NotFound
from webapp.queries.common import (
    DESCRIPTORS,
    DRUG_SUMMARY_COLUMNS,
    Page,
    drug_summary,
    identifier_links,
    like_escape,
    pathway_name,
    reactome_url,
    rounded,
)
from webapp.queries.reference import annotate_scores
from webapp.queries.targets import FAILED_REFERENCE_NOTE, REFERENCE_SOURCE

MAX_POSES_LISTED = 500


def _identifier_matches(q: str) -> list[Any]:
    """Selects of (drug_id, rank, matched) for exact identifier hits."""
    up = q.upper()
    d = m.Drug
    parts: list[Any] = [
        select(d.id.label("drug_id"), literal(0).label("rank"), d.inchikey.label("matched")).where(d.inchikey == up),
        select(d.id, literal(0), d.drugbank_id).where(d.drugbank_id == up),
        select(d.id, literal(0), d.chembl_id).where(d.chembl_id == up),
        select(m.DrugIdentifier.drug_id, literal(0), m.DrugIdentifier.value).where(
            m.DrugIdentifier.value.in_(sorted({q, up}))
        ),
    ]
    digits = re.fullmatch(r"(?:CID)?:?\s*(\d{1,10})", up)
    if digits and int(digits.group(1)) < 2**31:
        number = int(digits.group(1))
        parts.append(select(d.id, literal(0), d.name).where(d.pubchem_cid == number))
        parts.append(select(d.id, literal(1), d.name).where(d.drugcentral_id == number))
    return parts


def search_statement(q: str) -> Any:
    """Ranked matches: exact name or identifier (0/1), name prefix (2), synonym prefix (3), contains (4/5)."""
    ql = q.lower()
    esc = like_escape(ql)
    d, s = m.Drug, m.DrugSynonym
    parts = [
        select(d.id.label("drug_id"), literal(0).label("rank"), d.name.label("matched")).where(d.name_lower == ql),
        select(s.drug_id, literal(1), s.name).where(s.name_lower == ql),
        *_identifier_matches(q),
        select(d.id, literal(2), d.name).where(d.name_lower.like(f"{esc}%", escape="\\")),
        select(s.drug_id, literal(3), s.name).where(s.name_lower.like(f"{esc}%", escape="\\")),
    ]
    if len(ql) >= 3:
        parts.append(select(d.id, literal(4), d.name).where(d.name_lower.like(f"%{esc}%", escape="\\")))
        parts.append(select(s.drug_id, literal(5), s.name).where(s.name_lower.like(f"%{esc}%", escape="\\")))
    hits = union_all(*parts).subquery("hits")
    return (
        select(hits.c.drug_id, func.min(hits.c.rank).label("rank"), func.min(hits.c.matched).label("matched"))
        .group_by(hits.c.drug_id)
        .subquery("best")
    )


def search_drugs(
    session: Session,
    q: str | None,
    page: int,
    page_size: int,
    approval_status: str | None = None,
) -> Page:
    """Drugs matching *q* (best matches first), or all drugs by name when *q* is empty."""
    d = m.Drug
    if q:
        best = search_statement(q)
        stmt = select(*DRUG_SUMMARY_COLUMNS, best.c.rank, best.c.matched).join(best, best.c.drug_id == d.id)
        order = (best.c.rank, d.name_lower, d.id)
    else:
        stmt = select(*DRUG_SUMMARY_COLUMNS, literal(None).label("rank"), literal(None).label("matched"))
        order = (d.name_lower, d.id)
    if approval_status:
        stmt = stmt.where(func.lower(d.approval_status) == approval_status.lower())
    total = int(session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
    rows = session.execute(stmt.order_by(*order).limit(page_size).offset((page - 1) * page_size)).all()
    items = []
    for r in rows:
        item = drug_summary(r)
        item["matched"] = r.matched if r.matched and r.matched != r.name else None
        item["match"] = match_note(q, r.rank, item["matched"], r.name)
        items.append(item)
    return Page(items, total, page, page_size, {"q": q})


# search_statement's ranks: what kind of text matched
_MATCH_KINDS = {0: "exact", 1: "exact", 2: "starts with", 3: "starts with", 4: "contains", 5: "contains"}


def match_note(q: str | None, rank: int | None, matched: str | None, name: str) -> str:
    """How a search hit matched, for the results table: ``name (exact)``, ``synonym Futhan``,
    ``identifier DB12598``."""
    if not q or rank is None:
        return ""
    kind = _MATCH_KINDS.get(int(rank), "")
    if matched is None:  # the drug's own name matched, or a number did (PubChem CID, DrugCentral id)
        return f"name ({kind})" if q.lower() in name.lower() else f"identifier {q}"
    return f"synonym {matched} ({kind})" if rank in (1, 3, 5) else f"identifier {matched}"


def get_drug_model(session: Session, drug_id: int) -> m.Drug:
    """The Drug *drug_id*; NotFound when there is none."""
    drug = session.get(m.Drug, drug_id)
    if drug is None:
        raise NotFound(f"no drug with id {drug_id}")
    return drug


def drug_detail(session: Session, drug_id: int) -> dict[str, Any]:
    """A drug with its synonyms, identifiers and descriptors as a JSON-ready dict."""
    drug = get_drug_model(session, drug_id)
    synonyms = session.scalars(
        select(m.DrugSynonym.name).where(m.DrugSynonym.drug_id == drug.id).order_by(m.DrugSynonym.name_lower).limit(200)
    ).all()
    identifiers = session.execute(
        select(m.DrugIdentifier.kind, m.DrugIdentifier.value)
        .where(m.DrugIdentifier.drug_id == drug.id)
        .order_by(m.DrugIdentifier.kind, m.DrugIdentifier.value)
    ).all()
    return {
        "id": drug.id,
        "name": drug.name,
        "smiles": drug.smiles,
        "inchikey": drug.inchikey,
        "pubchem_cid": drug.pubchem_cid,
        "drugbank_id": drug.drugbank_id,
        "chembl_id": drug.chembl_id,
        "drugcentral_id": drug.drugcentral_id,
        "cas": drug.cas,
        "approval_status": drug.approval_status,
        "clinical_phase": drug.clinical_phase,
        "mechanism": drug.mechanism,
        "descriptors": {k: rounded(getattr(drug, k)) for k in DESCRIPTORS},
        "synonyms": list(synonyms),
        "identifiers": [{"kind": k, "value": v} for k, v in identifiers],
        "links": identifier_links(drug),
    }


# display names of the cross-reference kinds the drug sources use; other kinds are shown as stored
IDENTIFIER_LABELS = {
    "pubchem_cid": "PubChem CID",
    "drugbank_id": "DrugBank",
    "chembl_id": "ChEMBL",
    "drugcentral_id": "DrugCentral",
    "broad_id": "Broad ID",
    "cas": "CAS",
    "chebi": "ChEBI",
    "inn_id": "INN",
    "iuphar_ligand_id": "IUPHAR/BPS ligand",
    "kegg_drug": "KEGG Drug",
    "mesh_descriptor_ui": "MeSH descriptor",
    "mesh_supplemental_record_ui": "MeSH supplementary concept",
    "mmsl": "MMSL",
    "nddf": "NDDF",
    "ndfrt": "NDF-RT",
    "nui": "NDF-RT NUI",
    "pdb_chem_id": "PDB ligand",
    "rxnorm": "RxNorm",
    "snomedct_us": "SNOMED CT (US)",
    "umlscui": "UMLS CUI",
    "unii": "UNII",
    "vandf": "VA NDF",
    "vuid": "VUID",
}
# identifier kinds the page already shows as headlines (links out, CAS); ingest names them after the drug columns
HEADLINE_KINDS = ("pubchem_cid", "drugbank_id", "chembl_id", "drugcentral_id", "cas")


def other_identifiers(detail: dict[str, Any]) -> list[dict[str, Any]]:
    """The drug's cross-references not already shown as headline identifiers, one entry per kind
    (label and all its values), for the drug page."""
    grouped: dict[str, list[str]] = {}
    for ident in detail["identifiers"]:
        if ident["kind"] in HEADLINE_KINDS and str(detail[ident["kind"]]) == ident["value"]:
            continue
        grouped.setdefault(ident["kind"], []).append(ident["value"])
    return [{"label": IDENTIFIER_LABELS.get(k, k), "values": v} for k, v in grouped.items()]


def _percentile(better_or_equal_worse: int, total: int) -> float | None:
    return None if total == 0 else round(100.0 * better_or_equal_worse / total, 1)


def drug_scores(session: Session, drug_id: int) -> list[dict[str, Any]]:
    """The drug's scores on every target: ours per campaign and DockCoV2's, each with percentile.

    ``percentile`` is the share of drugs on that target (same campaign / source) that the
    drug scores at least as well as: 100 = best; ``rank`` is 1 for the best score.
    """
    get_drug_model(session, drug_id)
    dr = m.DockingResult
    rows = session.execute(
        select(
            m.Target.id,
            m.Target.key,
            m.Target.name,
            dr.campaign_id,
            m.Campaign.name,
            func.min(dr.best_score),
        )
        .join(m.Receptor, m.Receptor.id == dr.receptor_id)
        .join(m.Target, m.Target.id == m.Receptor.target_id)
        .join(m.Campaign, m.Campaign.id == dr.campaign_id)
        .where(dr.drug_id == drug_id, dr.status == "done", dr.best_score.is_not(None))
        .group_by(m.Target.id, m.Target.key, m.Target.name, dr.campaign_id, m.Campaign.name)
        .order_by(m.Target.key, dr.campaign_id)
    ).all()
    out: list[dict[str, Any]] = []
    for target_id, key, name, campaign_id, campaign_name, score in rows:
        base = (
            select(func.count())
            .select_from(dr)
            .join(m.Receptor, m.Receptor.id == dr.receptor_id)
            .where(
                m.Receptor.target_id == target_id,
                dr.campaign_id == campaign_id,
                dr.status == "done",
                dr.best_score.is_not(None),
            )
        )
        total = int(session.scalar(base) or 0)
        better = int(session.scalar(base.where(dr.best_score < score)) or 0)
        out.append(
            {
                "target": key,
                "target_name": name,
                "source": "dockdb",
                "campaign_id": campaign_id,
                "campaign": campaign_name,
                "score": rounded(score),
                "rank": better + 1,
                "of": total,
                "percentile": _percentile(total - better, total),
                "note": None,
            }
        )
    rs = m.ReferenceScore
    refs = session.execute(
        select(m.Target.id, m.Target.key, m.Target.name, func.min(rs.score))
        .join(m.Target, m.Target.id == rs.target_id)
        .where(rs.drug_id == drug_id, rs.source == REFERENCE_SOURCE)
        .group_by(m.Target.id, m.Target.key, m.Target.name)
        .order_by(m.Target.key)
    ).all()
    for target_id, key, name, score in refs:
        if score is None:  # every DockCoV2 row of the pair published 0.0
            out.append({"target": key, "target_name": name, "source": REFERENCE_SOURCE, "campaign_id": None,
                        "campaign": "DockCoV2 (published)", "score": None, "rank": None, "of": None,
                        "percentile": None, "note": FAILED_REFERENCE_NOTE})
            continue
        base = select(func.count()).where(rs.target_id == target_id, rs.source == REFERENCE_SOURCE,
                                          rs.score.is_not(None))
        total = int(session.scalar(base) or 0)
        better = int(session.scalar(base.where(rs.score < score)) or 0)
        out.append(
            {
                "target": key,
                "target_name": name,
                "source": REFERENCE_SOURCE,
                "campaign_id": None,
                "campaign": "DockCoV2 (published)",
                "score": rounded(score),
                "rank": better + 1,
                "of": total,
                "percentile": _percentile(total - better, total),
                "note": None,
            }
        )
    return annotate_scores(session, drug_id, out)


def drug_poses(session: Session, drug_id: int) -> list[dict[str, Any]]:
    """Every stored pose of the drug (best first within each target and campaign)."""
    get_drug_model(session, drug_id)
    dr = m.DockingResult
    rows = session.execute(
        select(
            m.Pose.id,
            m.Pose.rank,
            m.Pose.score,
            m.Pose.sdf.is_not(None).label("has_sdf"),
            dr.campaign_id,
            m.Campaign.name,
            m.Target.key,
            dr.receptor_id,
            m.Pose.posebusters_pass,
            m.Pose.posebusters_failed,
        )
        .join(dr, dr.id == m.Pose.result_id)
        .join(m.Campaign, m.Campaign.id == dr.campaign_id)
        .join(m.Receptor, m.Receptor.id == dr.receptor_id)
        .join(m.Target, m.Target.id == m.Receptor.target_id)
        .where(dr.drug_id == drug_id)
        .order_by(m.Target.key, dr.campaign_id, m.Pose.rank, m.Pose.id)
        .limit(MAX_POSES_LISTED)
    ).all()
    return [
        {
            "id": r[0],
            "rank": r[1],
            "score": rounded(r[2]),
            "has_sdf": bool(r[3]),
            "campaign_id": r[4],
            "campaign": r[5],
            "target": r[6],
            "receptor_id": r[7],
            "posebusters_pass": r[8],
            "posebusters_failed": r[9],
        }
        for r in rows
    ]


def drug_annotations(session: Session, drug_id: int) -> dict[str, Any]:
    """Assay results, drug targets, pathways (with Reactome links), GSEA scores, literature."""
    get_drug_model(session, drug_id)
    assays = session.execute(
        select(m.Assay.key, m.Assay.name, m.Assay.source, m.AssayResult)
        .join(m.AssayResult, m.AssayResult.assay_id == m.Assay.id)
        .where(m.AssayResult.drug_id == drug_id)
        .order_by(m.Assay.key, m.AssayResult.measure)
    ).all()
    targets = session.scalars(
        select(m.DrugTarget).where(m.DrugTarget.drug_id == drug_id).order_by(m.DrugTarget.gene, m.DrugTarget.source)
    ).all()
    pathways = session.execute(
        select(m.Pathway.reactome_id, m.Pathway.name, m.DrugPathway)
        .join(m.DrugPathway, m.DrugPathway.pathway_id == m.Pathway.id)
        .where(m.DrugPathway.drug_id == drug_id)
        .order_by(m.DrugPathway.adj_p_value.is_(None), m.DrugPathway.adj_p_value, m.Pathway.name)
        .limit(500)
    ).all()
    gsea = session.scalars(
        select(m.GseaScore)
        .where(m.GseaScore.drug_id == drug_id)
        .order_by(m.GseaScore.p_value.is_(None), m.GseaScore.p_value, func.abs(m.GseaScore.enrichment_score).desc(),
                  m.GseaScore.instance)
        .limit(500)
    ).all()
    literature = session.scalars(
        select(m.LiteratureRef).where(m.LiteratureRef.drug_id == drug_id).order_by(m.LiteratureRef.source)
    ).all()
    return {
        "drug_id": drug_id,
        "assays": [
            {
                "assay": key,
                "assay_name": name,
                "source": source,
                "measure": ar.measure,
                "value": ar.value,
                "units": ar.units,
                "p_value": ar.p_value,
                "active": ar.active,
                "source_ref": ar.source_ref,
            }
            for key, name, source, ar in assays
        ],
        "targets": drug_targets(targets),
        "pathways": [
            {
                "reactome_id": rid,
                "name": pathway_name(name),
                "url": reactome_url(rid),
                "overlap_genes": dp.overlap_genes or [],
                "p_value": dp.p_value,
                "adj_p_value": dp.adj_p_value,
            }
            for rid, name, dp in pathways
        ],
        "gsea": [
            {
                "instance": g.instance,
                "dose": g.dose,
                "dose_um": dose_micromolar(g.dose),
                "cell_line": g.cell_line,
                "signature": g.signature,
                "enrichment_score": g.enrichment_score,
                "p_value": g.p_value,
            }
            for g in gsea
            if g.enrichment_score  # CMap's ES 0 (p 1): no connection scored for that instance
        ],
        "gsea_unscored": sum(1 for g in gsea if not g.enrichment_score),
        "literature": [
            {
                "source": r.source,
                "ref_key": r.ref_key,
                "title": r.title,
                "doi": r.doi,
                "pmid": r.pmid,
                "url": _safe_url(r.url) or _doi_url(r.doi) or _pmid_url(r.pmid),
                "evidence": r.evidence,
            }
            for r in literature
        ],
    }


def drug_targets(rows: list[m.DrugTarget]) -> list[dict[str, Any]]:
    """One entry per gene (sources list a gene once per action): its actions and sources merged."""
    merged: dict[str, dict[str, Any]] = {}
    for t in rows:
        entry = merged.setdefault(t.gene.upper(), {"gene": t.gene, "uniprot": t.uniprot, "name": t.target_name,
                                                   "actions": [], "sources": []})
        entry["uniprot"] = entry["uniprot"] or t.uniprot
        entry["name"] = entry["name"] or t.target_name
        if t.action and t.action.lower() not in entry["actions"]:
            entry["actions"].append(t.action.lower())
        if t.source and t.source not in entry["sources"]:
            entry["sources"].append(t.source)
    return [{**e, "action": "; ".join(e["actions"]) or None, "source": ", ".join(e["sources"]) or None}
            for e in merged.values()]


def dose_micromolar(dose: str | None) -> float | None:
    """A CMap dose (mol/L, e.g. ``0.0000122``) in µM (12.2), or None when it is not a number."""
    try:
        value = float(dose) if dose is not None else None
    except ValueError:
        return None
    return None if value is None else round(value * 1e6, 4)


def _safe_url(url: str | None) -> str | None:
    return url if url and re.match(r"https?://", url) else None


def _doi_url(doi: str | None) -> str | None:
    return f"https://doi.org/{doi}" if doi and doi.startswith("10.") else None


def _pmid_url(pmid: str | None) -> str | None:
    return f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/" if pmid and pmid.isdigit() else None


def suggest(session: Session, q: str, limit: int = 10) -> list[dict[str, Any]]:
    """Autocomplete: the best few matches for *q* with the text that matched."""
    page = search_drugs(session, q, 1, limit)
    return [{"id": i["id"], "name": i["name"], "matched": i["matched"]} for i in page.items]
