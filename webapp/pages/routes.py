"""HTML pages: home, target, drug, search, selectivity, campaigns, downloads, API docs."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, render_template, request, send_file, url_for
from markupsafe import Markup

from webapp.extensions import get_session, state, ttl_cached
from webapp.pages.assets import INSTALL_HINT, viewer_available, viewer_path
from webapp.params import BadParameter, NotFound, Params
from webapp.queries import campaigns as qc
from webapp.queries import chem as qchem
from webapp.queries import downloads as qdl
from webapp.queries import drugs as qd
from webapp.queries import scores as qs
from webapp.queries import selectivity as qsel
from webapp.queries import targets as qt
from webapp.queries.common import DESCRIPTOR_LABELS, DESCRIPTORS
from webapp.queries.plots import histogram_svg, z_colour
from webapp.responses import db_id, id_url, number_cells

bp = Blueprint("pages", __name__)

SEARCH_MODES = ("name", "similar", "substructure")
DESCRIPTOR_FORMATS = ["%.1f" if d in ("mw", "tpsa") else "%g" for d in DESCRIPTORS]
TABLE_COLUMNS = [
    ("name", "Drug"),
    ("score", "DockDB score"),
    ("ref_score", "DockCoV2 score"),
    ("ligand_efficiency", "Ligand eff."),
    ("size_z", "Size-corrected z"),
    ("selectivity_z", "Selectivity z"),
    ("consensus", "Consensus %"),
    ("approval_status", "Approval"),
    ("clinical_phase", "Phase"),
    *((d, DESCRIPTOR_LABELS[d]) for d in DESCRIPTORS),
]


def _without(base: str, args: dict[str, str], *names: str) -> str:
    """*base* with *args* less *names* as its query string."""
    rest = {k: v for k, v in args.items() if k not in names}
    return f"{base}?{urlencode(rest)}" if rest else base


def _params() -> Params:
    return Params(request.args)


def _max_page() -> int:
    return state().config.max_page_size


@bp.get("/")
def home() -> str:
    """The home page: database counts and every target with its counts."""
    session = get_session()
    return render_template("home.html", counts=qs.stats(session), targets=qt.list_targets(session))


@bp.get("/targets/<key>")
def target(key: str) -> str:
    """A target's page: header, score histograms, filters and one page of its drug table."""
    session = get_session()
    p = _params()
    default_sort, measured = ttl_cached(f"measured:{key}", lambda: qt.measured_default(session, key))
    f = qt.TableFilter.from_params(p, default_sort)
    page, size = p.page(_max_page())
    # header, histogram and filter choices are rebuilt at most every cache_ttl_s seconds per process; only
    # existing target keys are cached (target_detail raises NotFound otherwise)
    detail = ttl_cached(f"detail:{key}", lambda: qt.target_detail(session, key))
    table = qt.cached_target_table(session, detail["key"], f, page, size)
    for item in table.items:  # descriptor cells in one pass: the template would loop 8 times per row
        item["descriptor_cells"] = number_cells([item[d] for d in DESCRIPTORS], DESCRIPTOR_FORMATS)
    dist = ttl_cached(f"distribution:{detail['key']}", lambda: qt.distribution(session, key))
    args = f.as_args()
    if size != min(50, _max_page()):
        args["page_size"] = str(size)

    base = url_for("pages.target", key=detail["key"])

    def href(**changes: Any) -> str:  # ~20 links per page: one url_for, then plain query strings
        merged = {**args, **{k: str(v) for k, v in changes.items() if v is not None}}
        return f"{base}?{urlencode(merged)}" if merged else base

    return render_template(
        "target.html",
        href=href,
        target=detail,
        table=table,
        f=f,
        args=args,
        page_size=size,
        facets=ttl_cached(f"facets:{detail['key']}", lambda: qt.facet_values(session, key)),
        chart=Markup(histogram_svg(dist)),
        dist=dist,
        descriptors=DESCRIPTORS,
        labels=DESCRIPTOR_LABELS,
        columns=TABLE_COLUMNS,
        sorted_by=qt.sort_description(f, dict(TABLE_COLUMNS)),
        measured=measured,
        labels_all={**dict(TABLE_COLUMNS), "score": "the raw docking score"},
        best_sort_url=_without(base, args, "sort", "order") if f.sort != "best" else None,
        csv_url=url_for("pages.target_csv", key=detail["key"], **f.as_args()),
        drug_url=id_url("pages.drug", "drug_id"),
        sdf_url=id_url("api.pose_sdf", "pose_id"),
        viewer_config={
            "mode": "target",
            "receptor_url": url_for("api.receptor_pdb", receptor_id=detail["receptor"]["id"])
            if detail["receptor"]
            else None,
            "pocket": detail["pockets"][0] if detail["pockets"] else None,
        },
    )


@bp.get("/targets/<key>/table.csv")
def target_csv(key: str) -> Response:
    """The target's whole filtered drug table as a CSV download."""
    session = get_session()
    target = qt.get_target_model(session, key)
    f = qt.TableFilter.from_params(_params(), qt.measured_default(session, target.key)[0])
    fh = qdl.table_csv(session, target.key, f)
    return send_file(fh, mimetype="text/csv", as_attachment=True, download_name=f"dockdb-{target.key}-table.csv")


