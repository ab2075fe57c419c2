"""Validation runs (``dockdb validate …``): the newest run per (kind, label, engine), one run's
per-item table, and a run's stored PNG figures.

The portal only reads what the CLI stored; it never imports ``jobs``.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dockdb.models import ValidationRun
from jobs.validation.kinds import KINDS as REGISTRY
from jobs.validation.kinds import kind_names
from webapp.params import NotFound
from webapp.queries.validation_tables import kind_tables

KINDS = kind_names()  # from the one registry, jobs.validation.kinds
KIND_TITLES = {name: kind.title for name, kind in REGISTRY.items()}
KIND_NOTES = {
    "redock": "Co-crystal ligands rebuilt from SMILES and docked back into their own protein; "
              "success = top-ranked pose within 2 Å heavy-atom RMSD of the crystal ligand.",
    "agreement": "Spearman rank correlation between DockCoV2's published scores and ours, per target.",
    "enrichment": "How well the docking score ranks experimental actives above inactives "
                  "(ROC AUC, enrichment factors, bootstrap confidence intervals).",
    "plausibility": "Share of stored poses that pass the PoseBusters physical and chemical checks.",
}
# what the "Items" count of a run counts, per kind (so n on this page reads against the other pages' counts)
KIND_ITEMS = {
    "redock": "complexes redocked",
    "agreement": "drug–target pairs with both scores",
    "enrichment": "drug–target pairs scored and tested in an assay",
    "plausibility": "poses checked",
}
PLOT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def plot_names(run: ValidationRun) -> list[str]:
    """Names of the run's figures that can be served (safe names only), sorted."""
    return sorted(n for n in (run.plots or {}) if isinstance(n, str) and PLOT_NAME.match(n))


def latest_run_ids(session: Session, kind: str | None = None) -> list[int]:
    """Ids of the newest run per (kind, label, engine), newest first."""
    vr = ValidationRun
    stmt = select(vr.id, vr.kind, vr.label, vr.engine).order_by(vr.created_at.desc(), vr.id.desc())
    if kind is not None:
        stmt = stmt.where(vr.kind == kind)
    seen: set[tuple[str, str, str | None]] = set()
    ids: list[int] = []
    for run_id, k, label, engine in session.execute(stmt):
        if (k, label, engine) not in seen:
            seen.add((k, label, engine))
            ids.append(int(run_id))
    return ids


def latest_runs(session: Session, kind: str | None = None) -> list[ValidationRun]:
    """The newest run per (kind, label, engine), newest first (full rows, figures included)."""
    ids = latest_run_ids(session, kind)
    if not ids:
        return []
    by_id = {r.id: r for r in session.scalars(select(ValidationRun).where(ValidationRun.id.in_(ids)))}
    return [by_id[i] for i in ids if i in by_id]


def run_summary(run: ValidationRun, plot_url: Any = None) -> dict[str, Any]:
    """A run without its per-item rows; ``plot_url(run_id, name)`` builds each figure's URL."""
    names = plot_names(run)
    return {
        "id": run.id,
        "kind": run.kind,
        "label": run.label,
        "engine": run.engine,
        "summary": run.summary or {},
        "n_items": run.n_items,
        "command": run.command,
        "params": run.params or {},
        "software_versions": run.software_versions or {},
        "runtime_s": run.runtime_s,
        "created_at": _iso(run.created_at),
        "plots": [{"name": n, "url": plot_url(run.id, n) if plot_url else None} for n in names],
    }


def list_runs(session: Session, kind: str | None = None, plot_url: Any = None) -> list[dict[str, Any]]:
    """The newest run of each (kind, label, engine) as summaries, newest first."""
    return [run_summary(r, plot_url) for r in latest_runs(session, kind)]


def get_run(session: Session, run_id: int) -> ValidationRun:
    """The ValidationRun *run_id*; NotFound when there is none."""
    run = session.get(ValidationRun, run_id)
    if run is None:
        raise NotFound(f"no validation run with id {run_id}")
    return run


def run_detail(session: Session, run_id: int, plot_url: Any = None) -> dict[str, Any]:
    """One run with its per-item table."""
    run = get_run(session, run_id)
    return {**run_summary(run, plot_url), "rows": list(run.rows or [])}


