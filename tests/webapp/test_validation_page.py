"""The Validation page and /api/v1/validation on runs stored by jobs.validation.store, both backends."""

from __future__ import annotations

import html as html_lib
from typing import Any

from dockdb.db import Database
from jobs.validation.store import png, save_run
from tests.webapp.conftest import Portal

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
REDOCK_CMD = "dockdb validate redock --set posebusters --engine vina,torch --exhaustiveness 8"


def _line(ax: Any) -> None:
    ax.plot([0.0, 1.0, 2.0], [0.0, 0.5, 1.0])
    ax.axvline(2.0)


# the shape `dockdb validate enrichment` stores (jobs.validation.enrichment)
_TARGET = {"n": 1300, "n_actives": 41, "auc": 0.6789, "auc_ci": [0.61, 0.74], "ef1": 3.5, "ef1_ci": [1.2, 6.0],
           "ef5": 2.25, "ef5_ci": [1.1, 3.4], "n_scored": 1634, "auc_size_baseline": 0.58}
ENRICHMENT_SUMMARY = {
    "source": {"campaign_id": 1, "name": "fda-all", "engine": "vina", "pocket": "focused"},
    "assays": ["ellinger-caco2-cpe", "ncats-3clpro-enzymatic-inhibition"],
    "target_assays": {"ncats-3clpro-enzymatic-inhibition": ["3clpro"], "ellinger-caco2-cpe": ["3clpro", "plpro",
                      "rdrp", "spike-rbd", "nucleocapsid", "ace2", "tmprss2"]},
    "inactives": "tested in the assay and not active by its rule (Ellinger: no CPE reduction at 10 µM)",
    "score": "lower = predicted active",
    "size_baseline": "auc_size_baseline: AUC of the heavy-atom count alone (more atoms = predicted active)",
    "ef_rule": "n_top = max(1, round_half_up(x% of n)); ties at the cut shared out fractionally",
    "bootstrap": 1000, "seed": 42,
    "targets": [{"target": key, "assays": ["ellinger-caco2-cpe", "ncats-3clpro-enzymatic-inhibition"], **_TARGET}
                for key in ("3clpro", "plpro", "rdrp", "spike-rbd", "nucleocapsid", "ace2", "tmprss2")],
}


def store_runs(db: Database) -> dict[str, int]:
    """Runs of three kinds; the redock/posebusters/vina key twice (the newer must win)."""
    plot = png(_line)
    ids: dict[str, int] = {}
    versions = {"python": "3.12", "vina": "1.2.7"}
    with db.session() as s:
        old = save_run(
            s, kind="redock", label="posebusters", engine="vina", params={"exhaustiveness": 1},
            summary={"n": 4, "top_success": 0, "top_success_rate": 0.0}, rows=[], command="dockdb validate old",
            plots={}, software_versions=versions,
        )
        ids["old"] = old.id
    with db.session() as s:
        rows = [
            {"id": "1ia1", "heavy_atoms": 19, "top_score": -7.73, "top_rmsd": 1.92, "best_rmsd": 0.67,
             "success": True, "seconds": 23.0, "error": None},
            {"id": "1uou", "heavy_atoms": 16, "top_score": -8.16, "top_rmsd": 6.57, "best_rmsd": 0.59,
             "success": False, "seconds": 46.0, "error": None},
            {"id": "<script>alert(1)</script>", "heavy_atoms": 5, "top_score": None, "top_rmsd": None,
             "best_rmsd": None, "success": False, "seconds": 1.0, "error": "receptor & ligand <broken>"},
        ]
        summary = {"n": 3, "n_errors": 1, "top_success": 1, "top_success_rate": 0.333, "any_pose_success": 2,
                   "top_rmsd_median": 4.25, "top_rmsd_q1": 3.08, "top_rmsd_q3": 5.41}
        ids["vina"] = save_run(
            s, kind="redock", label="posebusters", engine="vina", params={"exhaustiveness": 8}, summary=summary,
            rows=rows, command=REDOCK_CMD, plots={"rmsd_ecdf": plot}, software_versions=versions, runtime_s=70.5,
        ).id
        ids["torch"] = save_run(
            s, kind="redock", label="posebusters", engine="torch", params={"exhaustiveness": 8},
            summary={**summary, "top_success": 0, "top_success_rate": 0.0}, rows=rows[:2], command=REDOCK_CMD,
            plots={"rmsd_ecdf": plot}, software_versions=versions,
        ).id
        source = {"campaign_id": 1, "name": "demo", "engine": "vina", "pocket": "focused"}
        ids["agreement"] = save_run(
            s, kind="agreement", label="focused", engine="vina", params={},
            summary={"source": source, "reference": "dockcov2", "n": 240, "bootstrap": 1000, "seed": 42,
                     "targets": [{"target": "3clpro", "n": 120, "spearman": 0.412, "p_value": 2.5e-06,
                                  "spearman_ci": [0.3, 0.51], "mean_diff": -0.42}]},
            rows=[{"target": "3clpro", "drug": "nafamostat", "ours": -8.2, "theirs": -8.5}],
            command="dockdb validate agreement --pockets focused", plots={"scatter": plot},
            software_versions=versions,
        ).id
        ids["enrichment"] = save_run(
            s, kind="enrichment", label="3clpro", engine="vina", params={},
            summary=ENRICHMENT_SUMMARY,
            rows=[{"drug": "x", "active": True, "score": -9.1}],
            command="dockdb validate enrichment --target 3clpro", plots={}, software_versions=versions,
        ).id
    return ids


