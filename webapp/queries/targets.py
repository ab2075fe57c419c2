"""Targets: list, detail, the ranked drug table with filters, score distributions."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

from sqlalchemy import Select, and_, case, exists, func, or_, select
from sqlalchemy.orm import Session, defer

from dockdb import models as m
from webapp.extensions import reused, ttl_cached
from webapp.params import NotFound, Params
from webapp.queries.common import (
    DESCRIPTORS,
    DRUG_SUMMARY_COLUMNS,
    Page,
    drug_summary,
    like_escape,
    pocket_dict,
    rounded,
)
from webapp.queries.reference import measured_order, reference_campaign, selected_campaign

REFERENCE_SOURCE = "dockcov2"
FAILED_REFERENCE_NOTE = "DockCoV2 published 0.0: a failed docking, not a score (out of ranks, histograms and means)"
SORTS: dict[str, str] = {
    "best": "best",  # the default: the lower of the two scores shown for a drug
    "score": "score",
    "ref_score": "ref_score",
    "ligand_efficiency": "ligand_efficiency",
    "size_z": "size_z",
    "selectivity_z": "selectivity_z",
    "consensus": "consensus",
    "name": "name",
    "approval_status": "approval_status",
    "clinical_phase": "clinical_phase",
    **{d: d for d in DESCRIPTORS},
}
ROW_SETS = ("all", "ours", "dockcov2")
SIZE_COLUMNS = ("ligand_efficiency", "size_z", "selectivity_z")
SIZE_FILTERS = tuple(f"max_{c}" for c in SIZE_COLUMNS)
MAX_EXPORT_ROWS = 250_000
MAX_RANKING_ROWS = 20_000  # larger filtered tables are paged in SQL and not kept in memory


def list_targets(session: Session) -> list[dict[str, Any]]:
    """Every target with its counts of docked drugs, poses and reference scores."""
    ours = dict(
        session.execute(
            select(m.Receptor.target_id, func.count(func.distinct(m.DockingResult.drug_id)))
            .join(m.DockingResult, m.DockingResult.receptor_id == m.Receptor.id)
            .where(m.DockingResult.status == "done")
            .group_by(m.Receptor.target_id)
        ).all()
    )
    refs = {t: (published, failed, matched) for t, published, failed, matched in session.execute(reference_counts())}
    out = []
    for t in session.scalars(select(m.Target).order_by(m.Target.key)):
        out.append(
            {
                "key": t.key,
                "name": t.name,
                "organism": t.organism,
                "uniprot": t.uniprot,
                "gene": t.gene,
                "structure_id": t.structure_id,
                "docked_drugs": int(ours.get(t.id, 0)),
                "reference_scores": int(refs.get(t.id, (0, 0, 0))[0]),
                "reference_failed": int(refs.get(t.id, (0, 0, 0))[1]),
                "reference_matched": int(refs.get(t.id, (0, 0, 0))[2]),
            }
        )
    return out


def reference_counts() -> Select[Any]:
    """Per target: DockCoV2's published scores, its failed dockings (published as 0.0, kept as missing) and the
    drugs its published scores are matched to (by structure: the rows DockCoV2 adds to a target's table)."""
    rs = m.ReferenceScore
    matched = func.count(func.distinct(case((rs.score.is_not(None), rs.drug_id))))
    return (
        select(rs.target_id, func.count(rs.score), func.count() - func.count(rs.score), matched)
        .where(rs.source == REFERENCE_SOURCE)
        .group_by(rs.target_id)
    )


def get_target_model(session: Session, key: str) -> m.Target:
    """The Target with key *key* (its source PDB not loaded); NotFound when there is none."""
    target = session.scalar(select(m.Target).options(defer(m.Target.source_pdb)).where(m.Target.key == key[:64]))
    if target is None:
        raise _unknown_target(key)
    return target


def _unknown_target(key: str) -> NotFound:
    return NotFound(f"no target with key {key[:64]!r}")


def _chain_of(target: m.Target) -> str | None:
    chains = (target.spec or {}).get("keep_chains") if isinstance(target.spec, dict) else None
    return chains[0] if isinstance(chains, list) and len(chains) == 1 else None


def target_detail(session: Session, key: str) -> dict[str, Any]:
    """A target with its pockets, prepared receptor and campaigns as a JSON-ready dict."""
    t = get_target_model(session, key)
    chain = _chain_of(t)
    receptor = session.execute(
        select(
            m.Receptor.id,
            m.Receptor.protocol_version,
            m.Receptor.input_hash,
            m.Receptor.tool_versions,
            m.Receptor.removed,
            m.Receptor.prepared_at,
        )
        .where(m.Receptor.target_id == t.id)
        .order_by(m.Receptor.prepared_at.desc(), m.Receptor.id.desc())
        .limit(1)
    ).first()
    campaigns = session.execute(
        select(m.Campaign.id, m.Campaign.name, m.Campaign.engine, m.Campaign.status, func.count(m.DockingResult.id))
        .join(m.DockingResult, m.DockingResult.campaign_id == m.Campaign.id)
        .join(m.Receptor, m.Receptor.id == m.DockingResult.receptor_id)
        .where(m.Receptor.target_id == t.id)
        .group_by(m.Campaign.id, m.Campaign.name, m.Campaign.engine, m.Campaign.status)
        .order_by(m.Campaign.id)
    ).all()
    counts = session.execute(reference_counts().where(m.ReferenceScore.target_id == t.id)).first()
    n_ref, n_failed, n_matched = (counts[1], counts[2], counts[3]) if counts is not None else (0, 0, 0)
    return {
        "key": t.key,
        "name": t.name,
        "organism": t.organism,
        "uniprot": t.uniprot,
        "gene": t.gene,
        "structure_id": t.structure_id,
        "source_url": t.source_url,
        "pockets": [pocket_dict(p, chain) for p in sorted(t.pockets, key=lambda p: p.kind != "focused")],
        "receptor": None
        if receptor is None
        else {
            "id": receptor.id,
            "protocol_version": receptor.protocol_version,
            "input_hash": receptor.input_hash,
            "tool_versions": receptor.tool_versions,
            "removed": receptor.removed,
            "prepared_at": receptor.prepared_at.isoformat() if receptor.prepared_at else None,
        },
        "campaigns": [
            {"id": c[0], "name": c[1], "engine": c[2], "status": c[3], "results": int(c[4])} for c in campaigns
        ],
        "reference_campaign": reference_campaign(session, t.id),
        "reference_scores": int(n_ref or 0),
        "reference_failed": int(n_failed or 0),
        "reference_matched": int(n_matched or 0),
    }


@dataclass
class TableFilter:
    """Filters, sort and row set of a target's ranked drug table."""

    campaign_id: int | None = None
    rows: str = "all"
    max_score: float | None = None
    max_ref_score: float | None = None
    max_ligand_efficiency: float | None = None
    max_size_z: float | None = None
    max_selectivity_z: float | None = None
    agree: bool = False
    approval_status: str | None = None
    clinical_phase: str | None = None
    q: str | None = None
    ranges: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)
    has_active_assay: bool = False
    has_literature: bool = False
    plausible: bool = False
    sort: str = "best"
    order: str = "asc"

    @classmethod
    def from_params(cls, p: Params, default_sort: str = "best") -> TableFilter:
        """The filter of a request; ``default_sort`` when it names no sort (the measured best variant)."""
        ranges: dict[str, tuple[float | None, float | None]] = {}
        for d in DESCRIPTORS:
            lo, hi = p.number(f"{d}_min"), p.number(f"{d}_max")  # a reversed range matches nothing
            if lo is not None or hi is not None:
                ranges[d] = (lo, hi)
        return cls(
            campaign_id=p.integer("campaign", lo=1, hi=2**31 - 1),
            rows=p.choice("rows", ROW_SETS, "all") or "all",
            max_score=p.number("max_score", lo=-1000, hi=1000),
            max_ref_score=p.number("max_ref_score", lo=-1000, hi=1000),
            max_ligand_efficiency=p.number("max_ligand_efficiency", lo=-1000, hi=1000),
            max_size_z=p.number("max_size_z", lo=-1000, hi=1000),
            max_selectivity_z=p.number("max_selectivity_z", lo=-1000, hi=1000),
            agree=p.flag("agree"),
            approval_status=p.text("approval_status", max_len=64),
            clinical_phase=p.text("clinical_phase", max_len=64),
            q=p.text("q", max_len=100),
            ranges=ranges,
            has_active_assay=p.flag("has_active_assay"),
            has_literature=p.flag("has_literature"),
            plausible=p.flag("plausible"),
            sort=p.choice("sort", list(SORTS), default_sort) or default_sort,
            order=p.choice("order", ("asc", "desc"), "asc") or "asc",
        )

    def as_args(self) -> dict[str, str]:
        """The filter as query arguments (for links: next page, CSV of the same table)."""
        args: dict[str, str] = {}
        if self.campaign_id is not None:
            args["campaign"] = str(self.campaign_id)
        if self.rows != "all":
            args["rows"] = self.rows
        for name in ("max_score", "max_ref_score", *SIZE_FILTERS):
            if getattr(self, name) is not None:
                args[name] = f"{getattr(self, name):g}"
        for name in ("approval_status", "clinical_phase", "q"):
            if getattr(self, name):
                args[name] = getattr(self, name)
        for d, (lo, hi) in self.ranges.items():
            if lo is not None:
                args[f"{d}_min"] = f"{lo:g}"
            if hi is not None:
                args[f"{d}_max"] = f"{hi:g}"
        if self.has_active_assay:
            args["has_active_assay"] = "1"
        if self.has_literature:
            args["has_literature"] = "1"
        if self.plausible:
            args["plausible"] = "1"
        if self.agree:
            args["agree"] = "1"
        if self.sort != "best":
            args["sort"] = self.sort  # also a measured default: links and the CSV name the order they show
        if self.order != "asc":
            args["order"] = self.order
        return args


