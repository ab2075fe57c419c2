"""``/api/v1/validation``: stored validation runs (newest per kind, label and engine) and one run's rows."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from webapp.extensions import get_session
from webapp.pages.validation import plot_url
from webapp.params import Params
from webapp.queries import validation as qv
from webapp.responses import db_id

bp = Blueprint("validation_api", __name__, url_prefix="/api/v1")


@bp.get("/validation")
def runs() -> Response:
    """GET /api/v1/validation: every stored validation run (of one *kind* when given)."""
    kind = Params(request.args, empty_is_error=True).choice("kind", qv.KINDS)
    return jsonify({"items": qv.list_runs(get_session(), kind, plot_url)})


@bp.get("/validation/<int:run_id>")
def run(run_id: int) -> Response:
    """GET /api/v1/validation/<id>: one validation run with its rows and plot URLs."""
    return jsonify(qv.run_detail(get_session(), db_id(run_id, "validation run"), plot_url))
