"""Enrichment of experimental actives by the docking score: per target ROC AUC and EF at 1 % and
5 %, with stratified bootstrap intervals (``dockdb validate enrichment``).

Which drugs count, per target:

* **assays** -- by default the SARS-CoV-2 cell screens we ingest (Ellinger Caco-2, Touret
  Vero E6, Heiser RxRx19a; phenotypic, so they apply to every target) and the COVID Moonshot
  Mpro IC50 assay, which applies to ``3clpro`` only (:data:`TARGET_ASSAYS`).  DockCoV2's
  network-proximity "screen" is a computation, not an experiment, and is used only when named.
* **actives** -- scored drugs with an active result in any applicable assay (each assay's rule
  is ``Assay.active_rule``);
* **inactives** -- scored drugs *tested* in an applicable assay with no active result.  Scored
  drugs never tested are left out (not assumed inactive).

The scores are a campaign's best score per drug and target (finished dockings), or, with the
DockCoV2 reference, DockCoV2's published blind-box scores of every matched drug.  A target with
no tested drug or no active is reported as such, with no statistics.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from dockdb.db import Database
from dockdb.errors import InputError
from dockdb.models import Assay, AssayResult, Drug
from jobs.campaign import get_campaign
from jobs.validation.metrics import (
    DEFAULT_BOOTSTRAP,
    DEFAULT_SEED,
    EF_PERCENTS,
    EnrichmentStats,
    enrichment_stats,
    roc_auc,
    roc_curve,
)
from jobs.validation.scores import (
    REFERENCE_ENGINE,
    NoDataError,
    ScoreSource,
    TargetScores,
    campaign_best_scores,
    campaign_source,
    campaign_targets,
    drug_names,
    progress,
    reference_best_scores,
    reference_source,
)
from jobs.validation.store import command_line, png, save_run
from jobs.validation.variants import variant_rows

SCREEN_ASSAYS = ("ellinger-caco2-cpe", "touret-vero-index", "heiser-rxrx19a")
MOONSHOT_ASSAY = "moonshot-mpro"
DEFAULT_ASSAYS = (*SCREEN_ASSAYS, MOONSHOT_ASSAY)
# target-specific assays: used only on these targets (all other assays apply to every target)
TARGET_ASSAYS: dict[str, tuple[str, ...]] = {MOONSHOT_ASSAY: ("3clpro",)}
# short names of assays in run labels (other assays keep their key)
SHORT_NAMES = {"ellinger-caco2-cpe": "ellinger", "touret-vero-index": "touret", "heiser-rxrx19a": "heiser",
               MOONSHOT_ASSAY: "moonshot", "dockcov2-network-proximity": "network-proximity"}
INACTIVE_RULE = "inactives: scored drugs tested in an applicable assay without an active result (untested left out)"


@dataclass
class EnrichmentResult:
    """One stored enrichment run (or the reason there is none)."""

    source: str
    engine: str
    pocket: str
    label: str = ""
    assays: list[str] = field(default_factory=list)
    run_id: int | None = None
    targets: list[dict[str, Any]] = field(default_factory=list)
    variants: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None

    @property
    def title(self) -> str:
        """What was ranked: DockCoV2's published scores, or the campaign with its engine and pocket."""
        if self.engine == REFERENCE_ENGINE:
            return "DockCoV2's published scores (Vina 1.1.2, blind boxes)"
        return f"campaign {self.source} ({self.engine}, {self.pocket} pocket)"

    def line(self) -> str:
        """The run as one line: AUC per target, or the error."""
        if self.error is not None:
            return self.error
        parts = []
        for t in self.targets:
            if t["auc"] is None:
                parts.append(f"{t['target']} {t['note']}")
            else:
                parts.append(f"{t['target']} AUC {t['auc']:.2f} ({t['n_actives']}/{t['n']} active)")
        return f"enrichment run #{self.run_id} ({self.title}): " + ", ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        """The result as a JSON-ready dict."""
        return {"source": self.source, "engine": self.engine, "pocket": self.pocket, "label": self.label,
                "assays": self.assays, "run_id": self.run_id, "targets": self.targets, "variants": self.variants,
                "error": self.error}


def run_label(pocket: str, assays: Sequence[str]) -> str:
    """``<pocket>-<short assay names joined by +>``, e.g. ``focused-ellinger+heiser+moonshot+touret``."""
    return f"{pocket}-{'+'.join(SHORT_NAMES.get(a, a) for a in assays)}"


def resolve_assays(session: Session, keys: Sequence[str] | None) -> list[str]:
    """The assay keys to use, sorted: the named ones (each must exist) or the loaded defaults."""
    known = sorted(session.scalars(select(Assay.key)))
    if keys:
        wanted = sorted({k.strip() for k in keys if k.strip()})
        missing = [k for k in wanted if k not in known]
        if missing:
            raise InputError(f"unknown assay {', '.join(missing)}; loaded assays: {', '.join(known) or 'none'} "
                             "(`dockdb ingest assays`, `dockdb ingest moonshot`)")
        if not wanted:
            raise InputError("--assay is empty; give assay keys such as touret-vero-index,moonshot-mpro")
        return wanted
    present = sorted(k for k in DEFAULT_ASSAYS if k in known)
    if not present:
        raise NoDataError(f"none of the default assays ({', '.join(DEFAULT_ASSAYS)}) is loaded; "
                          "run `dockdb ingest assays` and `dockdb ingest moonshot`, or name one with --assay")
    return present


def assays_for(target: str, assays: Sequence[str]) -> list[str]:
    """The *assays* that apply to *target* (target-specific assays only on their targets)."""
    return [a for a in assays if a not in TARGET_ASSAYS or target in TARGET_ASSAYS[a]]


def assay_outcomes(session: Session, assays: Sequence[str]) -> dict[str, dict[int, bool]]:
    """``{assay key: {drug id: active in any measure}}`` for results with a verdict."""
    rows = session.execute(
        select(Assay.key, AssayResult.drug_id, AssayResult.active)
        .join(Assay, Assay.id == AssayResult.assay_id)
        .where(Assay.key.in_(list(assays)), AssayResult.active.is_not(None))
    )
    out: dict[str, dict[int, bool]] = {a: {} for a in assays}
    for key, drug_id, active in rows:
        out[key][int(drug_id)] = out[key].get(int(drug_id), False) or bool(active)
    return out


def label_drugs(scores: dict[int, float], outcomes: dict[str, dict[int, bool]], assays: Sequence[str]
                ) -> dict[int, list[str]]:
    """``{drug id: [assays it is active in]}`` for scored drugs tested in ``assays`` ([] = inactive)."""
    out: dict[int, list[str]] = {}
    for assay in assays:
        for drug_id, active in outcomes.get(assay, {}).items():
            if drug_id in scores:
                hits = out.setdefault(drug_id, [])
                if active:
                    hits.append(assay)
    return out


def _entry(target: str, assays: list[str], st: EnrichmentStats) -> dict[str, Any]:
    entry: dict[str, Any] = {"target": target, "assays": assays, **st.as_dict()}
    for p in EF_PERCENTS:
        entry.setdefault(f"ef{p:g}", None)
        entry.setdefault(f"ef{p:g}_ci", None)
    if not assays:
        entry["note"] = "no applicable assay"
    elif st.n == 0:
        entry["note"] = "no tested drug"
    elif st.n_actives == 0:
        entry["note"] = "no actives"
    elif st.n_actives == st.n:
        entry["note"] = "no inactives"
    return entry


def heavy_atoms(session: Session, ids: set[int]) -> dict[int, int]:
    """Heavy-atom count of each drug in *ids*, read in chunks of 5,000."""
    wanted = sorted(ids)
    out: dict[int, int] = {}
    for start in range(0, len(wanted), 5000):
        part = wanted[start : start + 5000]
        rows = session.execute(select(Drug.id, Drug.heavy_atoms).where(
            Drug.id.in_(part), Drug.heavy_atoms.is_not(None)))
        out.update({i: int(cast(int, h)) for i, h in rows})  # WHERE: not NULL
    return out


def size_baseline(ids: Sequence[int], labels: dict[int, list[str]], atoms: dict[int, int]) -> float | None:
    """AUC of ranking by size alone (more heavy atoms = predicted active): how much of the docking
    score's enrichment a heavy-atom count already gives.  None when a size is missing."""
    if not ids or any(d not in atoms for d in ids):
        return None
    active = [bool(labels[d]) for d in ids]
    if all(active) or not any(active):
        return None
    return roc_auc([-float(atoms[d]) for d in ids], active)