def _ours_subquery(target_id: int, campaign_id: int | None) -> Any:
    """Per drug: the campaign's best score on the target and its size-aware scores (the minimum over
    campaigns only when no campaign docked into the target, i.e. never on a populated target: callers
    pass the reference campaign, see :func:`with_reference`)."""
    dr = m.DockingResult
    ss = m.SizeScore
    stmt = (
        select(dr.drug_id.label("drug_id"), func.min(dr.best_score).label("score"),
               func.min(ss.ligand_efficiency).label("ligand_efficiency"), func.min(ss.size_z).label("size_z"),
               func.min(ss.selectivity_z).label("selectivity_z"))
        .join(m.Receptor, m.Receptor.id == dr.receptor_id)
        .outerjoin(ss, ss.result_id == dr.id)
        .where(m.Receptor.target_id == target_id, dr.status == "done", dr.best_score.is_not(None))
    )
    if campaign_id is not None:
        stmt = stmt.where(dr.campaign_id == campaign_id)
    return stmt.group_by(dr.drug_id).subquery("ours")


def _ref_subquery(target_id: int) -> Any:
    rs = m.ReferenceScore
    return (
        select(rs.drug_id.label("drug_id"), func.min(rs.score).label("ref_score"))
        .where(rs.target_id == target_id, rs.source == REFERENCE_SOURCE, rs.drug_id.is_not(None),
               rs.score.is_not(None))
        .group_by(rs.drug_id)
        .subquery("ref")
    )


