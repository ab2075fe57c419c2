"""Bad input never gives a 500: 400 naming the parameter, 404 for unknown ids, JSON or HTML by client."""

from __future__ import annotations

import re

from dockdb.config import Config
from tests.webapp.conftest import Portal
from webapp import create_app

HOSTILE = [
    "' OR 1=1 --",
    "1; DROP TABLE drug; --",
    "<script>alert(1)</script>",
    "../../etc/passwd",
    "%00",
    "\u202e\u0000",
    "x" * 5000,
]

# url -> parameter the 400 must name
BAD_PARAMETERS = {
    "/api/v1/targets/3clpro/table?page_size=100000": "page_size",
    "/api/v1/targets/3clpro/table?page_size=0": "page_size",
    "/api/v1/targets/3clpro/table?page=-1": "page",
    "/api/v1/targets/3clpro/table?page=abc": "page",
    "/api/v1/targets/3clpro/table?max_score=nan": "max_score",
    "/api/v1/targets/3clpro/table?max_score=1e400": "max_score",
    "/api/v1/selectivity?source=": "source",  # an empty value is not one of the enum's
    "/api/v1/validation?kind=": "kind",
    "/api/v1/targets/3clpro/table?sort=name;DROP TABLE drug": "sort",
    "/api/v1/targets/3clpro/table?order=sideways": "order",
    "/api/v1/targets/3clpro/table?rows=everything": "rows",
    "/api/v1/targets/3clpro/table?has_literature=maybe": "has_literature",
    "/api/v1/targets/3clpro/table?campaign=1 OR 1=1": "campaign",
    "/api/v1/targets/3clpro/distribution?bins=100000": "bins",
    "/api/v1/drugs?page_size=501": "page_size",
    "/api/v1/drugs?q=" + "a" * 101: "q",
    "/api/v1/drugs/suggest?q=as&limit=1000": "limit",
    "/api/v1/scores?drug=abc": "drug",
    "/api/v1/scores?campaign=99999999999999": "campaign",
    "/api/v1/scores?status=weird": "status",
    "/api/v1/scores?sort=../../etc/passwd": "sort",
    "/api/v1/poses/1?include_sdf=perhaps": "include_sdf",
    "/api/v1/search/similar": "smiles",
    "/api/v1/search/similar?smiles=C1CC": "smiles",
    "/api/v1/search/similar?smiles=<script>alert(1)</script>": "smiles",
    "/api/v1/search/similar?smiles=CCO&threshold=2": "threshold",
    "/api/v1/search/similar?smiles=" + "C" * 1200: "smiles",
    "/api/v1/search/similar?smiles=" + "C" * 300: "smiles",
    "/api/v1/search/substructure": "smarts",
    "/api/v1/search/substructure?smarts=[[[": "smarts",
    "/api/v1/search/substructure?smarts=" + "C" * 80: "smarts",
    "/api/v1/search/substructure?smarts=" + "[$([$([$([$(C)])])])]": "smarts",
    "/api/v1/search/substructure?smarts=c1ccccc1&limit=0": "limit",
    "/api/v1/selectivity?top=1000": "top",
    "/api/v1/selectivity?source=other": "source",
}

NOT_FOUND = [
    "/api/v1/targets/nope",
    "/api/v1/targets/nope/table",
    "/api/v1/targets/..%2F..%2Fetc%2Fpasswd",
    "/api/v1/drugs/999999",
    "/api/v1/drugs/99999999999999999999",
    "/api/v1/drugs/abc",
    "/api/v1/drugs/999999/scores",
    "/api/v1/drugs/999999/poses",
    "/api/v1/drugs/999999/annotations",
    "/api/v1/drugs/999999/depiction.svg",
    "/api/v1/poses/999999",
    "/api/v1/poses/999999.sdf",
    "/api/v1/poses/999999.pdbqt",
    "/api/v1/poses/999999/complex.pdb",
    "/api/v1/receptors/999999.pdb",
    "/api/v1/campaigns/999999",
    "/api/v1/scores?target=nope",
    "/api/v1/no-such-route",
]