@bp.get("/drugs/<int:drug_id>")
def drug(drug_id: int) -> str:
    """A drug's page: identifiers, scores, annotations and its poses in the 3D viewer (best pose first)."""
    session = get_session()
    drug_id = db_id(drug_id, "drug")
    detail = qd.drug_detail(session, drug_id)
    poses = qd.drug_poses(session, drug_id)
    best = min(poses, key=lambda p: (p["score"] if p["score"] is not None else 0.0, p["rank"])) if poses else None
    initial = None
    if best is not None:
        from webapp.queries.poses import pose_detail

        initial = pose_detail(session, best["id"], include_text=False)
    return render_template(
        "drug.html",
        drug=detail,
        other_identifiers=qd.other_identifiers(detail),
        scores=qd.drug_scores(session, drug_id),
        poses=poses,
        initial=initial,
        ann=qd.drug_annotations(session, drug_id),
        labels=DESCRIPTOR_LABELS,
        viewer_config={"mode": "pose", "pose_id": best["id"] if best else None},
    )


@bp.get("/search")
def search() -> str | tuple[str, int]:
    """The search page: drugs by name, similarity to a SMILES or a SMARTS substructure."""
    p = _params()
    raw = {name: (request.args.get(name) or "")[:limit] for name, limit in
           (("q", 100), ("smiles", qchem.MAX_SMILES_LEN), ("smarts", qchem.MAX_SMARTS_LEN))}
    mode = request.args.get("mode") if request.args.get("mode") in SEARCH_MODES else "name"
    result: dict[str, Any] | None = None
    page = None
    threshold: float | None = 0.5
    try:  # a bad query is shown above the forms, which keep what was typed
        mode = p.choice("mode", SEARCH_MODES, "name") or "name"
        q = p.text("q", max_len=100)
        smiles = p.text("smiles", max_len=qchem.MAX_SMILES_LEN)
        smarts = p.text("smarts", max_len=qchem.MAX_SMARTS_LEN)
        threshold = p.number("threshold", 0.5, lo=0.0, hi=1.0)
        session = get_session()
        limit = min(100, _max_page())
        if mode == "name" and q:
            pg, size = p.page(_max_page())
            page = qd.search_drugs(session, q, pg, size)
        elif mode == "similar" and smiles:
            result = qchem.similar(session, smiles, float(threshold or 0.0), limit)
        elif mode == "substructure" and smarts:
            result = qchem.substructure(session, smarts, limit, float(state().config.query_timeout_s))
    except BadParameter as e:
        html = render_template("search.html", mode=mode, threshold=threshold, page=None, result=None, error=e,
                               **raw)
        return html, 400
    return render_template(
        "search.html", mode=mode, q=q, smiles=smiles, smarts=smarts, threshold=threshold, page=page, result=result,
        error=None,
    )


@bp.get("/selectivity")
def selectivity() -> str:
    """The selectivity page: the *top* drugs by best z-score on any target, as a coloured matrix."""
    p = _params()
    top = p.integer("top", 30, lo=1, hi=200) or 30
    source = p.choice("source", qsel.SOURCES, "auto") or "auto"
    matrix = qsel.selectivity_matrix(get_session(), top, source)
    return render_template("selectivity.html", matrix=matrix, top=top, source=source, colour=z_colour)


@bp.get("/campaigns")
def campaigns() -> str:
    """The campaigns page: every campaign with its progress."""
    return render_template("campaigns.html", campaigns=qc.list_campaigns(get_session()))


@bp.get("/campaigns/<int:campaign_id>")
def campaign(campaign_id: int) -> str:
    """A campaign's page: progress, targets and parameters."""
    detail = qc.campaign_detail(get_session(), db_id(campaign_id, "campaign"))
    return render_template("campaign.html", c=detail)


@bp.get("/downloads")
def downloads() -> str:
    """The downloads page: links to each target's and campaign's archive."""
    session = get_session()
    return render_template("downloads.html", targets=qt.list_targets(session), campaigns=qc.list_campaigns(session))


@bp.get("/downloads/targets/<key>.zip")
def download_target(key: str) -> Response:
    """``<key>.zip`` download: the target's full ranked table (CSV) and every best pose (SDF)."""
    name, fh = qdl.target_archive(get_session(), key)
    return send_file(fh, mimetype="application/zip", as_attachment=True, download_name=name)


@bp.get("/downloads/campaigns/<int:campaign_id>.zip")
def download_campaign(campaign_id: int) -> Response:
    """``campaign-<id>.zip`` download: every result (CSV), the best pose of each (SDF), the manifest."""
    name, fh = qdl.campaign_archive(get_session(), db_id(campaign_id, "campaign"))
    return send_file(fh, mimetype="application/zip", as_attachment=True, download_name=name)


@bp.get("/api/docs")
def api_docs() -> str:
    """The API documentation page."""
    return render_template("api_docs.html")


@bp.get("/vendor/3Dmol-min.js")
def viewer_js() -> Response:
    """The installed 3Dmol.js file (404 with the install command when it is missing)."""
    if not viewer_available():
        raise NotFound(INSTALL_HINT)
    return send_file(viewer_path(), mimetype="text/javascript", max_age=86400)
