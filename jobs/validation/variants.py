"""Enrichment of each ranking variant beside heavy-atom count alone (``dockdb validate enrichment``).

On the same labelled drugs of a target (actives and tested inactives), each variant ranks them
(lower = predicted active) and gets ROC AUC and EF 1 %/5 % with stratified bootstrap intervals:

* ``score`` -- the raw best score;
* ``ligand_efficiency`` -- score / heavy atoms;
* ``size_z`` -- the score's residual against heavy-atom count (Theil–Sen fit over every drug the
  source scored on the target, :func:`jobs.scoring.size_fit`) over its robust spread;
* ``consensus`` -- the stored consensus percentile of the target (``dockdb campaign consensus``)
  when it covers this campaign, over the labelled drugs that have one;
* ``heavy_atoms`` -- size alone (more heavy atoms = predicted active), the control every variant
  must beat.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dockdb.models import ConsensusScore, Target
from jobs.scoring import size_fit
from jobs.validation.metrics import EF_PERCENTS, enrichment_stats

VARIANTS = ("score", "ligand_efficiency", "size_z", "consensus", "heavy_atoms")


def _consensus(session: Session, target: str, campaign_id: int | None) -> dict[int, float]:
    if campaign_id is None:
        return {}
    rows = session.execute(select(ConsensusScore.drug_id, ConsensusScore.percentile, ConsensusScore.campaign_ids)
                           .join(Target, Target.id == ConsensusScore.target_id).where(Target.key == target)).all()
    return {int(d): float(p) for d, p, cids in rows if campaign_id in (cids or [])}


def variant_values(scores: dict[int, float], atoms: dict[int, int], consensus: dict[int, float]
                   ) -> dict[str, dict[int, float]]:
    """Each variant's value per drug (lower = predicted active); a drug without a value is left out."""
    sized = {d: s for d, s in scores.items() if atoms.get(d)}
    fit = size_fit([float(atoms[d]) for d in sized], list(sized.values()))
    return {
        "score": dict(scores),
        "ligand_efficiency": {d: s / atoms[d] for d, s in sized.items()},
        "size_z": {} if fit is None else
        {d: (s - (fit.intercept + fit.slope * atoms[d])) / fit.spread for d, s in sized.items()},
        "consensus": dict(consensus),
        "heavy_atoms": {d: -float(atoms[d]) for d in sized},
    }


def variant_rows(session: Session, target: str, campaign_id: int | None, scores: dict[int, float],
                 labels: dict[int, list[str]], atoms: dict[int, int], *, n_boot: int, seed: int
                 ) -> list[dict[str, Any]]:
    """One row per variant for a target: n, actives, AUC [CI], EF 1 %/5 % [CI] on its labelled drugs."""
    values = variant_values(scores, atoms, _consensus(session, target, campaign_id))
    out = []
    for name in VARIANTS:
        ids = sorted(d for d in labels if d in values[name])
        row: dict[str, Any] = {"target": target, "variant": name}
        if not ids:
            out.append({**row, "n": 0, "n_actives": 0, "auc": None, "auc_ci": None,
                        "note": "not computed (no consensus)" if name == "consensus" else "no values"})
            continue
        st = enrichment_stats([values[name][d] for d in ids], [bool(labels[d]) for d in ids], n_boot=n_boot,
                              seed=seed)
        entry = {**row, **st.as_dict()}
        for p in EF_PERCENTS:
            entry.setdefault(f"ef{p:g}", None)
            entry.setdefault(f"ef{p:g}_ci", None)
        out.append(entry)
    return out


def best_variant(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The docking variant with the highest AUC, if its AUC beats heavy-atom count alone; only variants measured
    on the same drugs as size count (a consensus over fewer drugs is not comparable)."""
    size_row = next((r for r in rows if r["variant"] == "heavy_atoms"), None)
    size = size_row["auc"] if size_row else None
    ranked = [r for r in rows if r["variant"] != "heavy_atoms" and r.get("auc") is not None
              and (size_row is None or r.get("n") == size_row.get("n"))]
    if not ranked:
        return None
    top = max(ranked, key=lambda r: r["auc"])
    return top if size is None or top["auc"] > size else None
