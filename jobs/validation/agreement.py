"""Agreement with DockCoV2: per target, Spearman's rho between DockCoV2's published score and
our best score for the same drug (``dockdb validate agreement``).

For each campaign and each of its targets, the drugs docked successfully (status ``done``)
that DockCoV2 also scored on that target are paired: ours = the campaign's best score of the
drug on the target (lowest over its receptors), DockCoV2's = the lowest published score of
the drug (two PubChem CIDs may map to one drug).  Reported per target: n, Spearman's rho
with its p-value and a pair-resampling percentile-bootstrap interval, and the mean
difference ours - DockCoV2 (kcal/mol).  The run is labelled with the campaign's pocket kind
(``focused`` or ``blind``) and stored as ``ValidationRun(kind="agreement")``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from dockdb.db import Database
from jobs.campaign import get_campaign
from jobs.validation.metrics import DEFAULT_BOOTSTRAP, DEFAULT_SEED, spearman_bootstrap
from jobs.validation.scores import (
    REFERENCE_SOURCE,
    NoDataError,
    ScoreSource,
    TargetScores,
    campaign_best_scores,
    campaign_source,
    campaign_targets,
    colours,
    drug_names,
    progress,
    reference_best_scores,
)
from jobs.validation.store import command_line, png, save_run

# why a target may disagree whatever we do (shown beside its numbers)
TARGET_NOTES = {
    "3clpro": "DockCoV2 docked into 6LU7 with the N3 inhibitor (chain C) still in the active site",
    "plpro": "DockCoV2 docked into 6WX4 with the VIR251 inhibitor (chain I) still in the active site",
}


@dataclass
class AgreementResult:
    """One stored agreement run (or the reason there is none)."""

    campaign: str
    campaign_id: int
    pocket: str
    run_id: int | None = None
    n: int = 0
    targets: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None

    def line(self) -> str:
        """The run as one line: pairs and Spearman per target, or the error."""
        if self.error is not None:
            return self.error
        parts = []
        for t in self.targets:
            rho = "–" if t["spearman"] is None else f"{t['spearman']:.2f}"
            parts.append(f"{t['target']} ρ={rho} (n={t['n']})")
        return (f"agreement run #{self.run_id} ({self.pocket}, campaign {self.campaign}): {self.n} drug-target pairs; "
                + ", ".join(parts))

    def as_dict(self) -> dict[str, Any]:
        """The result as a JSON-ready dict."""
        return {"campaign": self.campaign, "campaign_id": self.campaign_id, "pocket": self.pocket,
                "run_id": self.run_id, "n": self.n, "targets": self.targets, "error": self.error}


def pair_scores(ours: TargetScores, reference: TargetScores, targets: Sequence[str]
                ) -> dict[str, list[tuple[int, float, float]]]:
    """``{target: [(drug id, ours, reference), ...]}`` for drugs scored by both, by drug id."""
    out: dict[str, list[tuple[int, float, float]]] = {}
    for key in targets:
        mine, theirs = ours.get(key, {}), reference.get(key, {})
        out[key] = [(d, mine[d], theirs[d]) for d in sorted(mine) if d in theirs]
    return out


def agreement_table(
    pairs: dict[str, list[tuple[int, float, float]]], *, n_boot: int, seed: int, progress_bar: bool = False
) -> list[dict[str, Any]]:
    """Per-target statistics of the paired scores (targets without pairs have n = 0)."""
    import numpy as np

    out = []
    for key in progress(sorted(pairs), "agreement", progress_bar):
        rows = pairs[key]
        ours = np.array([r[1] for r in rows], dtype=float)
        ref = np.array([r[2] for r in rows], dtype=float)
        corr = spearman_bootstrap(ours, ref, n_boot=n_boot, seed=seed)
        entry: dict[str, Any] = {"target": key, **corr.as_dict(),
                                 "mean_ours": float(ours.mean()) if rows else None,
                                 "mean_dockcov2": float(ref.mean()) if rows else None}
        if key in TARGET_NOTES:
            entry["note"] = TARGET_NOTES[key]
        out.append(entry)
    return out


def _scatter(pairs: dict[str, list[tuple[int, float, float]]], table: list[dict[str, Any]], title: str) -> str:
    stats = {t["target"]: t for t in table}
    keys = [k for k in sorted(pairs) if pairs[k]]

    def draw(ax: Any) -> None:
        lo = min(min(r[1], r[2]) for k in keys for r in pairs[k])
        hi = max(max(r[1], r[2]) for k in keys for r in pairs[k])
        ax.plot([lo, hi], [lo, hi], color="0.6", lw=0.8, ls="--", label="y = x")
        for key, colour in zip(keys, colours(len(keys)), strict=True):
            rho = stats[key]["spearman"]
            label = f"{key} (ρ={'–' if rho is None else f'{rho:.2f}'}, n={len(pairs[key])})"
            ax.scatter([r[2] for r in pairs[key]], [r[1] for r in pairs[key]], s=8, alpha=0.6, color=colour,
                       label=label, edgecolors="none")
        ax.set_xlabel("DockCoV2 score (kcal/mol)")
        ax.set_ylabel("our best score (kcal/mol)")
        ax.set_title(title, fontsize=9)
        ax.legend(fontsize=7, loc="best", markerscale=2)

    return png(draw, size=(6.5, 5.0))


def measure_agreement(
    session: Session,
    source: ScoreSource,
    *,
    reference: TargetScores | None = None,
    n_boot: int = DEFAULT_BOOTSTRAP,
    seed: int = DEFAULT_SEED,
    command: str | None = None,
    progress_bar: bool = False,
) -> AgreementResult:
    """Compute and store one campaign's agreement run (the caller commits).

    Raises :class:`NoDataError` when no docked drug of the campaign has a DockCoV2 score.
    """
    assert source.campaign_id is not None
    start = time.perf_counter()
    result = AgreementResult(campaign=source.name, campaign_id=source.campaign_id, pocket=source.pocket)
    reference = reference_best_scores(session) if reference is None else reference
    ours = campaign_best_scores(session, source.campaign_id)
    targets = campaign_targets(session, source.campaign_id)
    pairs = pair_scores(ours, reference, targets)
    result.n = sum(len(v) for v in pairs.values())
    if result.n == 0:
        docked = sum(len(v) for v in ours.values())
        why = ("no DockCoV2 scores are loaded (run `dockdb ingest reference`)" if not reference
               else f"none of its {docked} finished dockings is of a drug DockCoV2 scored on that target")
        raise NoDataError(f"campaign {source.name!r} has no drug matched to DockCoV2's scores: {why}; "
                          "dock approved drugs (e.g. library fda-approved) first")
    table = agreement_table(pairs, n_boot=n_boot, seed=seed, progress_bar=progress_bar)
    names = drug_names(session, {d for v in pairs.values() for d, _, _ in v})
    rows = [{"target": key, "drug_id": d, "drug": names.get(d, str(d)), "ours": o, "dockcov2": r, "diff": o - r}
            for key in sorted(pairs) for d, o, r in pairs[key]]
    title = f"{source.name}: {source.engine}, {source.pocket} pocket vs DockCoV2 (Vina 1.1.2, blind box)"
    summary = {"source": source.as_dict(), "reference": REFERENCE_SOURCE, "n": result.n,
               "bootstrap": n_boot, "seed": seed, "targets": table}
    params = {"campaign_id": source.campaign_id, "campaign": source.name, "pocket": source.pocket,
              "reference": REFERENCE_SOURCE, "bootstrap": n_boot, "seed": seed}
    run = save_run(session, kind="agreement", label=source.pocket, engine=source.engine, params=params,
                   summary=summary, rows=rows, command=command or command_line(),
                   plots={"scatter": _scatter(pairs, table, title)}, runtime_s=time.perf_counter() - start)
    result.run_id = run.id
    result.targets = table
    return result


def run_agreement(
    db: Database,
    campaigns: Sequence[int | str],
    *,
    n_boot: int = DEFAULT_BOOTSTRAP,
    seed: int = DEFAULT_SEED,
    command: str | None = None,
    progress_bar: bool = False,
) -> list[AgreementResult]:
    """One agreement run per campaign, each in its own transaction.

    Every campaign is looked up first (an unknown one raises ``NotFoundError`` before
    anything is stored); a campaign with no matched drug is recorded with its error and
    the others go on.
    """
    if not campaigns:
        raise NoDataError("no campaign given; pass --campaign ID (see `dockdb campaign list`)")
    with db.session() as s:
        sources = [campaign_source(get_campaign(s, c)) for c in campaigns]
    results = []
    seen: set[int] = set()
    for source in sources:
        assert source.campaign_id is not None
        if source.campaign_id in seen:
            continue
        seen.add(source.campaign_id)
        try:
            with db.session() as s:
                results.append(measure_agreement(s, source, n_boot=n_boot, seed=seed, command=command,
                                                 progress_bar=progress_bar))
        except NoDataError as e:
            results.append(AgreementResult(campaign=source.name, campaign_id=source.campaign_id,
                                           pocket=source.pocket, error=str(e)))
    return results
