"""Anti-SARS-CoV-2 screens: three ChEMBL 27 documents and DockCoV2's network proximity scores.

Activity rules (stored in ``Assay.active_rule``):

* Ellinger (Caco-2 CPE, % inhibition at 10 µM): active if inhibition ≥ 75 % -- the hit
  threshold of the primary screen (Ellinger et al. Sci Data 2021).
* Touret (Vero E6, inhibition index at 10 µM; 0 = infected control, 1 = uninfected control):
  active if index ≥ 1.0, i.e. full protection (90 compounds in this export).
* Heiser (RxRx19a morphological hit score, 0 = infected, 1 = mock): active if ≥ 0.5, i.e.
  the compound moves the infected morphology at least half-way back to mock.
* DockCoV2 drug screening (network proximity z-score of drug targets to coronavirus host
  proteins): active if z ≤ -1.5 and p < 0.05, the cut-offs of Zhou et al. Cell Discov 2020
  and Cheng et al. PLoS Biol 2020, whose method DockCoV2 reused.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from dockdb.config import Config
from dockdb.models import Assay, AssayResult
from dockdb.sources import get_source
from ingest.common import SourceReport, read_table, sync_rows, to_float
from ingest.matching import DrugIndex
from ingest.standardize import Standardized, standardize_many


@dataclass(frozen=True)
class ChemblScreen:
    """A cell-based SARS-CoV-2 screen in ChEMBL: its assay key, source, measure, units and rule for calling a hit."""
    key: str
    source: str
    name: str
    description: str
    measure: str
    units: str
    rule_text: str
    is_active: Callable[[float], bool]


SCREENS = {
    "ellinger": ChemblScreen(
        "ellinger-caco2-cpe", "chembl-ellinger", "Ellinger 2021 Caco-2 CPE screen",
        "SARS-CoV-2 cytopathic effect in Caco-2 cells, % inhibition at 10 µM (ChEMBL 27)",
        "inhibition", "%", "inhibition ≥ 75 % (hit threshold of the primary screen)", lambda v: v >= 75.0),
    "touret": ChemblScreen(
        "touret-vero-index", "chembl-touret", "Touret 2020 Vero E6 screen (Prestwick)",
        "SARS-CoV-2 in Vero E6 cells, inhibition index at 10 µM (0 = infected, 1 = uninfected control; ChEMBL 27)",
        "inhibition_index", "index", "inhibition index ≥ 1.0 (full protection)", lambda v: v >= 1.0),
    "heiser": ChemblScreen(
        "heiser-rxrx19a", "chembl-heiser", "Heiser 2020 RxRx19a morphological screen",
        "SARS-CoV-2 in HRCE cells, RxRx19a morphological hit score (0 = infected, 1 = mock; ChEMBL 27)",
        "hit_score", "score", "hit score ≥ 0.5 (at least half-way from infected to mock morphology)",
        lambda v: v >= 0.5),
}


def _assay_id(session: Session, report: SourceReport, key: str, **values: object) -> int:
    report.add(sync_rows(session, Assay, ("key",), [{"key": key, **values}]), "assay")
    aid = session.scalar(select(Assay.id).where(Assay.key == key))
    assert aid is not None
    return aid


def _ingest_chembl(session: Session, config: Config, report: SourceReport, which: str) -> None:
    screen = SCREENS[which]
    rows = read_table(screen.source, config, delimiter=",",
                      required=("parent_chembl_id", "parent_smiles", "chembl_id", "name", "value"))
    report.read = len(rows)
    src = get_source(screen.source)
    aid = _assay_id(session, report, screen.key, name=screen.name, source=f"ChEMBL 27 ({screen.source})",
                    description=screen.description, units=screen.units, active_rule=screen.rule_text,
                    citation=src.citation)
    index = DrugIndex.load(session)
    need_std = [r["parent_smiles"] for r in rows
                if r["parent_smiles"] and index.by_chembl(r["parent_chembl_id"]) is None
                and index.by_chembl(r["chembl_id"]) is None]
    std = standardize_many(need_std, cache_dir=config.home / "cache")
    results: dict[int, dict] = {}
    for r in rows:
        value = to_float(r["value"])
        if value is None:
            report.rejected += 1
            continue
        did = index.by_chembl(r["parent_chembl_id"]) or index.by_chembl(r["chembl_id"])
        if did is None:
            res = std.get(r["parent_smiles"])
            did = index.by_inchikey(res.inchikey) if isinstance(res, Standardized) else None
        if did is None:
            report.unmatched += 1
            continue
        prev = results.get(did)
        if prev is not None and prev["value"] >= value:
            continue  # two ChEMBL compounds with one parent: keep the stronger result
        results[did] = {"assay_id": aid, "drug_id": did, "measure": screen.measure, "value": value,
                        "units": screen.units, "p_value": None, "active": screen.is_active(value),
                        "source_ref": r["parent_chembl_id"] or r["chembl_id"]}
    report.details["results"] = len(results)
    report.details["active"] = sum(1 for r in results.values() if r["active"])
    report.add(sync_rows(session, AssayResult, ("assay_id", "drug_id", "measure"), list(results.values()),
                         where=AssayResult.assay_id == aid), "assay_result")


def ingest_ellinger(session: Session, config: Config, report: SourceReport) -> None:
    """Load the Ellinger 2021 Caco-2 CPE screen (% inhibition at 10 µM) from ChEMBL as assay results."""
    _ingest_chembl(session, config, report, "ellinger")


def ingest_touret(session: Session, config: Config, report: SourceReport) -> None:
    """Load the Touret 2020 Vero E6 Prestwick screen (inhibition index) from ChEMBL as assay results."""
    _ingest_chembl(session, config, report, "touret")


def ingest_heiser(session: Session, config: Config, report: SourceReport) -> None:
    """Load the Heiser 2020 RxRx19a morphological screen (hit score) from ChEMBL as assay results."""
    _ingest_chembl(session, config, report, "heiser")


DOCKCOV2_VIRUSES = ("pan", "sars", "mers", "ibv", "mhv")
Z_CUTOFF = -1.5
P_CUTOFF = 0.05


def ingest_dockcov2_screening(session: Session, config: Config, report: SourceReport) -> None:
    """Load DockCoV2's network-proximity z-scores and p-values per virus as one assay's results."""
    cols = [f"z_score_{v}" for v in DOCKCOV2_VIRUSES] + [f"p_value_{v}" for v in DOCKCOV2_VIRUSES]
    rows = read_table("dockcov2-drug-screening", config, required=("drugbank_id", "name", *cols))
    report.read = len(rows)
    aid = _assay_id(
        session, report, "dockcov2-network-proximity", name="DockCoV2 network proximity screen",
        source="DockCoV2 (dockcov2-drug-screening)",
        description="Network proximity z-score (and p) of a drug's targets to host proteins of pan-coronavirus, "
                    "SARS, MERS, IBV and MHV; one result per virus (measure z_<virus>)",
        units="z", active_rule=f"z ≤ {Z_CUTOFF} and p < {P_CUTOFF}",
        citation=get_source("dockcov2-drug-screening").citation,
    )
    index = DrugIndex.load(session)
    results = []
    seen: set[int] = set()
    for r in rows:
        did = index.by_drugbank(r["drugbank_id"]) or index.by_name(r["name"])
        if did is None:
            report.unmatched += 1
            continue
        if did in seen:
            continue
        seen.add(did)
        for virus in DOCKCOV2_VIRUSES:
            z, p = to_float(r[f"z_score_{virus}"]), to_float(r[f"p_value_{virus}"])
            if z is None:
                report.rejected += 1
                continue
            results.append({"assay_id": aid, "drug_id": did, "measure": f"z_{virus}", "value": z, "units": "z",
                            "p_value": p, "active": z <= Z_CUTOFF and p is not None and p < P_CUTOFF,
                            "source_ref": r["drugbank_id"]})
    report.details["drugs"] = len(seen)
    report.details["results"] = len(results)
    report.add(sync_rows(session, AssayResult, ("assay_id", "drug_id", "measure"), results,
                         where=AssayResult.assay_id == aid), "assay_result")