def page(portal: Portal, url: str = "/validation") -> str:
    r = portal.client.get(url)
    assert r.status_code == 200, (url, r.status_code, r.data[:300])
    assert r.mimetype == "text/html"
    return r.data.decode()


def test_empty_state(empty_portal: Portal) -> None:
    text = page(empty_portal)
    assert 'id="validation-empty"' in text and "No validation runs yet" in text
    assert "<code>dockdb validate redock</code>" in text
    assert 'href="/validation"' in page(empty_portal, "/")  # in the site navigation
    r = empty_portal.client.get("/api/v1/validation")
    assert r.status_code == 200 and r.get_json() == {"items": []}


def test_page_shows_newest_runs_numbers_commands_and_plots(empty_portal: Portal) -> None:
    ids = store_runs(empty_portal.db)
    text = page(empty_portal)
    assert "No validation runs yet" not in text
    for kind in ("redock", "agreement", "enrichment"):
        assert f'id="kind-{kind}"' in text
    assert text.index('id="kind-redock"') < text.index('id="kind-agreement"') < text.index('id="kind-enrichment"')
    # newest run per (kind, label, engine): the old vina run is gone, both engines are there
    assert f'id="run-{ids["old"]}"' not in text and "dockdb validate old" not in text
    assert f'id="run-{ids["vina"]}"' in text and f'id="run-{ids["torch"]}"' in text
    # the numbers, the reproducing command, the per-item table in a <details>
    assert "33.3 %" in text and "4.25" in text and "3.08" in text
    assert html_lib.escape(REDOCK_CMD) in text
    assert "dockdb validate agreement --pockets focused" in text
    # nested results are tables: one row per target, one column per number, never "key: value;" text
    assert "spearman: 0.412" not in text and "; n:" not in text
    assert '<table class="data summary items" data-table="targets">' in text
    assert '<td class="key">3clpro</td>' in text and ">0.412<" in text and ">0.3–0.51<" in text
    assert "0.679" in text and "0.61–0.74" in text and "<th>EF 1 % CI</th>" in text
    assert "<dt>EF rule</dt>" in text and "ties at the cut shared out fractionally" in text
    assert '<details class="rows"><summary>Per-item table (3 rows)' in text
    assert "<td>1ia1</td>" in text and "<td>-7.73</td>" in text and "<td>6.57</td>" in text
    # everything stored is escaped
    assert "<script>alert(1)</script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text and "receptor &amp; ligand &lt;broken&gt;" in text
    # figures are served from the database
    plot_url = f"/validation/plot/{ids['vina']}/rmsd_ecdf.png"
    assert f'src="{plot_url}"' in text
    r = empty_portal.client.get(plot_url)
    assert r.status_code == 200 and r.mimetype == "image/png"
    assert r.data.startswith(PNG_SIGNATURE) and len(r.data) > 1000
    assert empty_portal.client.get(f"/validation/plot/{ids['agreement']}/scatter.png").data.startswith(PNG_SIGNATURE)