def table_statement(target_id: int, f: TableFilter, columns: tuple[Any, ...] = DRUG_SUMMARY_COLUMNS) -> Select[Any]:
    """The filtered (unsorted, unpaginated) table: drug ``columns``, our score, DockCoV2's score."""
    ours = _ours_subquery(target_id, f.campaign_id)
    ref = _ref_subquery(target_id)
    if f.rows == "ours":
        base = ours.join(m.Drug, m.Drug.id == ours.c.drug_id).outerjoin(ref, ref.c.drug_id == m.Drug.id)
    elif f.rows == "dockcov2":
        base = ref.join(m.Drug, m.Drug.id == ref.c.drug_id).outerjoin(ours, ours.c.drug_id == m.Drug.id)
    else:  # either score: one full outer join computes each aggregate once
        both = ours.join(ref, ref.c.drug_id == ours.c.drug_id, full=True)
        base = both.join(m.Drug, m.Drug.id == func.coalesce(ours.c.drug_id, ref.c.drug_id))
    cons = m.ConsensusScore
    base = base.outerjoin(cons, and_(cons.target_id == target_id, cons.drug_id == m.Drug.id))
    stmt = select(*columns, ours.c.score.label("score"), ref.c.ref_score.label("ref_score"),
                  best_of(ours.c.score, ref.c.ref_score).label("best"),
                  *(ours.c[c].label(c) for c in SIZE_COLUMNS),
                  cons.percentile.label("consensus"), cons.agree.label("agree")).select_from(base)
    conds = []
    if f.max_score is not None:
        conds.append(ours.c.score <= f.max_score)
    for name in SIZE_FILTERS:
        if getattr(f, name) is not None:
            conds.append(ours.c[name.removeprefix("max_")] <= getattr(f, name))
    if f.agree:
        conds.append(cons.agree.is_(True))
    if f.max_ref_score is not None:
        conds.append(ref.c.ref_score <= f.max_ref_score)
    if f.approval_status:
        conds.append(func.lower(m.Drug.approval_status) == f.approval_status.lower())
    if f.clinical_phase:
        conds.append(func.lower(m.Drug.clinical_phase) == f.clinical_phase.lower())
    if f.q:
        conds.append(m.Drug.name_lower.like(f"%{like_escape(f.q.lower())}%", escape="\\"))
    for d, (lo, hi) in f.ranges.items():
        col = getattr(m.Drug, d)
        if lo is not None:
            conds.append(col >= lo)
        if hi is not None:
            conds.append(col <= hi)
    if f.has_active_assay:
        conds.append(exists().where(m.AssayResult.drug_id == m.Drug.id, m.AssayResult.active.is_(True)))
    if f.has_literature:
        conds.append(exists().where(m.LiteratureRef.drug_id == m.Drug.id))
    if f.plausible:
        conds.append(_top_pose_passes(target_id, f.campaign_id, ours.c.score))
    if conds:
        stmt = stmt.where(and_(*conds))
    return stmt