def _roc_plot(target: str, scores: list[float], active: list[bool], entry: dict[str, Any], title: str) -> str:
    fpr, tpr = roc_curve(scores, active)
    ci = entry["auc_ci"]

    def draw(ax: Any) -> None:
        ax.plot([0, 1], [0, 1], color="0.6", lw=0.8, ls="--", label="random")
        label = f"AUC {entry['auc']:.2f}" + (f" [{ci[0]:.2f}, {ci[1]:.2f}]" if ci else "")
        ax.plot(fpr, tpr, color="C0", lw=1.5, label=label)  # straight segments: ties count one half
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.01)
        ax.set_xlabel("false-positive rate (inactives selected)")
        ax.set_ylabel("true-positive rate (actives selected)")
        ax.set_title(f"{target}: {entry['n_actives']} actives of {entry['n']} — {title}", fontsize=8)
        ax.legend(fontsize=8, loc="lower right")

    return png(draw, size=(5.0, 4.5))


def measure_enrichment(
    session: Session,
    source: ScoreSource,
    scores: TargetScores,
    targets: Sequence[str],
    assays: Sequence[str],
    *,
    n_boot: int = DEFAULT_BOOTSTRAP,
    seed: int = DEFAULT_SEED,
    command: str | None = None,
    progress_bar: bool = False,
) -> EnrichmentResult:
    """Compute and store one enrichment run (the caller commits).

    Raises :class:`NoDataError` when no scored drug on any target was tested in the assays.
    """
    start = time.perf_counter()
    label = run_label(source.pocket, assays)
    result = EnrichmentResult(source=source.name, engine=source.engine, pocket=source.pocket, label=label,
                              assays=list(assays))
    outcomes = assay_outcomes(session, assays)
    table: list[dict[str, Any]] = []
    labelled: dict[str, dict[int, list[str]]] = {}
    for target in progress(list(targets), "enrichment", progress_bar):
        applicable = assays_for(target, assays)
        target_scores = scores.get(target, {})
        labels = label_drugs(target_scores, outcomes, applicable)
        labelled[target] = labels
        ids = sorted(labels)
        st = enrichment_stats([target_scores[d] for d in ids], [bool(labels[d]) for d in ids],
                              n_boot=n_boot, seed=seed)
        table.append({**_entry(target, applicable, st), "n_scored": len(target_scores)})
    atoms = heavy_atoms(session, {d for t, v in labelled.items() for d in scores.get(t, {})})
    for entry in table:
        entry["auc_size_baseline"] = size_baseline(sorted(labelled[entry["target"]]), labelled[entry["target"]],
                                                   atoms)
    if not any(t["n"] for t in table):
        n_scored = sum(len(v) for v in scores.values())
        raise NoDataError(f"{source.name}: none of its {n_scored} scored drug-target pairs has a result in "
                          f"{', '.join(assays)}; dock drugs those assays tested (e.g. library fda-approved, "
                          "or moonshot-mpro-N on 3clpro)")
    variants = [row for entry in table if entry["n"]
                for row in variant_rows(session, entry["target"], source.campaign_id, scores.get(entry["target"], {}),
                                        labelled[entry["target"]], atoms, n_boot=n_boot, seed=seed)]
    names = drug_names(session, {d for v in labelled.values() for d in v})
    rows = [{"target": t, "drug_id": d, "drug": names.get(d, str(d)), "score": scores[t][d],
             "active": bool(hits), "active_in": hits}
            for t in sorted(labelled) for d, hits in sorted(labelled[t].items())]
    title = ("DockCoV2 published scores" if source.campaign_id is None
             else f"{source.name}, {source.engine}, {source.pocket}")
    plots = {}
    for entry in table:
        if entry["auc"] is not None:
            t = entry["target"]
            ids = sorted(labelled[t])
            plots[f"roc-{t}"] = _roc_plot(t, [scores[t][d] for d in ids], [bool(labelled[t][d]) for d in ids],
                                          entry, title)
    summary = {"source": source.as_dict(), "assays": list(assays),
               "target_assays": {a: list(ts) for a, ts in TARGET_ASSAYS.items() if a in assays},
               "inactives": INACTIVE_RULE, "score": "lower = predicted active",
               "size_baseline": "auc_size_baseline: AUC of the heavy-atom count alone (more atoms = predicted active)",
               "ef_rule": "n_top = max(1, round_half_up(x% of n)); ties at the cut shared out fractionally",
               "variants_rule": "variants: score, ligand_efficiency (score / heavy atoms), size_z (residual of "
                                "score vs heavy atoms, Theil-Sen fit, / 1.4826 MAD), consensus (mean engine "
                                "percentile), heavy_atoms (size alone); lower = predicted active",
               "bootstrap": n_boot, "seed": seed, "targets": table, "variants": variants}
    params = {**source.as_dict(), "assays": list(assays), "bootstrap": n_boot, "seed": seed,
              "percents": list(EF_PERCENTS)}
    run = save_run(session, kind="enrichment", label=label, engine=source.engine, params=params, summary=summary,
                   rows=rows, command=command or command_line(), plots=plots,
                   runtime_s=time.perf_counter() - start)
    result.run_id = run.id
    result.targets = table
    result.variants = variants
    return result