def test_plot_unknown_run_or_name_is_404(empty_portal: Portal) -> None:
    ids = store_runs(empty_portal.db)
    for url in (
        f"/validation/plot/{ids['vina']}/nothing.png",
        f"/validation/plot/{ids['enrichment']}/rmsd_ecdf.png",
        "/validation/plot/999999/rmsd_ecdf.png",
        "/validation/plot/0/rmsd_ecdf.png",
        "/validation/plot/99999999999999/rmsd_ecdf.png",
        f"/validation/plot/{ids['vina']}/..%2F..%2Fetc%2Fpasswd.png",
        f"/validation/plot/{ids['vina']}/rmsd_ecdf.svg",
        "/validation/plot/abc/rmsd_ecdf.png",
    ):
        r = empty_portal.client.get(url)
        assert r.status_code == 404, (url, r.status_code)
        assert not r.data.startswith(PNG_SIGNATURE)


def test_api_lists_summaries_and_one_run_with_rows(empty_portal: Portal) -> None:
    ids = store_runs(empty_portal.db)
    r = empty_portal.client.get("/api/v1/validation")
    assert r.status_code == 200 and r.mimetype == "application/json"
    items = r.get_json()["items"]
    assert {i["id"] for i in items} == {ids["vina"], ids["torch"], ids["agreement"], ids["enrichment"]}
    vina = next(i for i in items if i["id"] == ids["vina"])
    assert vina["kind"] == "redock" and vina["label"] == "posebusters" and vina["engine"] == "vina"
    assert vina["summary"]["top_success_rate"] == 0.333 and vina["command"] == REDOCK_CMD
    assert vina["n_items"] == 3 and "rows" not in vina
    assert vina["plots"] == [{"name": "rmsd_ecdf", "url": f"/validation/plot/{ids['vina']}/rmsd_ecdf.png"}]
    only = empty_portal.client.get("/api/v1/validation?kind=enrichment").get_json()["items"]
    assert [i["id"] for i in only] == [ids["enrichment"]]
    detail = empty_portal.client.get(f"/api/v1/validation/{ids['vina']}").get_json()
    assert [row["id"] for row in detail["rows"]] == ["1ia1", "1uou", "<script>alert(1)</script>"]
    assert detail["rows"][0]["top_rmsd"] == 1.92 and detail["runtime_s"] == 70.5
    old = empty_portal.client.get(f"/api/v1/validation/{ids['old']}").get_json()
    assert old["command"] == "dockdb validate old"  # older runs stay reachable by id


def test_api_bad_ids_and_kinds(empty_portal: Portal) -> None:
    store_runs(empty_portal.db)
    for url, status in (
        ("/api/v1/validation/999999", 404),
        ("/api/v1/validation/0", 404),
        ("/api/v1/validation/abc", 404),
        ("/api/v1/validation/-1", 404),
        ("/api/v1/validation/99999999999999999999", 404),
        ("/api/v1/validation?kind=docking", 400),
        ("/api/v1/validation?kind=%3Cscript%3E", 400),
    ):
        r = empty_portal.client.get(url)
        assert r.status_code == status, (url, r.status_code)
        assert r.mimetype == "application/json"
        body = r.get_json()
        assert body["status"] == status and body["message"]
        assert "<script>" not in r.data.decode()
    assert empty_portal.client.get("/api/v1/validation?kind=docking").get_json()["parameter"] == "kind"


def test_openapi_documents_validation(empty_portal: Portal) -> None:
    doc = empty_portal.client.get("/api/v1/openapi.json").get_json()
    assert "/api/v1/validation" in doc["paths"] and "/api/v1/validation/{run_id}" in doc["paths"]
    kinds = doc["paths"]["/api/v1/validation"]["get"]["parameters"][0]["schema"]["enum"]
    assert kinds == ["redock", "agreement", "enrichment", "plausibility"]
