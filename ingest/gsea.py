"""DockCoV2's CMap GSEA scores -> GseaScore: one row per (CMap instance, infection signature)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from dockdb.config import Config
from dockdb.models import GseaScore
from ingest.common import SourceReport, clip, read_table, sync_rows, to_float
from ingest.matching import DrugIndex

# column prefix -> signature name
SIGNATURES = {"mers1": "MERS", "sars1": "SARS", "sars2": "SARS-CoV-2"}


def ingest_gsea(session: Session, config: Config, report: SourceReport) -> None:
    """Load DockCoV2's CMap GSEA scores and p-values per drug against the MERS, SARS and SARS-CoV-2 signatures."""
    cols = [f"{p}_{s}" for p in SIGNATURES for s in ("es", "p")]
    rows = read_table("dockcov2-gsea", config, required=("cmap_instance", "drugbank_id", "name", "dose", "cell_line",
                                                         *cols))
    report.read = len(rows)
    index = DrugIndex.load(session)
    out = []
    unmatched: set[str] = set()
    for r in rows:
        if not r["cmap_instance"]:
            report.rejected += 1
            continue
        did = index.by_drugbank(r["drugbank_id"]) or index.by_name(r["name"])
        if did is None:
            report.unmatched += 1
            unmatched.add(r["drugbank_id"])
            continue
        for prefix, signature in SIGNATURES.items():
            out.append({"drug_id": did, "instance": clip(r["cmap_instance"], 64), "signature": signature,
                        "dose": clip(r["dose"], 64) or None, "cell_line": clip(r["cell_line"], 64) or None,
                        "enrichment_score": to_float(r[f"{prefix}_es"]), "p_value": to_float(r[f"{prefix}_p"])})
    report.details["unmatched_drugbank_ids"] = len(unmatched)
    report.details["scores"] = len(out)
    report.add(sync_rows(session, GseaScore, ("drug_id", "instance", "signature"), out), "gsea_score")
