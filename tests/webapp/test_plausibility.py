"""PoseBusters plausibility in the portal: the pose JSON and score rows carry each pose's flag and
failed checks, ``plausible=1`` keeps drugs whose top pose passes (target table, its CSV, the scores
API), the drug page shows pass / fail / not checked, and a bad ``plausible`` value answers 400."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import update

from dockdb.models import Pose
from tests.webapp.conftest import Portal

FAILED = ["minimum_distance_to_protein", "volume_overlap_with_protein"]


@pytest.fixture
def checked(portal: Portal) -> Portal:
    """Flags as `dockdb validate plausibility` writes them: two top poses pass, one fails; Aspirin's
    second pose passes but its top pose is unchecked (so Aspirin is not plausible)."""
    ids = portal.ds.pose_ids
    values = {
        ids["Nafamostat"][0]: (True, []),
        ids["Ibuprofen"][0]: (True, []),
        ids["Camostat"][0]: (False, FAILED),
        ids["Aspirin"][1]: (True, []),
    }
    with portal.db.session() as s:
        for pid, (ok, failed) in values.items():
            s.execute(update(Pose).where(Pose.id == pid).values(posebusters_pass=ok, posebusters_failed=failed))
    return portal


def _json(portal: Portal, url: str) -> dict:
    r = portal.client.get(url)
    assert r.status_code == 200, (url, r.status_code, r.data[:300])
    return r.get_json()


def test_pose_json_carries_the_flags(checked: Portal) -> None:
    ids = checked.ds.pose_ids
    failing = _json(checked, f"/api/v1/poses/{ids['Camostat'][0]}?include_sdf=0")
    assert (failing["posebusters_pass"], failing["posebusters_failed"]) == (False, FAILED)
    passing = _json(checked, f"/api/v1/poses/{ids['Nafamostat'][0]}")
    assert (passing["posebusters_pass"], passing["posebusters_failed"]) == (True, [])
    unchecked = _json(checked, f"/api/v1/poses/{ids['Oseltamivir'][0]}")
    assert unchecked["posebusters_pass"] is None and unchecked["posebusters_failed"] is None
    poses = _json(checked, f"/api/v1/drugs/{checked.ds.drug_ids['Camostat']}/poses")["items"]
    assert [(p["rank"], p["posebusters_pass"]) for p in poses] == [(1, False), (2, None), (3, None)]
    assert poses[0]["posebusters_failed"] == FAILED


def test_target_table_filter_and_csv(checked: Portal) -> None:
    everything = _json(checked, "/api/v1/targets/3clpro/table")
    assert everything["total"] == 8
    flags = {r["name"]: r["posebusters_pass"] for r in everything["items"]}
    assert flags["Nafamostat"] is True and flags["Camostat"] is False and flags["Oseltamivir"] is None
    assert flags["Acetaminophen"] is None  # no pose at all

    page = _json(checked, "/api/v1/targets/3clpro/table?plausible=1")
    assert [r["name"] for r in page["items"]] == ["Nafamostat", "Ibuprofen"] and page["total"] == 2
    assert all(r["posebusters_pass"] is True for r in page["items"])
    assert _json(checked, "/api/v1/targets/3clpro/table?plausible=false")["total"] == 8
    # combined with other filters and a campaign
    cid = checked.ds.campaign_id
    page = _json(checked, f"/api/v1/targets/3clpro/table?plausible=1&max_score=-7&campaign={cid}")
    assert [r["name"] for r in page["items"]] == ["Nafamostat"]
    page = _json(checked, "/api/v1/targets/3clpro/table?plausible=1&rows=dockcov2")
    assert [r["name"] for r in page["items"]] == ["Nafamostat", "Ibuprofen"]

    r = checked.client.get("/targets/3clpro/table.csv?plausible=1")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(r.data.decode())))
    assert [row["name"] for row in rows] == ["Nafamostat", "Ibuprofen"]

    html = checked.client.get("/targets/3clpro?plausible=1").data.decode()
    assert 'name="plausible" value="1" checked' in html
    assert "Nafamostat" in html and "Camostat" not in html
    assert "plausible=1" in html.split('class="csv"')[1][:200]  # the CSV link keeps the filter


def test_scores_api_filter_and_rows(checked: Portal) -> None:
    rows = _json(checked, "/api/v1/scores?target=3clpro&page_size=100")["items"]
    by_name = {r["name"]: r for r in rows}
    assert (by_name["Camostat"]["posebusters_pass"], by_name["Camostat"]["posebusters_failed"]) == (False, FAILED)
    assert by_name["Aspirin"]["posebusters_pass"] is None  # its rank-1 pose was not checked
    assert by_name["Nafamostat"]["best_pose_id"] == checked.ds.pose_ids["Nafamostat"][0]
    page = _json(checked, "/api/v1/scores?plausible=1")
    assert [r["name"] for r in page["items"]] == ["Nafamostat", "Ibuprofen"] and page["total"] == 2
    assert _json(checked, "/api/v1/scores?plausible=1&min_score=-7")["total"] == 1


def test_drug_page_shows_plausibility(checked: Portal) -> None:
    html = checked.client.get(f"/drugs/{checked.ds.drug_ids['Camostat']}").data.decode()
    assert 'id="pose-plausibility"' in html and "fails" in html
    assert "minimum distance to protein, volume overlap with protein" in html
    assert "rank 1 · -7.60 · PoseBusters ✗" in html
    html = checked.client.get(f"/drugs/{checked.ds.drug_ids['Nafamostat']}").data.decode()
    assert "passes every check" in html and "rank 1 · -8.20 · PoseBusters ✓" in html
    html = checked.client.get(f"/drugs/{checked.ds.drug_ids['Oseltamivir']}").data.decode()
    assert "not checked" in html


@pytest.mark.parametrize("url", [
    "/api/v1/scores?plausible=maybe",
    "/api/v1/targets/3clpro/table?plausible=2",
    "/targets/3clpro/table.csv?plausible=yes%20please",
])
def test_bad_plausible_value_answers_400(portal: Portal, url: str) -> None:
    r = portal.client.get(url, headers={"Accept": "application/json"})
    assert r.status_code == 400
    body = r.get_json()
    assert body["error"] == "bad_parameter" and body["parameter"] == "plausible"
    assert "plausible must be true or false" == body["message"]


def test_openapi_documents_the_filter(portal: Portal) -> None:
    doc = _json(portal, "/api/v1/openapi.json")
    for path in ("/api/v1/scores", "/api/v1/targets/{key}/table"):
        params = {p["name"]: p for p in doc["paths"][path]["get"]["parameters"]}
        assert params["plausible"]["schema"] == {"type": "boolean"}
        assert "PoseBusters" in params["plausible"]["description"]
