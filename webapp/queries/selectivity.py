"""Selectivity: per-target z-scores of the best-scoring drugs, as a drug x target matrix."""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dockdb import models as m
from webapp.queries.targets import REFERENCE_SOURCE

SOURCES = ("auto", "dockdb", "dockcov2")


def _scores(session: Session, source: str) -> list[tuple[int, int, float]]:
    """(target_id, drug_id, best score) triples from our campaigns or from DockCoV2."""
    if source == "dockcov2":
        rs = m.ReferenceScore
        stmt = (
            select(rs.target_id, rs.drug_id, func.min(rs.score))
            .where(rs.source == REFERENCE_SOURCE, rs.drug_id.is_not(None), rs.score.is_not(None))
            .group_by(rs.target_id, rs.drug_id)
        )
    else:
        dr = m.DockingResult
        stmt = (
            select(m.Receptor.target_id, dr.drug_id, func.min(dr.best_score))
            .join(m.Receptor, m.Receptor.id == dr.receptor_id)
            .where(dr.status == "done", dr.best_score.is_not(None))
            .group_by(m.Receptor.target_id, dr.drug_id)
        )
    return [(int(t), int(d), float(s)) for t, d, s in session.execute(stmt)]


def selectivity_matrix(session: Session, top: int, source: str = "auto") -> dict[str, Any]:
    """The *top* drugs by their best z-score on any target, with z on every target.

    z = (score - mean) / sd of the drugs scored on that target; docking scores are
    energies, so negative z is better.  ``selectivity`` = best z minus the mean of the
    drug's other z-scores (more negative = more selective for its best target).
    """
    if source == "auto":
        has_ours = session.scalar(
            select(func.count()).select_from(m.DockingResult).where(m.DockingResult.status == "done")
        )
        source = "dockdb" if has_ours else "dockcov2"
    triples = _scores(session, source)
    by_target: dict[int, dict[int, float]] = {}
    for t, d, s in triples:
        by_target.setdefault(t, {})[d] = s
    stats: dict[int, tuple[float, float]] = {}
    for t, scores in by_target.items():
        vals = list(scores.values())
        mean = sum(vals) / len(vals)
        var = sum((v - mean) ** 2 for v in vals) / (len(vals) - 1) if len(vals) > 1 else 0.0
        stats[t] = (mean, math.sqrt(var))
    z: dict[int, dict[int, float]] = {}
    for t, scores in by_target.items():
        mean, sd = stats[t]
        if sd <= 0:
            continue
        for d, s in scores.items():
            z.setdefault(d, {})[t] = (s - mean) / sd
    ranked = sorted(z.items(), key=lambda kv: (min(kv[1].values()), kv[0]))[:top]
    target_rows = session.execute(
        select(m.Target.id, m.Target.key, m.Target.name).where(m.Target.id.in_(list(stats))).order_by(m.Target.key)
    ).all()
    names = dict(session.execute(select(m.Drug.id, m.Drug.name).where(m.Drug.id.in_([d for d, _ in ranked]))).all())
    drugs = []
    for d, zs in ranked:
        best_t = min(zs, key=lambda t: zs[t])
        others = [v for t, v in zs.items() if t != best_t]
        drugs.append(
            {
                "id": d,
                "name": names.get(d, str(d)),
                "z": [None if t not in zs else round(zs[t], 2) for t, _, _ in target_rows],
                "scores": [by_target.get(t, {}).get(d) for t, _, _ in target_rows],
                "best_target": next(k for t, k, _ in target_rows if t == best_t),
                "selectivity": round(zs[best_t] - sum(others) / len(others), 2) if others else None,
            }
        )
    return {
        "source": source,
        "targets": [
            {"key": k, "name": n, "mean": round(stats[t][0], 3), "sd": round(stats[t][1], 3), "n": len(by_target[t])}
            for t, k, n in target_rows
        ],
        "drugs": drugs,
    }
