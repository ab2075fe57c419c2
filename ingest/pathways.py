"""Reactome pathways (GMT) and, per drug, the pathways its target genes fall in.

Over-representation p-values come from ``gseapy.enrich`` (hypergeometric test, offline, with
the GMT's genes as background).  Each drug's gene list is the set of its target gene symbols from
every target source: DrugCentral, the Repurposing Hub and DrugCentral's Entrez table (GeneIDs mapped
to symbols, see :mod:`ingest.drugtargets`).  Only pathways sharing a gene with the list are passed
to gseapy -- its result holds only overlapping pathways anyway, and the p-values and Benjamini-Hochberg adjusted
p-values are identical -- and drugs with the same gene set share one enrichment run.
"""

from __future__ import annotations

import contextlib
import io
import logging
from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from dockdb.config import Config
from dockdb.errors import SourceError
from dockdb.models import DrugPathway, DrugTarget, Pathway, PathwayGene
from ingest.common import SourceReport, clip, key_map, source_text, sync_rows

TARGET_SOURCES = ("drugcentral", "broad", "drugcentral-entrez")


def read_gmt(config: Config) -> dict[str, tuple[str, list[str]]]:
    """``{reactome_id: (name, genes)}`` of the Reactome GMT."""
    _, text = source_text("reactome-gmt", config)
    sets: dict[str, tuple[str, list[str]]] = {}
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        parts = line.rstrip("\n").split("\t")
        if len(parts) < 3 or not parts[1].startswith("R-"):
            raise SourceError(f"source reactome-gmt: line {n} is not 'name<TAB>R-HSA-id<TAB>genes...'")
        genes = sorted({g.strip() for g in parts[2:] if g.strip()})
        sets[parts[1].strip()] = (parts[0].strip(), genes)
    if not sets:
        raise SourceError("source reactome-gmt: no gene sets found")
    return sets


def enrich(genes: list[str], gene_sets: dict[str, list[str]], background: list[str]) -> list[dict]:
    """gseapy over-representation of ``genes`` in ``gene_sets``: rows with term, p, adjusted p, genes."""
    import gseapy
    import pandas as pd

    # gseapy attaches a fresh stderr log handler on every call ("No hits returned ..."); keep it quiet
    with contextlib.redirect_stderr(io.StringIO()):
        res = gseapy.enrich(gene_list=genes, gene_sets=gene_sets, background=background, outdir=None,
                            no_plot=True, verbose=False)
    out: list[dict] = []
    if not isinstance(res.results, pd.DataFrame) or res.results.empty:
        return out
    for rec in res.results.to_dict("records"):
        out.append({"term": str(rec["Term"]), "p": float(rec["P-value"]), "adj_p": float(rec["Adjusted P-value"]),
                    "genes": sorted(str(rec["Genes"]).split(";"))})
    return out


def ingest_pathways(session: Session, config: Config, report: SourceReport) -> None:
    """Load Reactome pathways and their genes, then each drug's pathway enrichment from its target genes."""
    gmt = read_gmt(config)
    report.read = len(gmt)
    report.add(sync_rows(session, Pathway, ("reactome_id",),
                         [{"reactome_id": rid, "name": name} for rid, (name, _) in gmt.items()]), "pathway")
    pids = key_map(session, Pathway, "reactome_id")
    genes_rows = [{"pathway_id": pids[rid], "gene": clip(g, 64)} for rid, (_, genes) in gmt.items() for g in genes]
    report.add(sync_rows(session, PathwayGene, ("pathway_id", "gene"), genes_rows, compare=()), "pathway_gene")

    background = sorted({g for _, genes in gmt.values() for g in genes})
    bg = set(background)
    by_gene: dict[str, list[str]] = defaultdict(list)
    for rid, (_, genes) in gmt.items():
        for g in genes:
            by_gene[g].append(rid)
    drug_genes: dict[int, set[str]] = defaultdict(set)
    for did, gene in session.execute(select(DrugTarget.drug_id, DrugTarget.gene)
                                     .where(DrugTarget.source.in_(TARGET_SOURCES))):
        if gene in bg:
            drug_genes[did].add(gene)
    groups: dict[frozenset[str], list[int]] = defaultdict(list)
    for did, genes in drug_genes.items():
        groups[frozenset(genes)].append(did)
    report.details["drugs_with_targets"] = len(drug_genes)
    report.details["distinct_gene_sets"] = len(groups)

    logging.getLogger("gseapy").setLevel(logging.ERROR)
    ordered = sorted(groups.items(), key=lambda kv: sorted(kv[0]))
    jobs = [(sorted(genes), {rid: gmt[rid][1] for g in genes for rid in by_gene[g]}, background)
            for genes, _ in ordered]
    rows = []
    for (_, drugs), hits in zip(ordered, [enrich(*job) for job in jobs], strict=True):
        for hit in hits:
            pid = pids.get(hit["term"])
            if pid is None:
                continue
            for did in drugs:
                rows.append({"drug_id": did, "pathway_id": pid, "overlap_genes": hit["genes"],
                             "p_value": hit["p"], "adj_p_value": hit["adj_p"]})
    report.details["drug_pathways"] = len(rows)
    report.add(sync_rows(session, DrugPathway, ("drug_id", "pathway_id"), rows), "drug_pathway")
