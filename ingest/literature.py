"""Literature evidence -> LiteratureRef.

* DockCoV2 related documents: PubChem CID -> ';'-joined titles and URLs (source ``dockcov2``).
* GHDDI Targeting2019-nCoV text mining (both files, source ``ghddi``): its drug names are noisy
  ("papain" is an enzyme), so a row is kept only when the name equals a known drug name or
  synonym (case-insensitive, unambiguous); the other names are counted as unmatched.
* Zhou et al. PLoS Biol 2020 table S7 (source ``chengf2020``): PubMed ids per drug.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re

from sqlalchemy.orm import Session

from dockdb.config import Config
from dockdb.errors import SourceError
from dockdb.models import LiteratureRef
from ingest.common import SourceReport, clip, read_table, source_text, sync_rows, to_float
from ingest.matching import DrugIndex

_DOI = re.compile(r"(10\.\d{4,9}/[^\s;,?#]+?)(?:v\d+)?(?:\.full.*)?$")


def _ref_key(doi: str | None, url: str | None) -> str:
    if doi:
        return clip(doi.lower(), 64) or ""
    return "url:" + hashlib.sha1((url or "").encode()).hexdigest()[:32]


def doi_from_url(url: str) -> str | None:
    """The DOI in a doi.org (or similar) URL, or None."""
    m = _DOI.search(url.strip())
    return m.group(1) if m else None


def _row(drug_id: int, source: str, ref_key: str, **values: object) -> dict:
    base = {"drug_id": drug_id, "source": source, "ref_key": ref_key, "title": None, "doi": None, "pmid": None,
            "url": None, "evidence": None, "extra": {}}
    base.update(values)
    return base


def ingest_dockcov2_documents(session: Session, config: Config, report: SourceReport) -> None:
    """Load DockCoV2's related documents (titles and URLs per PubChem CID) as literature references."""
    _, text = source_text("dockcov2-related-documents", config)
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header or header[0].strip() != "PubChem CID":
        raise SourceError("source dockcov2-related-documents: header 'PubChem CID,Titles,URLs' not found")
    index = DrugIndex.load(session)
    rows: dict[tuple, dict] = {}
    for rec in reader:
        if not rec:
            continue
        report.read += 1
        if len(rec) < 3:
            report.rejected += 1
            continue
        cid, titles, urls = rec[0], ",".join(rec[1:-1]), rec[-1]
        did = index.by_cid(cid)
        if did is None:
            report.unmatched += 1
            continue
        url_list = [u.strip() for u in urls.split(";") if u.strip()]
        title_list = [t.strip() for t in titles.split(";")]
        for i, url in enumerate(url_list):
            doi = doi_from_url(url)
            title = title_list[i] if len(title_list) == len(url_list) else None
            key = _ref_key(doi, url)
            rows.setdefault((did, key), _row(did, "dockcov2", key, title=title, doi=doi, url=url,
                                             evidence="COVID-19 drug screen listed by DockCoV2",
                                             extra={"pubchem_cid": cid}))
    report.add(sync_rows(session, LiteratureRef, ("drug_id", "source", "ref_key"), list(rows.values()),
                         where=LiteratureRef.source == "dockcov2"), "literature_ref")


def _unquote(text: str) -> str:
    t = text.strip()
    return t[1:-1].strip() if len(t) >= 2 and t[0] == t[-1] and t[0] in "'\"" else t


# GHDDI's unit spellings; "" means the file gives none
_UNITS = {"um": "µM", "micro": "µM", "{micro}m": "µM", "nm": "nM", "mm": "mM", "ug": "µg/mL"}


def assay_evidence(assay: str, value: str, units: str, correlation: str | None) -> str:
    """``IC50 0.0022 µM (direct)`` from GHDDI's druglist columns; a missing unit is said, not guessed."""
    value = re.sub(r"\s+-\s+", "-", re.sub(r"\s+", " ", value.replace("{micro}", "µ"))).strip()
    unit = _UNITS.get(units.strip().lower(), units.strip())
    text = f"{assay.strip()} {value}"
    if re.fullmatch(r"[<>≤≥~]?\s*[\d.]+", value):
        text += f" {unit}" if unit else " (unit not given)"
    if correlation and correlation.strip():
        text += f" ({correlation.strip()} evidence)"
    return text.strip()