def plot_png(session: Session, run_id: int, name: str) -> bytes:
    """The PNG bytes of figure ``name`` of run ``run_id`` (NotFound for unknown ids/names)."""
    if not PLOT_NAME.match(name):
        raise NotFound(f"no figure {name[:64]!r}")
    plots = session.scalar(select(ValidationRun.plots).where(ValidationRun.id == run_id))
    if plots is None:
        raise NotFound(f"no validation run with id {run_id}")
    b64 = plots.get(name) if isinstance(plots, dict) else None
    if not isinstance(b64, str):
        raise NotFound(f"validation run {run_id} has no figure {name!r}")
    try:
        data = base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError):
        raise NotFound(f"figure {name!r} of validation run {run_id} is not readable") from None
    if not data.startswith(PNG_SIGNATURE):
        raise NotFound(f"figure {name!r} of validation run {run_id} is not a PNG")
    return data


def row_columns(rows: list[dict[str, Any]]) -> list[str]:
    """Column names of a per-item table: the keys of its rows, in first-seen order."""
    cols: dict[str, None] = {}
    for row in rows[:1000]:
        if isinstance(row, dict):
            cols.update(dict.fromkeys(str(k) for k in row))
    return list(cols)


def group_by_kind(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Runs grouped per kind (known kinds first, in their usual order), each sorted by label, engine;
    with the union of the runs' summary keys as the summary table's columns."""
    kinds = [k for k in KINDS if any(r["kind"] == k for r in runs)]
    kinds += sorted({r["kind"] for r in runs} - set(KINDS))
    out = []
    for kind in kinds:
        members = sorted((r for r in runs if r["kind"] == kind), key=lambda r: (r["label"], r["engine"] or ""))
        columns: dict[str, None] = {}
        for r in members:
            columns.update(dict.fromkeys(str(k) for k in r["summary"]))
        out.append({
            "kind": kind,
            "title": KIND_TITLES.get(kind, kind),
            "note": KIND_NOTES.get(kind, ""),
            "counted": KIND_ITEMS.get(kind, "items"),
            "columns": list(columns),
            "tables": kind_tables(members),
            "runs": members,
        })
    return out


_ACRONYMS = {"rmsd": "RMSD", "auc": "AUC", "roc": "ROC", "ef": "EF", "ci": "CI", "iqr": "IQR", "q1": "Q1",
             "q3": "Q3", "id": "id", "smiles": "SMILES", "pb": "PB"}


_EF = re.compile(r"^ef(\d+(?:\.\d+)?)$", re.IGNORECASE)


def _word(w: str) -> str:
    ef = _EF.match(w)
    return f"EF {ef.group(1)} %" if ef else _ACRONYMS.get(w.lower(), w)


def column_label(key: str) -> str:
    """``top_rmsd_median`` -> ``top RMSD median``, ``ef1_ci`` -> ``EF 1 % CI`` (for table headings)."""
    return " ".join(_word(w) for w in str(key).split("_"))


def heading(key: str) -> str:
    """A column label as a heading: ``ef_rule`` -> ``EF rule``, ``per_target`` -> ``Per target``."""
    text = column_label(key)
    return text[:1].upper() + text[1:]


def cell_class(value: Any) -> str:
    """``num`` (right-aligned, kept on one line) for a number or a numeric interval, else ``text``."""
    if value is None or isinstance(value, bool | int | float):
        return "num"
    if isinstance(value, list | tuple) and len(value) == 2 and all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in value):
        return "num"
    return "text"


def format_value(value: Any, key: str = "") -> str:
    """A summary or table cell as short text (rates as percentages)."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}" if abs(value) >= 10000 else str(value)
    if isinstance(value, float):
        if key.endswith(("_rate", "_share", "_fraction")) and 0.0 <= value <= 1.0:
            return f"{100.0 * value:.1f} %"
        return f"{value:.3g}" if abs(value) < 1e-3 or abs(value) >= 1e5 else f"{value:.3f}".rstrip("0").rstrip(".")
    if isinstance(value, list | tuple):
        if len(value) == 2 and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value):
            return f"{format_value(value[0])}–{format_value(value[1])}"
        return ", ".join(format_value(v) for v in value[:20]) + (" …" if len(value) > 20 else "")
    if isinstance(value, dict):
        parts = [f"{k}: {format_value(v, str(k))}" for k, v in list(value.items())[:20]]
        return "; ".join(parts) + (" …" if len(value) > 20 else "")
    return str(value)[:500]