def measured_default(session: Session, key: str) -> tuple[str, dict[str, Any] | None]:
    """The table's default sort: the variant with the best measured enrichment on the target when it beats
    heavy-atom count alone, else ``best``; and the measurement (None when none was made)."""
    tid = target_id(session, key)
    ref = reference_campaign(session, tid)
    measured = measured_order(session, key[:64], ref["id"] if ref else None)
    return (measured["sort"] if measured and measured["sort"] else "best"), measured


def with_reference(session: Session, tid: int, f: TableFilter) -> tuple[TableFilter, dict[str, Any] | None]:
    """``f`` with its campaign set (``?campaign=`` if given, else the target's reference campaign) and
    that campaign's description: one score source per column."""
    reference = reference_campaign(session, tid)
    if f.campaign_id is None or (reference is not None and f.campaign_id == reference["id"]):
        source = reference  # also when ``f`` was resolved before: it still shows the reference
    else:
        source = selected_campaign(session, tid, f.campaign_id)
    if source is None or f.campaign_id == source["id"]:
        return f, source
    return replace(f, campaign_id=source["id"]), source


def best_of(score: Any, ref_score: Any) -> Any:
    """SQL: the lower (better) of two scores, ignoring a missing one; NULL when both are missing.
    (SQLite's two-argument min() and PostgreSQL's LEAST() disagree on NULLs, so spelt out.)"""
    return case(
        (score.is_(None), ref_score),
        (ref_score.is_(None), score),
        (score <= ref_score, score),
        else_=ref_score,
    )


def sort_description(f: TableFilter, labels: dict[str, str]) -> str:
    """What the table is sorted by, in words, for the line above it."""
    if f.sort == "best":
        way = "lowest (best) first" if f.order == "asc" else "highest first"
        return (f"Sorted by the best score shown for each drug — DockDB's or DockCoV2's, whichever is lower — "
                f"{way}; drugs with neither score come last.")
    way = "ascending" if f.order == "asc" else "descending"
    return f"Sorted by {labels.get(f.sort, f.sort)}, {way}; drugs without a value come last."


def _top_pose_passes(target_id: int, campaign_id: int | None, best_score: Any) -> Any:
    """SQL condition: the drug's top pose on the target (rank 1 of its best-scoring docking, as shown in
    the table) passed every PoseBusters check."""
    dr = m.DockingResult
    cond = exists().where(
        dr.drug_id == m.Drug.id,
        dr.status == "done",
        dr.best_score == best_score,
        dr.receptor_id.in_(select(m.Receptor.id).where(m.Receptor.target_id == target_id)),
        m.Pose.result_id == dr.id,
        m.Pose.rank == 1,
        m.Pose.posebusters_pass.is_(True),
    )
    return cond.where(dr.campaign_id == campaign_id) if campaign_id is not None else cond


def _sorted(stmt: Select[Any], f: TableFilter) -> Select[Any]:
    cols = {c.name: c for c in stmt.selected_columns}
    col = cols[SORTS[f.sort]]
    ordered = col.desc() if f.order == "desc" else col.asc()
    return stmt.order_by(col.is_(None), ordered, m.Drug.id)


