"""`dockdb validate plausibility`: PoseBusters checks on stored poses, written back per pose,
summarised as a ValidationRun (share passing overall, per target, rank-1 vs all; failures per check).

Poses are checked receptor by receptor (the protein is parsed once per receptor) and written in
batches: each batch of poses gets ``posebusters_pass`` and ``posebusters_failed`` in one
transaction. A pose that cannot be checked is recorded as (pose id, error) and left unchecked.
"""

from __future__ import annotations

import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session

from dockdb.db import Database
from dockdb.errors import DockDBError, InputError, one_line
from dockdb.models import Campaign, DockingResult, Drug, Pose, Receptor, Target

__all__ = ["PlausibilityReport", "check_plausibility", "summarise"]

BATCH_SIZE = 25  # poses written per transaction
MAX_ROWS = 20_000  # per-pose rows kept in the stored run (the summary always covers every checked pose)
MAX_ERRORS_STORED = 50


@dataclass
class PlausibilityReport:
    """What one run checked, and the stored run's summary."""

    label: str
    engine: str | None
    selected: int = 0
    checked: int = 0
    passed: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    seconds: float = 0.0
    run_id: int | None = None
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        """Poses checked per second."""
        return self.checked / self.seconds if self.seconds > 0 else 0.0

    @property
    def exit_code(self) -> int:
        """0 every selected pose checked, 3 nothing to check, 4 some poses could not be checked."""
        if self.selected == 0:
            return 3
        return 4 if self.errors else 0

    def line(self) -> str:
        """The check as one line: poses checked and the share that passed (or why nothing was checked)."""
        if self.selected == 0:
            return (f"plausibility {self.label}: nothing to check (no unchecked pose with an SDF in scope; "
                    "--recheck checks again)")
        share = f"{self.passed / self.checked:.1%}" if self.checked else "-"
        overall = self.summary.get("overall", {})
        tail = f"; run {self.run_id} stored" if self.run_id is not None else ""
        return (
            f"plausibility {self.label}: {self.checked} poses checked in {self.seconds:.1f} s "
            f"({self.rate:.2f} poses/s), {self.passed} pass ({share}), {len(self.errors)} errors; "
            f"{overall.get('n_pass', 0)}/{overall.get('n', 0)} of all checked poses pass{tail}"
        )


def _scope(stmt: Select, campaign_id: int | None) -> Select:
    stmt = stmt.join(DockingResult, DockingResult.id == Pose.result_id)
    return stmt.where(DockingResult.campaign_id == campaign_id) if campaign_id is not None else stmt


def _to_check(session: Session, campaign_id: int | None, recheck: bool, limit: int | None,
              max_rank: int | None) -> list[tuple[int, int]]:
    """(pose id, receptor id) of the poses to check, grouped by receptor."""
    stmt = _scope(select(Pose.id, DockingResult.receptor_id), campaign_id).where(Pose.sdf.is_not(None))
    if not recheck:
        stmt = stmt.where(Pose.posebusters_pass.is_(None))
    if max_rank is not None:
        stmt = stmt.where(Pose.rank <= max_rank)
    stmt = stmt.order_by(Pose.id)
    if limit is not None:
        stmt = stmt.limit(limit)
    rows = [(int(p), int(r)) for p, r in session.execute(stmt)]
    return sorted(rows, key=lambda pr: (pr[1], pr[0]))


