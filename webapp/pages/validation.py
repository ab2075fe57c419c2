"""The Validation page: the newest run of each ``dockdb validate …`` (kind, label, engine) with its
numbers, the command that reproduces it, its per-item table and its figures (PNG from the database)."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, url_for

from webapp.extensions import get_session
from webapp.queries import validation as qv
from webapp.responses import db_id

bp = Blueprint("validation", __name__)

MAX_HTML_ROWS = 1000  # per-item rows shown on the page; the JSON API has them all


def plot_url(run_id: int, name: str) -> str:
    """URL of plot *name* of validation run *run_id*."""
    return url_for("validation.plot", run_id=run_id, name=name)


@bp.get("/validation")
def index() -> str:
    """The validation page: the latest run of each kind with its summary, rows and plots."""
    session = get_session()
    runs = []
    for run in qv.latest_runs(session):
        item = qv.run_summary(run, plot_url)
        rows = [r for r in (run.rows or []) if isinstance(r, dict)]
        item["rows"] = rows[:MAX_HTML_ROWS]
        item["n_rows"] = len(rows)
        item["row_columns"] = qv.row_columns(rows)
        runs.append(item)
    return render_template("validation.html", groups=qv.group_by_kind(runs), fmt=qv.format_value, label=qv.column_label,
                           cell=qv.cell_class, heading=qv.heading, max_rows=MAX_HTML_ROWS)


@bp.get("/validation/plot/<int:run_id>/<name>.png")
def plot(run_id: int, name: str) -> Response:
    """A validation run's plot as a PNG (cached an hour)."""
    data = qv.plot_png(get_session(), db_id(run_id, "validation run"), name)
    resp = Response(data, mimetype="image/png")
    resp.headers["Cache-Control"] = "public, max-age=3600"
    return resp