def _row(r: Any, drug: Any = None) -> dict[str, Any]:
    """A table row from ``r`` (scores) and ``drug`` (drug columns; ``r`` itself when it has them)."""
    out = drug_summary(r if drug is None else drug)
    out["score"] = rounded(r.score)
    out["ref_score"] = rounded(r.ref_score)
    for c in SIZE_COLUMNS:
        out[c] = rounded(getattr(r, c), 3)
    out["consensus"] = rounded(r.consensus, 1)
    out["agree"] = r.agree
    return out


def best_poses(
    session: Session, target_id: int, drug_ids: list[int], campaign_id: int | None
) -> dict[int, tuple[int, bool | None]]:
    """Each drug's best rank-1 pose on the target (optionally in one campaign): (pose id, PoseBusters flag)."""
    if not drug_ids:
        return {}
    dr = m.DockingResult
    stmt = (
        select(dr.drug_id, m.Pose.id, m.Pose.posebusters_pass)
        .join(m.Pose, m.Pose.result_id == dr.id)
        .join(m.Receptor, m.Receptor.id == dr.receptor_id)
        .where(m.Receptor.target_id == target_id, dr.drug_id.in_(drug_ids), m.Pose.rank == 1, dr.status == "done")
        .order_by(m.Pose.score, m.Pose.id)
    )
    if campaign_id is not None:
        stmt = stmt.where(dr.campaign_id == campaign_id)
    out: dict[int, tuple[int, bool | None]] = {}
    for drug_id, pose_id, flag in session.execute(stmt):
        out.setdefault(drug_id, (pose_id, flag))
    return out


def target_id(session: Session, key: str) -> int:
    """The id of the target with ``key`` (NotFound otherwise)."""
    tid = session.scalar(select(m.Target.id).where(m.Target.key == key[:64]))
    if tid is None:
        raise _unknown_target(key)
    return int(tid)


class Ranked(NamedTuple):
    """One row of a ranking: the drug and its two scores, in table order."""

    id: int
    score: float | None
    ref_score: float | None
    ligand_efficiency: float | None = None
    size_z: float | None = None
    selectivity_z: float | None = None
    consensus: float | None = None
    agree: bool | None = None


def _narrow_statement(tid: int, f: TableFilter) -> Select[Any]:
    """The filtered table with only what ranking needs: drug id, both scores and the sort key."""
    narrow: tuple[Any, ...] = (m.Drug.id,)
    if f.sort not in ("best", "score", "ref_score", *SIZE_COLUMNS, "consensus"):
        narrow += (getattr(m.Drug, SORTS[f.sort]),)
    return table_statement(tid, f, narrow)


def ranking(session: Session, tid: int, f: TableFilter) -> list[Ranked] | None:
    """The whole filtered table of target ``tid`` in order, as (id, score, ref_score); ``None`` when it
    has more than MAX_RANKING_ROWS rows (page it with :func:`target_table` alone)."""
    rows = session.execute(_sorted(_narrow_statement(tid, f), f).limit(MAX_RANKING_ROWS + 1)).all()
    if len(rows) > MAX_RANKING_ROWS:
        return None
    return [Ranked(r.id, r.score, r.ref_score, r.ligand_efficiency, r.size_z, r.selectivity_z, r.consensus, r.agree)
            for r in rows]


def ranking_key(tid: int, f: TableFilter) -> tuple[Any, ...]:
    """A hashable key naming exactly the rows and order of ``f`` on target ``tid``."""
    return (tid, *sorted(f.as_args().items()))