def ingest_ghddi(session: Session, config: Config, report: SourceReport) -> None:
    """Load GHDDI's text-mined preclinical evidence, keeping rows whose drug name matches one drug exactly."""
    titles = read_table("ghddi-preclinical-titles", config, delimiter=",",
                        required=("drug", "sentence", "title", "doi", "in-vitro evidence"))
    drugs = read_table("ghddi-preclinical-druglist", config, delimiter=",",
                       required=("Drug name", "DOI", "Assay", "Value", "Units"))
    report.read = len(titles) + len(drugs)
    index = DrugIndex.load(session)
    rows: dict[tuple, dict] = {}
    unmatched: set[str] = set()

    def add(name: str, doi: str, title: str | None, evidence: str) -> None:
        did = index.by_name(name)
        if did is None:
            unmatched.add(name.strip().lower())
            return
        if not doi:
            report.rejected += 1
            return
        key = _ref_key(doi, None)
        row = rows.get((did, key))
        if row is None:
            rows[(did, key)] = _row(did, "ghddi", key, title=title, doi=clip(doi, 255),
                                    url=f"https://doi.org/{doi}", evidence=evidence or None)
            return
        row["title"] = row["title"] or title
        if evidence and evidence not in (row["evidence"] or ""):
            row["evidence"] = f"{row['evidence']} | {evidence}" if row["evidence"] else evidence

    # The titles file's evidence sentences are lower-cased, tokenised text that lost its units ("1 m < ic50 < 10 m"
    # for µM): a reference is shown by its title and DOI; the measured values come from the druglist file.
    for r in titles:
        add(r["drug"], _unquote(r["doi"]), _unquote(r["title"]) or None, "")
    for r in drugs:
        add(r["Drug name"], r["DOI"].strip(), None, assay_evidence(r["Assay"], r["Value"], r["Units"],
                                                                  r.get("Correlation")))
    report.unmatched = len(unmatched)
    report.details["unmatched_names"] = sorted(unmatched)
    report.add(sync_rows(session, LiteratureRef, ("drug_id", "source", "ref_key"), list(rows.values()),
                         where=LiteratureRef.source == "ghddi"), "literature_ref")


def ingest_chengf(session: Session, config: Config, report: SourceReport) -> None:
    """Load the PubMed ids per drug of Zhou et al. 2020 (table S7) as literature references."""
    data = read_table("chengf-repurposable-drugs", config, required=("Name", "PubMed_IDs", "Virus"))
    report.read = len(data)
    index = DrugIndex.load(session)
    rows: dict[tuple, dict] = {}
    for r in data:
        pmids = [p.strip() for p in re.split(r"[,;\s]+", r["PubMed_IDs"]) if p.strip().isdigit()]
        if not pmids:
            report.rejected += 1  # drugs without PubMed ids and the table's footnote row
            continue
        did = index.by_name(r["Name"])
        if did is None:
            report.unmatched += 1
            continue
        scores = {k: to_float(v) for k, v in r.items() if k.endswith(("_Z", "_P"))}
        evidence = f"Zhou et al. PLoS Biol 2020 (S7): antiviral evidence against {r['Virus'] or 'other viruses'}"
        for pmid in pmids:
            rows.setdefault((did, pmid), _row(
                did, "chengf2020", pmid, pmid=pmid, url=f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/",
                evidence=evidence, extra={"virus": r["Virus"], "network_scores": scores}))
    report.add(sync_rows(session, LiteratureRef, ("drug_id", "source", "ref_key"), list(rows.values()),
                         where=LiteratureRef.source == "chengf2020"), "literature_ref")
