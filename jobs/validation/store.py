"""Store and read validation runs; draw their figures to PNG."""

from __future__ import annotations

import base64
import io
import re
import shlex
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dockdb.models import ValidationRun
from jobs.validation.kinds import kind_names

KINDS = kind_names()  # from the one registry, jobs.validation.kinds


def command_line(argv: Sequence[str] | None = None) -> str:
    """The command that reproduces this run, as a user would type it."""
    args = list(sys.argv[1:] if argv is None else argv)
    return "dockdb " + shlex.join(args) if args else "dockdb"


def png(draw: Callable[[Any], None], *, size: tuple[float, float] = (6.0, 4.0)) -> str:
    """Run ``draw(ax)`` on a fresh matplotlib figure and return the PNG, base64-encoded."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, dpi=100, layout="constrained")
    ax = fig.add_subplot()
    draw(ax)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def save_run(
    session: Session,
    *,
    kind: str,
    label: str,
    engine: str | None,
    params: dict[str, Any],
    summary: dict[str, Any],
    rows: list[dict[str, Any]],
    command: str,
    plots: dict[str, str] | None = None,
    software_versions: dict[str, str] | None = None,
    runtime_s: float | None = None,
) -> ValidationRun:
    """Insert one validation run (the caller commits)."""
    if kind not in KINDS:
        raise ValueError(f"unknown validation kind {kind!r}; expected one of {', '.join(KINDS)}")
    if software_versions is None:
        from jobs.manifest import software_versions as _versions

        software_versions = _versions()
    run = ValidationRun(
        kind=kind,
        label=label,
        engine=engine,
        params=params,
        summary=summary,
        rows=rows,
        command=command,
        plots=plots or {},
        software_versions=software_versions,
        n_items=len(rows),
        runtime_s=runtime_s,
    )
    session.add(run)
    session.flush()
    return run


def latest_runs(session: Session, kind: str | None = None) -> list[ValidationRun]:
    """The newest run per (kind, label, engine), newest first."""
    stmt = select(ValidationRun).order_by(ValidationRun.created_at.desc(), ValidationRun.id.desc())
    if kind is not None:
        stmt = stmt.where(ValidationRun.kind == kind)
    seen: set[tuple[str, str, str | None]] = set()
    out = []
    for run in session.scalars(stmt):
        key = (run.kind, run.label, run.engine)
        if key not in seen:
            seen.add(key)
            out.append(run)
    return out


def write_plots(run: ValidationRun, directory: Path) -> list[Path]:
    """Write a run's figures as ``<kind>-<label>[-<engine>]-<name>.png`` files (for docs/)."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, b64 in sorted(run.plots.items()):
        parts = (run.kind, run.label, run.engine, name)
        safe = "-".join(re.sub(r"[^A-Za-z0-9.+]+", "_", p).strip("_") for p in parts if p)
        path = directory / f"{safe}.png"
        path.write_bytes(base64.b64decode(b64))
        written.append(path)
    return written