def test_bad_parameters_answer_400_naming_the_parameter(portal: Portal) -> None:
    for url, parameter in BAD_PARAMETERS.items():
        r = portal.client.get(url)
        assert r.status_code == 400, (url, r.status_code, r.data[:200])
        body = r.get_json()
        assert body["error"] == "bad_parameter" and body["parameter"] == parameter, (url, body)
        assert parameter in body["message"]


def test_unknown_ids_answer_404_json(portal: Portal) -> None:
    for url in NOT_FOUND:
        r = portal.client.get(url)
        assert r.status_code == 404, (url, r.status_code)
        assert r.get_json()["error"] == "not_found"


def test_hostile_text_is_data_not_code(portal: Portal) -> None:
    """SQL fragments, markup and paths in free-text parameters match nothing and are escaped."""
    for text in HOSTILE:
        for url, params in [
            ("/api/v1/drugs", {"q": text}),
            ("/api/v1/drugs/suggest", {"q": text}),
            ("/api/v1/targets/3clpro/table", {"q": text, "approval_status": text}),
            ("/search", {"q": text}),
            ("/targets/3clpro", {"q": text, "clinical_phase": text}),
            ("/api/v1/scores", {"target": text}),
        ]:
            r = portal.client.get(url, query_string=params)
            assert r.status_code in (200, 400, 404), (url, text[:20], r.status_code)
            if r.status_code == 200 and r.mimetype == "application/json":
                body = r.get_json()
                assert body.get("total", 0) == 0 and body.get("items", []) == []
            if r.mimetype == "text/html":
                assert b"<script>alert(1)</script>" not in r.data
    # the tables survived
    assert portal.client.get("/api/v1/stats").get_json()["drugs"] == 8
    page = portal.client.get("/search", query_string={"q": "<script>alert(1)</script>"})
    assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in page.data


def test_browsers_get_html_errors_and_api_clients_json(portal: Portal) -> None:
    html = portal.client.get("/drugs/999999")
    assert html.status_code == 404 and html.mimetype == "text/html"
    assert b"no drug with id 999999" in html.data
    bad = portal.client.get("/targets/3clpro?page_size=9999")
    assert bad.status_code == 400 and b"page_size must be an integer between 1 and 500" in bad.data
    js = portal.client.get("/drugs/999999", headers={"Accept": "application/json"})
    assert js.status_code == 404 and js.get_json()["message"] == "no drug with id 999999"
    missing = portal.client.get("/no/such/page")
    assert missing.status_code == 404 and missing.mimetype == "text/html"
    post = portal.client.post("/api/v1/stats")
    assert post.status_code == 405 and post.get_json()["status"] == 405


def test_page_size_bound_follows_config(db, config: Config) -> None:
    app = create_app(config.with_(env="testing", max_page_size=5))
    client = app.test_client()
    assert client.get("/api/v1/drugs?page_size=5").status_code == 200
    r = client.get("/api/v1/drugs?page_size=6")
    assert r.status_code == 400 and r.get_json()["message"] == "page_size must be an integer between 1 and 5"
    doc = client.get("/api/v1/openapi.json").get_json()
    params = doc["paths"]["/api/v1/drugs"]["get"]["parameters"]
    assert next(p for p in params if p["name"] == "page_size")["schema"]["maximum"] == 5


def test_unreachable_database_is_503_not_500(tmp_path) -> None:
    cfg = Config.load(environ={}, home=tmp_path, database_url="postgresql://nobody@127.0.0.1:1/none", env="testing")
    client = create_app(cfg).test_client()
    r = client.get("/api/v1/stats")
    assert r.status_code == 503 and r.get_json()["error"] == "database_unavailable"
    assert client.get("/").status_code == 503


def test_empty_database_pages_work(empty_portal: Portal) -> None:
    r = empty_portal.client.get("/api/v1/stats")
    assert r.status_code == 200
    stats = r.get_json()
    assert {"drugs", "targets", "campaigns", "poses", "reference_scores"} <= set(stats)
    assert set(stats.values()) == {0}
    r = empty_portal.client.get("/")
    assert r.status_code == 200
    page = " ".join(re.sub(r"<[^>]+>", " ", r.get_data(as_text=True)).split())
    assert "0 drugs 0 targets 0 campaigns 0 poses" in page
    assert "No targets yet. Load them with dockdb target add" in page