def target_table(
    session: Session,
    key: str,
    f: TableFilter,
    page: int,
    page_size: int,
    known_id: int | None = None,
    ranked: list[Ranked] | None = None,
) -> Page:
    """One page of the filtered, sorted table.  ``known_id``: the target's id when the caller has it;
    ``ranked``: the table's :func:`ranking` when the caller has it (the page is then a slice of it)."""
    tid = known_id if known_id is not None else target_id(session, key)
    f, source = with_reference(session, tid, f)
    keys: list[Any]
    if ranked is not None:
        total = len(ranked)
        keys = ranked[(page - 1) * page_size : page * page_size]
    else:
        # One narrow pass (ids, scores, the sort key) finds the page and carries the filtered total as a
        # window count; the drug columns are then fetched for the page's rows only.
        stmt = _narrow_statement(tid, f)
        paged = _sorted(stmt.add_columns(func.count().over().label("_total")), f)
        keys = list(session.execute(paged.limit(page_size).offset((page - 1) * page_size)).all())
        if keys:
            total = int(keys[0]._total)
        else:  # past the last page (or nothing matches): count separately
            total = int(session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
    drugs = {r.id: r for r in session.execute(select(*DRUG_SUMMARY_COLUMNS).where(m.Drug.id.in_([k.id for k in keys])))}
    items = [_row(k, drugs[k.id]) for k in keys]
    poses = best_poses(session, tid, [i["id"] for i in items], f.campaign_id)
    for item in items:
        pose_id, flag = poses.get(item["id"], (None, None))
        item["best_pose_id"] = pose_id
        item["posebusters_pass"] = flag
    return Page(items, total, page, page_size, {"target": key[:64], "campaign": source})


def cached_target_table(session: Session, key: str, f: TableFilter, page: int, page_size: int) -> Page:
    """:func:`target_table` with the target id and, from the second ask on, the table's ranking reused from
    the app's caches: paging through a table then costs two small queries (drug columns and best poses)."""
    tid = ttl_cached(f"id:{key[:64]}", lambda: target_id(session, key))  # unknown keys raise: never cached
    f, _ = with_reference(session, tid, f)
    ranked = reused(ranking_key(tid, f), lambda: ranking(session, tid, f))
    return target_table(session, key, f, page, page_size, known_id=tid, ranked=ranked)


def iter_table(session: Session, key: str, f: TableFilter) -> Iterator[dict[str, Any]]:
    """Every row of the filtered table in table order (bounded by MAX_EXPORT_ROWS)."""
    target = get_target_model(session, key)
    f, _ = with_reference(session, target.id, f)
    stmt = _sorted(table_statement(target.id, f), f).limit(MAX_EXPORT_ROWS)
    for r in session.execute(stmt.execution_options(yield_per=2000)):
        yield _row(r)


def distribution(session: Session, key: str, bins: int = 24) -> dict[str, Any]:
    """Histograms of best scores per campaign on the target, plus DockCoV2's published scores."""
    target = get_target_model(session, key)
    dr = m.DockingResult
    series: dict[str, list[float]] = {}
    stmt = (
        select(m.Campaign.name, dr.best_score)
        .join(m.Campaign, m.Campaign.id == dr.campaign_id)
        .join(m.Receptor, m.Receptor.id == dr.receptor_id)
        .where(m.Receptor.target_id == target.id, dr.status == "done", dr.best_score.is_not(None))
    )
    for name, score in session.execute(stmt):
        series.setdefault(name, []).append(float(score))
    ref = session.scalars(
        select(m.ReferenceScore.score).where(
            m.ReferenceScore.target_id == target.id, m.ReferenceScore.source == REFERENCE_SOURCE,
            m.ReferenceScore.score.is_not(None),
        )
    ).all()
    if ref:
        series["DockCoV2 (published)"] = [float(s) for s in ref]
    values = [v for vs in series.values() for v in vs]
    if not values:
        return {"target": target.key, "edges": [], "series": []}
    lo, hi = min(values), max(values)
    if hi - lo < 1e-9:
        lo, hi = lo - 0.5, hi + 0.5
    width = (hi - lo) / bins
    edges = [round(lo + i * width, 3) for i in range(bins + 1)]
    out = []
    for name, vs in series.items():
        counts = [0] * bins
        for v in vs:
            counts[min(bins - 1, int((v - lo) / width))] += 1
        mean = sum(vs) / len(vs)
        out.append({"name": name, "n": len(vs), "min": round(min(vs), 2), "mean": round(mean, 2), "counts": counts})
    return {"target": target.key, "edges": edges, "series": out}


def facet_values(session: Session, key: str) -> dict[str, list[str]]:
    """Approval statuses and clinical phases present among the target's drugs (for the filter form)."""
    target = get_target_model(session, key)
    ours = (
        select(m.DockingResult.drug_id)
        .join(m.Receptor, m.Receptor.id == m.DockingResult.receptor_id)
        .where(m.Receptor.target_id == target.id)
    )
    refs = select(m.ReferenceScore.drug_id).where(m.ReferenceScore.target_id == target.id)
    cond = or_(m.Drug.id.in_(ours), m.Drug.id.in_(refs))
    out: dict[str, list[str]] = {}
    for name in ("approval_status", "clinical_phase"):
        col = getattr(m.Drug, name)
        vals = session.scalars(select(col).where(cond, col.is_not(None)).distinct().order_by(col).limit(50)).all()
        out[name] = [str(v) for v in vals]
    return out