def _batches(items: list[int], size: int) -> Iterable[list[int]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _progress(total: int, label: str, enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc=f"plausibility {label}", unit="pose", file=sys.stderr, disable=not enabled,
                smoothing=0.1, dynamic_ncols=True, mininterval=0.5)


def _check_receptor(db: Database, receptor_id: int, pose_ids: list[int], report: PlausibilityReport,
                    bar: Any) -> None:
    from docking.plausibility import PlausibilityChecker

    with db.session() as s:
        receptor = s.get(Receptor, receptor_id)
        pdb = receptor.pdb if receptor is not None else None
    try:
        if not pdb:
            raise InputError(f"receptor {receptor_id} has no stored PDB; prepare it with `dockdb target prepare`")
        checker = PlausibilityChecker(pdb)
    except DockDBError as e:
        report.errors.extend((pid, str(e)) for pid in pose_ids)
        bar.update(len(pose_ids))
        return
    for batch in _batches(pose_ids, BATCH_SIZE):
        with db.session() as s:
            sdfs = dict(s.execute(select(Pose.id, Pose.sdf).where(Pose.id.in_(batch))).all())
        results: list[tuple[int, bool, list[str]]] = []
        for pid in batch:
            try:
                outcome = checker.check(sdfs.get(pid) or "")
            except Exception as e:  # record the pose and go on: one odd pose must not stop a campaign
                report.errors.append((pid, one_line(e, with_type=True)))
            else:
                results.append((pid, outcome.passed, outcome.failed))
            bar.update(1)
        with db.session() as s:
            for pid, ok, failed in results:
                s.execute(update(Pose).where(Pose.id == pid).values(posebusters_pass=ok, posebusters_failed=failed))
        report.checked += len(results)
        report.passed += sum(1 for _, ok, _ in results if ok)


def _rate(n_pass: int, n: int) -> float | None:
    return round(n_pass / n, 4) if n else None


def _share(n_pass: int, n: int) -> dict[str, Any]:
    return {"n": n, "n_pass": n_pass, "pass_rate": _rate(n_pass, n)}


def summarise(session: Session, campaign_id: int | None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Summary and per-pose rows over every checked pose in scope (a campaign, or all)."""
    from docking.plausibility import check_names

    stmt = _scope(
        select(Pose.id, Pose.rank, Pose.score, Pose.posebusters_pass, Pose.posebusters_failed,
               Target.key, Drug.name, DockingResult.campaign_id),
        campaign_id,
    )
    stmt = (
        stmt.join(Receptor, Receptor.id == DockingResult.receptor_id)
        .join(Target, Target.id == Receptor.target_id)
        .join(Drug, Drug.id == DockingResult.drug_id)
        .where(Pose.posebusters_pass.is_not(None))
        .order_by(Pose.id)
    )
    names = list(check_names())
    counts = {"all": [0, 0], "rank1": [0, 0]}
    per_target: dict[str, dict[str, list[int]]] = defaultdict(lambda: {"all": [0, 0], "rank1": [0, 0]})
    failures = dict.fromkeys(names, 0)
    rows: list[dict[str, Any]] = []
    for pid, rank, score, ok, failed, target, drug, cid in session.execute(stmt.execution_options(yield_per=2000)):
        groups = ("all", "rank1") if rank == 1 else ("all",)
        for g in groups:
            for bucket in (counts[g], per_target[target][g]):
                bucket[0] += 1
                bucket[1] += int(bool(ok))
        for name in failed or []:
            failures[name] = failures.get(name, 0) + 1
        if len(rows) < MAX_ROWS:
            rows.append({"pose_id": pid, "campaign_id": cid, "target": target, "drug": drug, "rank": rank,
                         "score": round(float(score), 3), "pass": bool(ok), "failed": list(failed or [])})
    n = counts["all"][0]
    summary = {
        "overall": _share(counts["all"][1], n),
        "rank1": _share(counts["rank1"][1], counts["rank1"][0]),
        "per_target": {
            key: {"all": _share(v["all"][1], v["all"][0]), "rank1": _share(v["rank1"][1], v["rank1"][0])}
            for key, v in sorted(per_target.items())
        },
        "failures": failures,
        "failure_rate": {name: _rate(c, n) for name, c in failures.items()},
        "rows_truncated": n > MAX_ROWS,
    }
    return summary, rows


def failure_plot(summary: dict[str, Any]) -> str:
    """Horizontal bars: the share of checked poses failing each PoseBusters check (base64 PNG)."""
    from jobs.validation.store import png

    rates = summary["failure_rate"]
    names = list(rates)
    values = [100.0 * (rates[k] or 0.0) for k in names]
    n = summary["overall"]["n"]

    def draw(ax: Any) -> None:
        ax.barh(range(len(names)), values, color="#c0504d")
        ax.set_yticks(range(len(names)), [k.replace("_", " ") for k in names], fontsize=7)
        ax.invert_yaxis()
        ax.set_xlabel(f"poses failing the check (%, n = {n})")
        ax.set_xlim(0, max(5.0, max(values, default=0.0) * 1.1))
        ax.set_title(f"PoseBusters failures ({100 * (summary['overall']['pass_rate'] or 0):.1f} % pass all)")
        for i, v in enumerate(values):
            if v > 0:
                ax.text(v, i, f" {v:.1f}", va="center", fontsize=7)

    return png(draw, size=(7.0, 5.0))


def check_plausibility(
    db: Database,
    campaign: int | str | None = None,
    *,
    limit: int | None = None,
    recheck: bool = False,
    max_rank: int | None = None,
    progress: bool = True,
    command: str | None = None,
    echo: Callable[[str], None] | None = None,
) -> PlausibilityReport:
    """Check the campaign's (or every) unchecked poses and store a ValidationRun; returns the report."""
    from docking.plausibility import CONFIG, posebusters_version
    from jobs.campaign import get_campaign
    from jobs.manifest import software_versions
    from jobs.validation.store import command_line, save_run

    if limit is not None and limit < 1:
        raise InputError("--limit must be at least 1")
    if max_rank is not None and max_rank < 1:
        raise InputError("--max-rank must be at least 1")
    t0 = time.perf_counter()
    with db.session() as s:
        campaign_id, label, engine = None, "all", None
        if campaign is not None:
            c = get_campaign(s, campaign)
            campaign_id, label, engine = c.id, c.name, c.engine
        todo = _to_check(s, campaign_id, recheck, limit, max_rank)
    report = PlausibilityReport(label=label, engine=engine, selected=len(todo))
    if not todo:
        return report
    by_receptor: dict[int, list[int]] = defaultdict(list)
    for pid, rid in todo:
        by_receptor[rid].append(pid)
    if echo is not None:
        echo(f"checking {len(todo)} poses on {len(by_receptor)} receptor(s) with PoseBusters ({CONFIG} config)")
    bar = _progress(len(todo), label, progress)
    try:
        for rid, pose_ids in by_receptor.items():
            _check_receptor(db, rid, pose_ids, report, bar)
    finally:
        bar.close()
    report.seconds = time.perf_counter() - t0
    if report.checked == 0:
        return report
    with db.session() as s:
        if campaign_id is None:
            engines = s.scalars(
                select(Campaign.engine).distinct().join(DockingResult, DockingResult.campaign_id == Campaign.id)
                .join(Pose, Pose.result_id == DockingResult.id).where(Pose.posebusters_pass.is_not(None))
            ).all()
            report.engine = engines[0] if len(engines) == 1 else None
        summary, rows = summarise(s, campaign_id)
        summary["this_run"] = {
            "selected": report.selected,
            "checked": report.checked,
            "passed": report.passed,
            "errors": len(report.errors),
            "error_examples": [{"pose_id": p, "error": e} for p, e in report.errors[:MAX_ERRORS_STORED]],
            "seconds": round(report.seconds, 2),
            "poses_per_s": round(report.rate, 3),
        }
        report.summary = summary
        run = save_run(
            s,
            kind="plausibility",
            label=label,
            engine=report.engine,
            params={"campaign_id": campaign_id, "limit": limit, "recheck": recheck, "max_rank": max_rank,
                    "posebusters_config": CONFIG},
            summary=summary,
            rows=rows,
            command=command if command is not None else command_line(),
            plots={"failure_rate": failure_plot(summary)},
            software_versions={**software_versions(), "posebusters": posebusters_version()},
            runtime_s=round(report.seconds, 3),
        )
        report.run_id = run.id
    return report