def run_enrichment(
    db: Database,
    campaigns: Sequence[int | str] = (),
    *,
    reference: bool = False,
    assays: Sequence[str] | None = None,
    n_boot: int = DEFAULT_BOOTSTRAP,
    seed: int = DEFAULT_SEED,
    command: str | None = None,
    progress_bar: bool = False,
) -> list[EnrichmentResult]:
    """One enrichment run per campaign (and one for DockCoV2's scores with ``reference``).

    Unknown campaigns and assays raise before anything is stored; a source whose drugs
    were never tested is recorded with its error and the others go on.
    """
    if not campaigns and not reference:
        raise InputError("nothing to measure; pass --campaign ID or --reference dockcov2")
    if n_boot < 0:
        raise InputError(f"--bootstrap must be 0 or more (got {n_boot})")
    with db.session() as s:
        chosen = resolve_assays(s, assays)
        sources: list[ScoreSource] = []
        for c in campaigns:
            src = campaign_source(get_campaign(s, c))
            if src not in sources:
                sources.append(src)
        if reference:
            sources.append(reference_source())
    results = []
    for src in sources:
        try:
            with db.session() as s:
                if src.campaign_id is not None:
                    scores = campaign_best_scores(s, src.campaign_id)
                    targets = campaign_targets(s, src.campaign_id)
                else:
                    scores = reference_best_scores(s)
                    targets = sorted(scores)
                    if not targets:
                        raise NoDataError("no DockCoV2 scores matched to drugs are loaded; "
                                          "run `dockdb ingest reference`")
                results.append(measure_enrichment(s, src, scores, targets, chosen, n_boot=n_boot, seed=seed,
                                                  command=command, progress_bar=progress_bar))
        except NoDataError as e:
            results.append(EnrichmentResult(source=src.name, engine=src.engine, pocket=src.pocket, error=str(e)))
    return results
