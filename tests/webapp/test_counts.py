"""Counts agree: each page says what it counts (published by DockCoV2, matched to a drug structure, docked,
tested in an assay), and the numbers of different pages are the same numbers."""

from __future__ import annotations

import re

from sqlalchemy import select

from dockdb import models as m
from tests.webapp.conftest import Portal
from tests.webapp.test_validation_page import store_runs


def _add_unmatched_and_failed(portal: Portal) -> None:
    """A published DockCoV2 score whose compound matches no drug, and a failed docking (0.0, stored missing)."""
    with portal.db.session() as s:
        t1 = s.scalar(select(m.Target.id).where(m.Target.key == "3clpro"))
        s.add(m.ReferenceScore(source="dockcov2", external_id="999001", target_id=t1, drug_id=None, score=-9.0))
        s.add(m.ReferenceScore(source="dockcov2", external_id="999002", target_id=t1, drug_id=None, score=None))


def _text(portal: Portal, url: str) -> str:
    r = portal.client.get(url)
    assert r.status_code == 200, url
    return re.sub(r"\s+", " ", r.data.decode())


def test_pages_say_what_they_count(portal: Portal) -> None:
    _add_unmatched_and_failed(portal)
    target = portal.client.get("/api/v1/targets/3clpro").get_json()
    assert (target["reference_scores"], target["reference_matched"], target["reference_failed"]) == (9, 8, 1)

    home = _text(portal, "/")
    assert "7 docked by DockDB · 9 DockCoV2 scores published, 8 matched to a drug" in home
    downloads = _text(portal, "/downloads")
    assert "DockCoV2 scores published" in downloads and "matched to a drug" in downloads
    assert re.search(r"\(Mpro, nsp5\)</a></td><td class=\"num\">7</td><td class=\"num\">9</td><td class=\"num\">8</td>",
                     downloads)

    page = _text(portal, "/targets/3clpro")
    table = portal.client.get("/api/v1/targets/3clpro/table").get_json()
    assert table["total"] == 8
    assert ("8 drugs docked by DockDB or with a DockCoV2 score matched to a drug structure. DockCoV2 published 9 "
            "scores for this target; they match 8 drugs here by structure.") in page
    filtered = _text(portal, "/targets/3clpro?rows=ours&max_score=-6.4")
    assert "3 drugs docked by DockDB that pass the filters." in filtered

    # a drug's rank among DockCoV2's scores is out of the published scores, the unmatched one included
    nafamostat = _text(portal, f"/drugs/{portal.ds.drug_ids['Nafamostat']}")
    assert "2 of 9 published" in nafamostat and "1 of 7 docked" in nafamostat


def test_validation_says_what_n_counts(empty_portal: Portal) -> None:
    store_runs(empty_portal.db)
    page = _text(empty_portal, "/validation")
    assert "<th>n (drug–target pairs scored and tested in an assay)</th>" in page
    assert "<th>n (complexes redocked)</th>" in page and "<th>n (drug–target pairs with both scores)</th>" in page
