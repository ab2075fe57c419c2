"""Consensus of several engines (or scoring functions) on one target, stored in ``consensus_score``.

For each target docked by two or more of the given campaigns, each drug scored by at least two of
them gets: its percentile rank in each campaign on that target (0 = the campaign's best score on
the target, 100 = its worst; ties share the lower rank), their mean (the consensus percentile), the
largest difference between two of them (spread), the largest in-place heavy-atom RMSD between two
campaigns' top poses, and an agreement flag: spread ≤ 20 points and RMSD ≤ 2 Å.
"""

from __future__ import annotations

import itertools
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from dockdb.db import Database
from dockdb.errors import InputError
from dockdb.models import Campaign, ConsensusScore, DockingResult, Pose, Receptor, Target

log = logging.getLogger(__name__)

AGREE_PERCENTILE = 20.0
AGREE_RMSD = 2.0


@dataclass
class ConsensusSummary:
    """What a consensus computation stored: drugs per target, how many agree, and the campaigns used."""
    targets: dict[str, int]  # target key -> drugs with a consensus
    agree: int
    campaigns: list[str]

    def line(self) -> str:
        """The consensus as one summary line."""
        per = ", ".join(f"{k} {n}" for k, n in sorted(self.targets.items())) or "none"
        total = sum(self.targets.values())
        return (f"consensus of {' + '.join(self.campaigns)}: {total} drug-target pairs ({per}); "
                f"{self.agree} agree (top poses ≤ {AGREE_RMSD:g} Å, percentiles within {AGREE_PERCENTILE:g})")


def percentiles(scores: dict[int, float]) -> dict[int, float]:
    """``{drug: percentile}``: 100 × (number of strictly better scores) / (n − 1); 0 for a single drug."""
    values = sorted(scores.values())
    n = len(values)
    import bisect

    return {d: 0.0 if n == 1 else 100.0 * bisect.bisect_left(values, s) / (n - 1) for d, s in scores.items()}


def pose_rmsd(sdf_a: str | None, sdf_b: str | None) -> float | None:
    """In-place heavy-atom RMSD of two poses of one drug, None when either is missing or unreadable."""
    if not sdf_a or not sdf_b:
        return None
    from docking.poses import sdf_to_mol
    from docking.redock import heavy_atom_rmsd

    try:
        return heavy_atom_rmsd(sdf_to_mol(sdf_a), sdf_to_mol(sdf_b))
    except Exception as e:
        log.debug("no RMSD between two top poses: %s", e)
        return None


def _campaigns(session: Session, refs: Sequence[str]) -> list[Campaign]:
    out = []
    for ref in refs:
        c = session.get(Campaign, int(ref)) if str(ref).isdigit() else None
        c = c or session.scalar(select(Campaign).where(Campaign.name == str(ref)))
        if c is None:
            raise InputError(f"no campaign {ref!r}; `dockdb campaign list` shows ids and names")
        out.append(c)
    if len({c.id for c in out}) < 2:
        raise InputError("give two or more campaigns (different engines or scoring functions) to build a consensus")
    return out


def compute_consensus(session: Session, refs: Sequence[str]) -> ConsensusSummary:
    """Compute and store the consensus of the campaigns ``refs`` (ids or names) on every target they share."""
    campaigns = _campaigns(session, refs)
    by_id = {c.id: c for c in campaigns}
    rows = session.execute(
        select(DockingResult.campaign_id, Receptor.target_id, Target.key, DockingResult.drug_id,
               DockingResult.best_score, Pose.sdf)
        .join(Receptor, Receptor.id == DockingResult.receptor_id)
        .join(Target, Target.id == Receptor.target_id)
        .outerjoin(Pose, (Pose.result_id == DockingResult.id) & (Pose.rank == 1))
        .where(DockingResult.campaign_id.in_(list(by_id)), DockingResult.status == "done",
               DockingResult.best_score.is_not(None))
    ).all()
    scores: dict[int, dict[int, dict[int, float]]] = defaultdict(lambda: defaultdict(dict))  # target, campaign
    poses: dict[tuple[int, int, int], str | None] = {}
    keys: dict[int, str] = {}
    for cid, tid, key, did, score, sdf in rows:
        if score is None:
            continue
        prev = scores[tid][cid].get(did)
        if prev is None or score < prev:
            scores[tid][cid][did] = float(score)
            poses[(tid, cid, did)] = sdf
        keys[tid] = key
    summary = ConsensusSummary({}, 0, [by_id[c.id].name for c in campaigns])
    out = []
    for tid, per_campaign in scores.items():
        if len(per_campaign) < 2:
            continue
        pct = {cid: percentiles(s) for cid, s in per_campaign.items()}
        drugs = {d for s in per_campaign.values() for d in s}
        n = 0
        for did in sorted(drugs):
            cids = sorted(c for c in per_campaign if did in per_campaign[c])
            if len(cids) < 2:
                continue
            values = [pct[c][did] for c in cids]
            spread = max(values) - min(values)
            rmsds = [pose_rmsd(poses.get((tid, a, did)), poses.get((tid, b, did)))
                     for a, b in itertools.combinations(cids, 2)]
            rmsd = None if any(r is None for r in rmsds) else max(r for r in rmsds if r is not None)
            agree = None if rmsd is None else (spread <= AGREE_PERCENTILE and rmsd <= AGREE_RMSD)
            summary.agree += bool(agree)
            n += 1
            out.append({"target_id": tid, "drug_id": did, "campaign_ids": cids,
                        "engines": [by_id[c].engine for c in cids], "percentiles": [round(v, 2) for v in values],
                        "percentile": round(sum(values) / len(values), 2), "spread": round(spread, 2),
                        "rmsd": None if rmsd is None else round(rmsd, 3), "agree": agree})
        summary.targets[keys[tid]] = n
    if summary.targets:
        tids = [tid for tid in scores if keys[tid] in summary.targets]
        session.execute(delete(ConsensusScore).where(ConsensusScore.target_id.in_(tids)))
    if out:
        session.execute(insert(ConsensusScore), out)
    return summary


def run_consensus(db: Database, refs: Sequence[str]) -> ConsensusSummary:
    """Compute and store the consensus of the campaigns *refs* in one transaction."""
    with db.session() as s:
        return compute_consensus(s, refs)
