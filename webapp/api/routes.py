"""JSON API routes; each parses its parameters strictly and calls one query function."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request, url_for

from webapp.api.openapi import openapi_document
from webapp.extensions import get_session, state, ttl_cached
from webapp.params import BadParameter, NotFound, Params
from webapp.queries import campaigns as qc
from webapp.queries import chem as qchem
from webapp.queries import drugs as qd
from webapp.queries import poses as qp
from webapp.queries import scores as qs
from webapp.queries import selectivity as qsel
from webapp.queries import targets as qt
from webapp.responses import db_id, download, svg

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def _params() -> Params:
    return Params(request.args, empty_is_error=True)


def _max_page() -> int:
    return state().config.max_page_size


@bp.get("/")
def index() -> Response:
    """GET /api/v1/: the API's name, version, OpenAPI URL and every route."""
    rules = sorted(
        {r.rule for r in current_app.url_map.iter_rules() if r.rule.startswith("/api/v1/") and r.rule != "/api/v1/"}
    )
    return jsonify({"name": "DockDB API", "version": "v1", "openapi": url_for("api.openapi"), "routes": rules})


@bp.get("/openapi.json")
def openapi() -> Response:
    """GET /api/v1/openapi.json: the OpenAPI document."""
    return jsonify(openapi_document(_max_page()))


@bp.get("/stats")
def stats() -> Response:
    """GET /api/v1/stats: row counts of drugs, targets, campaigns, poses and reference scores."""
    return jsonify(qs.stats(get_session()))


@bp.get("/targets")
def targets() -> Response:
    """GET /api/v1/targets: every target with its counts of docked drugs, poses and reference scores."""
    return jsonify({"items": qt.list_targets(get_session())})


@bp.get("/targets/<key>")
def target(key: str) -> Response:
    """GET /api/v1/targets/<key>: one target with its pockets, receptor and campaigns."""
    return jsonify(qt.target_detail(get_session(), key))


@bp.get("/targets/<key>/table")
def target_table(key: str) -> Response:
    """GET /api/v1/targets/<key>/table: one page of the target's filtered, sorted drug table."""
    p = _params()
    session = get_session()
    default_sort, measured = ttl_cached(f"measured:{key}", lambda: qt.measured_default(session, key))
    f = qt.TableFilter.from_params(p, default_sort)
    page, size = p.page(_max_page())
    return jsonify({**qt.cached_target_table(session, key, f, page, size).as_dict(), "sort": f.sort,
                    "measured_enrichment": measured})


@bp.get("/targets/<key>/distribution")
def target_distribution(key: str) -> Response:
    """GET /api/v1/targets/<key>/distribution: histograms of best scores per campaign and DockCoV2's, in *bins* bins."""
    bins = _params().integer("bins", 24, lo=2, hi=200) or 24
    return jsonify(qt.distribution(get_session(), key, bins))


@bp.get("/drugs")
def drugs() -> Response:
    """GET /api/v1/drugs: one page of drugs matching a name (and approval status)."""
    p = _params()
    q = p.text("q", max_len=100)
    approval = p.text("approval_status", max_len=64)
    page, size = p.page(_max_page())
    return jsonify(qd.search_drugs(get_session(), q, page, size, approval).as_dict())


@bp.get("/drugs/suggest")
def suggest() -> Response:
    """GET /api/v1/drugs/suggest: the best few drug-name matches for *q* (at most *limit*) with the matched text."""
    p = _params()
    q = p.text("q", max_len=100)
    limit = p.integer("limit", 10, lo=1, hi=50) or 10
    return jsonify({"q": q, "items": qd.suggest(get_session(), q, limit) if q else []})


@bp.get("/drugs/<int:drug_id>")
def drug(drug_id: int) -> Response:
    """GET /api/v1/drugs/<id>: one drug with its identifiers, synonyms and descriptors."""
    return jsonify(qd.drug_detail(get_session(), db_id(drug_id, "drug")))


@bp.get("/drugs/<int:drug_id>/scores")
def drug_scores(drug_id: int) -> Response:
    """GET /api/v1/drugs/<id>/scores: the drug's scores on every target, ours per campaign and DockCoV2's."""
    return jsonify({"drug_id": drug_id, "items": qd.drug_scores(get_session(), db_id(drug_id, "drug"))})


@bp.get("/drugs/<int:drug_id>/poses")
def drug_poses(drug_id: int) -> Response:
    """GET /api/v1/drugs/<id>/poses: the drug's stored poses."""
    return jsonify({"drug_id": drug_id, "items": qd.drug_poses(get_session(), db_id(drug_id, "drug"))})


@bp.get("/drugs/<int:drug_id>/annotations")
def drug_annotations(drug_id: int) -> Response:
    """GET /api/v1/drugs/<id>/annotations: the drug's assays, targets, pathways, GSEA scores and literature."""
    return jsonify(qd.drug_annotations(get_session(), db_id(drug_id, "drug")))


