"""Docking scores (one row per campaign x receptor x drug result), filtered and paginated."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from dockdb import models as m
from dockdb.models.campaigns import RESULT_STATUSES
from webapp.params import NotFound, Params
from webapp.queries.common import Page, rounded
from webapp.queries.targets import REFERENCE_SOURCE

SCORE_SORTS = ("score", "name", "target", "campaign", "drug_id", "ligand_efficiency", "size_z", "selectivity_z",
               "consensus")
SIZE_COLUMNS = ("ligand_efficiency", "size_z", "selectivity_z")
MAX_INT_ID = 2**31 - 1


@dataclass
class ScoreFilter:
    """Filters and sort order of the scores listing, read from request parameters by from_params."""
    target: str | None = None
    drug_id: int | None = None
    campaign_id: int | None = None
    status: str = "done"
    max_score: float | None = None
    min_score: float | None = None
    plausible: bool = False
    max_ligand_efficiency: float | None = None
    max_size_z: float | None = None
    max_selectivity_z: float | None = None
    agree: bool = False
    sort: str = "score"
    order: str = "asc"

    @classmethod
    def from_params(cls, p: Params) -> ScoreFilter:
        """The filter from request parameters, each checked by Params."""
        return cls(
            target=p.text("target", max_len=64),
            drug_id=p.integer("drug", lo=1, hi=MAX_INT_ID),
            campaign_id=p.integer("campaign", lo=1, hi=MAX_INT_ID),
            status=p.choice("status", (*RESULT_STATUSES, "any"), "done") or "done",
            max_score=p.number("max_score", lo=-1000, hi=1000),
            min_score=p.number("min_score", lo=-1000, hi=1000),
            plausible=p.flag("plausible"),
            max_ligand_efficiency=p.number("max_ligand_efficiency", lo=-1000, hi=1000),
            max_size_z=p.number("max_size_z", lo=-1000, hi=1000),
            max_selectivity_z=p.number("max_selectivity_z", lo=-1000, hi=1000),
            agree=p.flag("agree"),
            sort=p.choice("sort", SCORE_SORTS, "score") or "score",
            order=p.choice("order", ("asc", "desc"), "asc") or "asc",
        )


def list_scores(session: Session, f: ScoreFilter, page: int, page_size: int) -> Page:
    """One page of docking results matching *f*, in its sort order (missing values last)."""
    dr = m.DockingResult
    ss = m.SizeScore
    cs = m.ConsensusScore
    stmt = (
        select(
            dr.id,
            dr.campaign_id,
            m.Campaign.name.label("campaign"),
            m.Target.id.label("target_id"),
            m.Target.key.label("target"),
            dr.drug_id,
            m.Drug.name.label("name"),
            dr.status,
            dr.best_score,
            m.Campaign.engine,
            m.Campaign.pocket_kind,
            ss.ligand_efficiency,
            ss.size_z,
            ss.selectivity_z,
            cs.percentile.label("consensus"),
            cs.agree,
        )
        .join(m.Receptor, m.Receptor.id == dr.receptor_id)
        .join(m.Target, m.Target.id == m.Receptor.target_id)
        .join(m.Drug, m.Drug.id == dr.drug_id)
        .join(m.Campaign, m.Campaign.id == dr.campaign_id)
        .outerjoin(ss, ss.result_id == dr.id)
        .outerjoin(cs, (cs.target_id == m.Target.id) & (cs.drug_id == dr.drug_id))
    )
    if f.target is not None:
        target_id = session.scalar(select(m.Target.id).where(m.Target.key == f.target))
        if target_id is None:
            raise NotFound(f"no target with key {f.target!r}")
        stmt = stmt.where(m.Receptor.target_id == target_id)
    if f.drug_id is not None:
        stmt = stmt.where(dr.drug_id == f.drug_id)
    if f.campaign_id is not None:
        stmt = stmt.where(dr.campaign_id == f.campaign_id)
    if f.status != "any":
        stmt = stmt.where(dr.status == f.status)
    if f.max_score is not None:
        stmt = stmt.where(dr.best_score <= f.max_score)
    if f.min_score is not None:
        stmt = stmt.where(dr.best_score >= f.min_score)
    if f.plausible:
        stmt = stmt.where(top_pose_passes(dr.id))
    for c in SIZE_COLUMNS:
        limit = getattr(f, f"max_{c}")
        if limit is not None:
            stmt = stmt.where(getattr(ss, c) <= limit)
    if f.agree:
        stmt = stmt.where(cs.agree.is_(True))
    count_stmt = select(func.count()).select_from(stmt.with_only_columns(dr.id).subquery())
    total = int(session.scalar(count_stmt) or 0)
    col = {
        "score": dr.best_score,
        "name": m.Drug.name_lower,
        "target": m.Target.key,
        "campaign": dr.campaign_id,
        "drug_id": dr.drug_id,
        "ligand_efficiency": ss.ligand_efficiency,
        "size_z": ss.size_z,
        "selectivity_z": ss.selectivity_z,
        "consensus": cs.percentile,
    }[f.sort]
    ordered = col.desc() if f.order == "desc" else col.asc()
    rows = session.execute(
        stmt.order_by(col.is_(None), ordered, dr.id).limit(page_size).offset((page - 1) * page_size)
    ).all()
    refs = _reference_scores(session, {(r.target_id, r.drug_id) for r in rows})
    poses = best_pose_flags(session, [r.id for r in rows])
    items = []
    for r in rows:
        pose_id, ok, failed = poses.get(r.id, (None, None, None))
        items.append(
            {
                "result_id": r.id,
                "campaign_id": r.campaign_id,
                "campaign": r.campaign,
                "target": r.target,
                "drug_id": r.drug_id,
                "name": r.name,
                "status": r.status,
                "score": rounded(r.best_score, 3),
                "engine": r.engine,
                "pocket": r.pocket_kind,
                "ligand_efficiency": rounded(r.ligand_efficiency, 3),
                "size_z": rounded(r.size_z, 3),
                "selectivity_z": rounded(r.selectivity_z, 3),
                "consensus_percentile": rounded(r.consensus, 1),
                "engines_agree": r.agree,
                "dockcov2_score": refs.get((r.target_id, r.drug_id)),
                "best_pose_id": pose_id,
                "posebusters_pass": ok,
                "posebusters_failed": failed,
            }
        )
    return Page(items, total, page, page_size)


def _reference_scores(session: Session, pairs: set[tuple[int, int]]) -> dict[tuple[int, int], float]:
    if not pairs:
        return {}
    rs = m.ReferenceScore
    target_ids = sorted({t for t, _ in pairs})
    drug_ids = sorted({d for _, d in pairs})
    out: dict[tuple[int, int], float] = {}
    for t, d, s in session.execute(
        select(rs.target_id, rs.drug_id, func.min(rs.score))
        .where(rs.source == REFERENCE_SOURCE, rs.target_id.in_(target_ids), rs.drug_id.in_(drug_ids),
               rs.score.is_not(None))
        .group_by(rs.target_id, rs.drug_id)
    ):
        if (t, d) in pairs:
            out[(t, d)] = round(float(s), 2)
    return out


def top_pose_passes(result_id: Any) -> Any:
    """SQL condition: the rank-1 pose of the docking result *result_id* passed every PoseBusters check."""
    return exists().where(m.Pose.result_id == result_id, m.Pose.rank == 1, m.Pose.posebusters_pass.is_(True))


def best_pose_flags(session: Session, result_ids: list[int]) -> dict[int, tuple[int, bool | None, list | None]]:
    """result id -> (rank-1 pose id, its PoseBusters pass flag, its failed checks); None flags: not checked."""
    if not result_ids:
        return {}
    rows = session.execute(
        select(m.Pose.result_id, m.Pose.id, m.Pose.posebusters_pass, m.Pose.posebusters_failed).where(
            m.Pose.result_id.in_(result_ids), m.Pose.rank == 1
        )
    ).all()
    return {r: (p, ok, failed) for r, p, ok, failed in rows}


def stats(session: Session) -> dict[str, Any]:
    """Headline counts for the home page and ``/api/v1/stats``."""
    from dockdb.stats import COUNTED

    counts = {}
    for key, model in COUNTED.items():
        counts[key] = int(session.scalar(select(func.count()).select_from(model)) or 0)
    return counts
