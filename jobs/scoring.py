"""Size-aware scores of a campaign's docking results, stored in ``size_score``.

Docking scores grow with ligand size (docs/validation.md: Spearman of score with heavy-atom count
-0.5 to -0.8), so three size-aware measures are kept beside each best score, lower being better
for all of them as for the score itself:

* ligand efficiency: best score / heavy atoms (kcal/mol per heavy atom);
* size-corrected z: per (campaign, target), the residual of the best score against heavy-atom
  count from a Theil–Sen line fitted over the campaign's drugs on that target, divided by
  1.4826 × the residuals' median absolute deviation (a robust standard deviation);
* selectivity z: per drug, its robust z of the raw score on this target (median and MAD of the
  campaign's drugs on the target) minus the mean of its robust z on the campaign's other targets,
  divided by sqrt(1 + 1/k) for k other targets (unit variance when the targets are independent).

They are computed when ``campaign run`` finishes and by ``dockdb campaign rescore`` for older
campaigns.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from dockdb.db import Database
from dockdb.models import Campaign, DockingResult, Drug, Receptor, SizeScore

MAD_SCALE = 1.4826  # MAD -> standard deviation of a normal distribution
MIN_FIT = 3  # fewer drugs on a target: no size fit, no z


@dataclass(frozen=True)
class Fit:
    """A robust line ``score ~ intercept + slope * heavy_atoms`` and the robust spread of its residuals."""

    intercept: float
    slope: float
    spread: float


def theil_sen(x: Sequence[float], y: Sequence[float]) -> tuple[float, float]:
    """Theil–Sen estimate: the median of pairwise slopes, and the median of ``y - slope * x``."""
    xs, ys = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    i, j = np.triu_indices(len(xs), k=1)
    dx = xs[j] - xs[i]
    ok = dx != 0
    slope = float(np.median((ys[j] - ys[i])[ok] / dx[ok])) if ok.any() else 0.0
    return float(np.median(ys - slope * xs)), slope


def robust_spread(values: Sequence[float]) -> float:
    """1.4826 times the median absolute deviation of *values* (a robust SD; 0 when empty)."""
    v = np.asarray(values, dtype=float)
    return float(MAD_SCALE * np.median(np.abs(v - np.median(v)))) if len(v) else 0.0


def size_fit(heavy: Sequence[float], scores: Sequence[float]) -> Fit | None:
    """The size fit over one (campaign, target), or None with fewer than MIN_FIT drugs or no spread."""
    if len(scores) < MIN_FIT:
        return None
    a, b = theil_sen(heavy, scores)
    resid = [s - (a + b * h) for h, s in zip(heavy, scores, strict=True)]
    spread = robust_spread(resid)
    return Fit(a, b, spread) if spread > 0 else None


def robust_z(values: dict[int, float]) -> dict[int, float]:
    """``(v - median) / (1.4826 MAD)`` of each value; empty when there is no spread."""
    if len(values) < MIN_FIT:
        return {}
    med = float(np.median(list(values.values())))
    spread = robust_spread(list(values.values()))
    return {k: (v - med) / spread for k, v in values.items()} if spread > 0 else {}


def selectivity_z(target_z: dict[int, dict[int, float]]) -> dict[tuple[int, int], float]:
    """``{(drug, target): selectivity z}`` from each drug's robust z per target: its z on the target minus the
    mean of its z on the other k targets, over sqrt(1 + 1/k); drugs scored on one target get none."""
    out: dict[tuple[int, int], float] = {}
    for did, per_target in target_z.items():
        for tid, z in per_target.items():
            others = [v for t, v in per_target.items() if t != tid]
            if others:
                k = len(others)
                out[(did, tid)] = (z - sum(others) / k) / math.sqrt(1 + 1 / k)
    return out


def _round(v: float | None) -> float | None:
    return None if v is None or not math.isfinite(v) else round(v, 4)


def compute_size_scores(session: Session, campaign_id: int) -> int:
    """Recompute and store the size-aware scores of every finished docking of the campaign; returns how
    many results got a row."""
    rows = session.execute(
        select(DockingResult.id, Receptor.target_id, DockingResult.drug_id, DockingResult.best_score,
               Drug.heavy_atoms)
        .join(Receptor, Receptor.id == DockingResult.receptor_id)
        .join(Drug, Drug.id == DockingResult.drug_id)
        .where(DockingResult.campaign_id == campaign_id, DockingResult.status == "done",
               DockingResult.best_score.is_not(None))
    ).all()
    by_target: dict[int, list[tuple[int, int, float, int | None]]] = defaultdict(list)
    for rid, tid, did, score, heavy in rows:
        if score is not None:
            by_target[tid].append((rid, did, float(score), heavy))
    size_z: dict[int, float] = {}
    target_z: dict[int, dict[int, float]] = {}  # drug -> target -> robust z of the raw score
    for tid, items in by_target.items():
        sized = [(rid, float(h), s) for rid, _, s, h in items if h]
        fit = size_fit([h for _, h, _ in sized], [s for _, _, s in sized])
        if fit is not None:
            for rid, h, s in sized:
                size_z[rid] = (s - (fit.intercept + fit.slope * h)) / fit.spread
        for did, z in robust_z({did: s for _, did, s, _ in items}).items():
            target_z.setdefault(did, {})[tid] = z
    selectivity = selectivity_z(target_z)
    session.execute(delete(SizeScore).where(SizeScore.campaign_id == campaign_id))
    out = []
    for tid, items in by_target.items():
        for rid, did, score, heavy in items:
            out.append({
                "result_id": rid, "campaign_id": campaign_id, "heavy_atoms": heavy,
                "ligand_efficiency": _round(score / heavy) if heavy else None,
                "size_z": _round(size_z.get(rid)), "selectivity_z": _round(selectivity.get((did, tid))),
            })
    if out:
        session.execute(insert(SizeScore), out)
    return len(out)


def rescore(db: Database, campaign_ids: Sequence[int] | None = None) -> dict[int, int]:
    """Size-aware scores of the given campaigns (default: every campaign); ``{campaign_id: results scored}``."""
    with db.session() as s:
        ids = list(campaign_ids) if campaign_ids else list(s.scalars(select(Campaign.id).order_by(Campaign.id)))
    out: dict[int, int] = {}
    for cid in ids:
        with db.session() as s:
            out[cid] = compute_size_scores(s, cid)
    return out