@bp.get("/drugs/<int:drug_id>/depiction.svg")
def drug_depiction(drug_id: int) -> Response:
    """GET /api/v1/drugs/<id>/depiction.svg: a 2D drawing of the drug (404 when it cannot be drawn)."""
    drug = qd.get_drug_model(get_session(), db_id(drug_id, "drug"))
    text = qchem.depiction_svg(drug.smiles)
    if text is None:
        raise NotFound(f"drug {drug_id} has no drawable structure")
    return svg(text)


@bp.get("/scores")
def scores() -> Response:
    """GET /api/v1/scores: one page of docking scores filtered by target, drug, campaign, status and score."""
    p = _params()
    f = qs.ScoreFilter.from_params(p)
    page, size = p.page(_max_page())
    return jsonify(qs.list_scores(get_session(), f, page, size).as_dict())


@bp.get("/poses/<int:pose_id>")
def pose(pose_id: int) -> Response:
    """GET /api/v1/poses/<id>: one pose with its scores and interactions (and SDF/PDBQT unless include_sdf=false)."""
    include = _params().flag("include_sdf", True)
    return jsonify(qp.pose_detail(get_session(), db_id(pose_id, "pose"), include_text=include))


@bp.get("/poses/<int:pose_id>.sdf")
def pose_sdf(pose_id: int) -> Response:
    """GET /api/v1/poses/<id>.sdf: the pose as an SDF download."""
    name, text = qp.pose_sdf(get_session(), db_id(pose_id, "pose"))
    return download(name, text, "chemical/x-mdl-sdfile")


@bp.get("/poses/<int:pose_id>.pdbqt")
def pose_pdbqt(pose_id: int) -> Response:
    """GET /api/v1/poses/<id>.pdbqt: the pose as a PDBQT download."""
    name, text = qp.pose_pdbqt(get_session(), db_id(pose_id, "pose"))
    return download(name, text, "chemical/x-pdbqt")


@bp.get("/poses/<int:pose_id>/complex.pdb")
def pose_complex(pose_id: int) -> Response:
    """GET /api/v1/poses/<id>/complex.pdb: receptor plus pose as one PDB download."""
    name, text = qp.pose_complex(get_session(), db_id(pose_id, "pose"))
    return download(name, text, "chemical/x-pdb")


@bp.get("/receptors/<int:receptor_id>.pdb")
def receptor_pdb(receptor_id: int) -> Response:
    """GET /api/v1/receptors/<id>.pdb: the prepared receptor as a PDB download (cached 10 minutes)."""
    name, text = qp.receptor_pdb(get_session(), db_id(receptor_id, "receptor"))
    resp = download(name, text, "chemical/x-pdb")
    resp.headers["Cache-Control"] = "public, max-age=600"
    return resp


@bp.get("/campaigns")
def campaigns() -> Response:
    """GET /api/v1/campaigns: every campaign with its progress."""
    return jsonify({"items": qc.list_campaigns(get_session())})


@bp.get("/campaigns/<int:campaign_id>")
def campaign(campaign_id: int) -> Response:
    """GET /api/v1/campaigns/<id>: one campaign with its progress, targets and parameters."""
    return jsonify(qc.campaign_detail(get_session(), db_id(campaign_id, "campaign")))


def _search_limit(p: Params) -> int:
    return p.integer("limit", 50, lo=1, hi=_max_page()) or 50


@bp.get("/search/similar")
def search_similar() -> Response:
    """GET /api/v1/search/similar: drugs at least *threshold* Tanimoto-similar to *smiles*."""
    p = _params()
    smiles = p.text("smiles", max_len=qchem.MAX_SMILES_LEN)
    if not smiles:
        raise BadParameter("smiles", "smiles is required (a SMILES string)")
    threshold = p.number("threshold", 0.5, lo=0.0, hi=1.0)
    result: dict[str, Any] = qchem.similar(get_session(), smiles, float(threshold or 0.0), _search_limit(p))
    return jsonify(result)


@bp.get("/search/substructure")
def search_substructure() -> Response:
    """GET /api/v1/search/substructure: drugs containing the *smarts* pattern (time-limited)."""
    p = _params()
    smarts = p.text("smarts", max_len=qchem.MAX_SMARTS_LEN)
    if not smarts:
        raise BadParameter("smarts", "smarts is required (a SMARTS pattern)")
    timeout = float(state().config.query_timeout_s)
    return jsonify(qchem.substructure(get_session(), smarts, _search_limit(p), timeout))


@bp.get("/selectivity")
def selectivity() -> Response:
    """GET /api/v1/selectivity: the *top* drugs by best z-score on any target, with z on every target."""
    p = _params()
    top = p.integer("top", 30, lo=1, hi=200) or 30
    source = p.choice("source", qsel.SOURCES, "auto") or "auto"
    return jsonify(qsel.selectivity_matrix(get_session(), top, source))
