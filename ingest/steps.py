"""`ingest all`: every source step in order, each in its own transaction, with a summary.

A failing step (corrupt file, parse error, missing prerequisite) is rolled back alone and
reported with its one-line error; the run goes on with the next step.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from dockdb.config import Config
from dockdb.db import Database
from dockdb.errors import DockDBError, InputError, OfflineError, one_line
from ingest.common import SourceReport

StepFn = Callable[[Session, Config, SourceReport], None]


def _step(module: str, func: str) -> StepFn:
    def run(session: Session, config: Config, report: SourceReport) -> None:
        import importlib

        getattr(importlib.import_module(module), func)(session, config, report)

    return run


# step name -> loader, in dependency order (drugs before anything matched to drugs).
STEPS: dict[str, StepFn] = {
    "drugs": _step("ingest.drugs", "ingest_drugs"),
    "drug-targets": _step("ingest.drugtargets", "ingest_drug_targets"),
    "targets": _step("ingest.targets", "ingest_targets"),
    "reference": _step("ingest.reference", "ingest_reference"),
    "assay-ellinger": _step("ingest.assays", "ingest_ellinger"),
    "assay-touret": _step("ingest.assays", "ingest_touret"),
    "assay-heiser": _step("ingest.assays", "ingest_heiser"),
    "assay-dockcov2": _step("ingest.assays", "ingest_dockcov2_screening"),
    "gsea": _step("ingest.gsea", "ingest_gsea"),
    "literature-dockcov2": _step("ingest.literature", "ingest_dockcov2_documents"),
    "literature-ghddi": _step("ingest.literature", "ingest_ghddi"),
    "literature-chengf": _step("ingest.literature", "ingest_chengf"),
    "pathways": _step("ingest.pathways", "ingest_pathways"),
}

# CLI groups -> steps
GROUPS: dict[str, tuple[str, ...]] = {
    "drugs": ("drugs", "drug-targets"),
    "targets": ("targets",),
    "reference": ("reference",),
    "assays": ("assay-ellinger", "assay-touret", "assay-heiser", "assay-dockcov2"),
    "gsea": ("gsea",),
    "literature": ("literature-dockcov2", "literature-ghddi", "literature-chengf"),
    "pathways": ("pathways",),
}


@dataclass
class IngestReport:
    """What an ingest run did: one SourceReport per step, and the total time."""
    sources: list[SourceReport] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True when no step failed."""
        return all(s.ok for s in self.sources)

    @property
    def failed(self) -> list[SourceReport]:
        """Reports of the steps that failed."""
        return [s for s in self.sources if not s.ok]

    def get(self, name: str) -> SourceReport:
        """The report of step *name*; KeyError when the run had no such step."""
        for s in self.sources:
            if s.name == name:
                return s
        raise KeyError(name)

    @property
    def inserted(self) -> int:
        """Rows inserted over all steps."""
        return sum(s.inserted for s in self.sources)

    @property
    def updated(self) -> int:
        """Rows updated over all steps."""
        return sum(s.updated for s in self.sources)

    def as_dict(self) -> dict[str, Any]:
        """The run as a JSON-ready dict: ok, seconds and each step's report."""
        return {"ok": self.ok, "seconds": round(self.seconds, 2), "sources": [s.as_dict() for s in self.sources]}

    def table(self) -> str:
        """The run as an aligned text table, one line per step and a total line."""
        head = ("source", "read", "inserted", "updated", "rejected", "unmatched", "time", "status")
        lines = []
        for s in self.sources:
            status = "ok" if s.ok else f"FAILED: {s.error}"
            lines.append((s.name, f"{s.read:,}", f"{s.inserted:,}", f"{s.updated:,}", f"{s.rejected:,}",
                          f"{s.unmatched:,}", f"{s.seconds:.1f}s", status))
        total = ("total", f"{sum(s.read for s in self.sources):,}", f"{self.inserted:,}", f"{self.updated:,}",
                 f"{sum(s.rejected for s in self.sources):,}", f"{sum(s.unmatched for s in self.sources):,}",
                 f"{self.seconds:.1f}s", "ok" if self.ok else f"{len(self.failed)} failed")
        rows = [head, *lines, total]
        widths = [max(len(r[i]) for r in rows) for i in range(len(head) - 1)]
        out = []
        for n, r in enumerate(rows):
            cells = [r[0].ljust(widths[0])] + [r[i].rjust(widths[i]) for i in range(1, len(head) - 1)] + [r[-1]]
            out.append("  ".join(cells))
            if n == 0 or n == len(rows) - 2:
                out.append("  ".join("-" * w for w in widths) + "  ------")
        return "\n".join(out)


def resolve_steps(sources: Iterable[str] | None) -> list[str]:
    """Step names for a list of step or group names (None: every step), in run order."""
    if sources is None:
        return list(STEPS)
    wanted: set[str] = set()
    for name in sources:
        if name in GROUPS:
            wanted.update(GROUPS[name])
        elif name in STEPS:
            wanted.add(name)
        else:
            known = ", ".join([*GROUPS, *[s for s in STEPS if s not in GROUPS]])
            raise InputError(f"unknown ingest source {name!r}; choose from: {known}")
    return [s for s in STEPS if s in wanted]


def run_step(db: Database, config: Config, name: str) -> SourceReport:
    """Run one step in its own transaction; an error rolls it back and is recorded."""
    report = SourceReport(name)
    start = time.perf_counter()
    try:
        with db.session() as session:
            STEPS[name](session, config, report)
    except DockDBError as e:
        if isinstance(e, OfflineError) and config.mirror is None:
            raise  # no network and no mirror: every other source would fail the same way
        report.error = one_line(e, 1000)
    except Exception as e:  # parse errors of a damaged file: fail this source only
        report.error = one_line(e, 1000, with_type=True)
    if report.error is not None:
        report.inserted = report.updated = 0
    report.seconds = time.perf_counter() - start
    return report


def ingest_all(
    db: Database,
    config: Config,
    sources: Sequence[str] | None = None,
    *,
    progress: bool = False,
) -> IngestReport:
    """Load the given sources (step or group names; None = everything)."""
    steps = resolve_steps(sources)
    result = IngestReport()
    start = time.perf_counter()
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(steps), unit="source", desc="ingest", leave=False)
    try:
        for name in steps:
            if bar is not None:
                bar.set_postfix_str(name)
            result.sources.append(run_step(db, config, name))
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    result.seconds = time.perf_counter() - start
    return result
