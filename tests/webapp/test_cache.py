"""The portal's ranking cache: same rows as paging in SQL, reused across pages, bounded, expiring."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, update

from dockdb import models as m
from dockdb.config import Config
from dockdb.db import Database
from tests.webapp.conftest import Portal
from tests.webapp.dataset import build
from webapp import create_app
from webapp import extensions as ext
from webapp.extensions import get_session
from webapp.queries import targets as qt

FILTERS: list[dict[str, Any]] = [
    {},
    {"sort": "name", "order": "desc"},
    {"sort": "ref_score"},
    {"sort": "mw", "order": "desc"},
    {"sort": "clinical_phase"},
    {"rows": "ours"},
    {"rows": "dockcov2", "sort": "score", "order": "desc"},
    {"max_score": -7.0},
    {"has_active_assay": True},
]


def test_cached_ranking_pages_equal_sql_pages(portal: Portal) -> None:
    with portal.app.app_context():
        session = get_session()
        tid = qt.target_id(session, "3clpro")
        sizes = set()
        for kwargs in FILTERS:
            f = qt.TableFilter(**kwargs)
            ranked = qt.ranking(session, tid, f)
            assert ranked is not None
            sizes.add(len(ranked))
            for page in range(1, 5):  # page 4 lies past the end for every filter here
                sql = qt.target_table(session, "3clpro", f, page, 3)
                sliced = qt.target_table(session, "3clpro", f, page, 3, known_id=tid, ranked=ranked)
                assert sliced.total == sql.total == len(ranked), kwargs
                assert sliced.items == sql.items, (kwargs, page)
        assert max(sizes) == 8 and min(sizes) < 8  # the filters really change the table


@contextmanager
def statements(portal: Portal) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
        seen.append(sql)

    engine = portal.app.extensions["dockdb"].database.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _ranking_queries(sql: list[str]) -> tuple[int, int]:
    """(paged, whole) ranking queries among *sql*: the only statements labelling DockCoV2's score
    ``ref_score``; a paged one carries the filtered total as a window count."""
    ranked = [s for s in sql if "AS ref_score" in s]
    return sum("OVER ()" in s for s in ranked), sum("OVER ()" not in s for s in ranked)


def test_ranking_reused_across_pages_and_routes(portal: Portal) -> None:
    url = "/api/v1/targets/3clpro/table?page_size=3&sort=mw"
    with statements(portal) as first:
        page1 = portal.client.get(url + "&page=1").get_json()
    with statements(portal) as second:
        page2 = portal.client.get(url + "&page=2").get_json()
    with statements(portal) as third:
        assert portal.client.get("/targets/3clpro?page_size=3&sort=mw&page=3").status_code == 200
    with statements(portal) as again:
        assert portal.client.get(url + "&page=1").get_json() == page1
    assert page1["total"] == page2["total"] == 8
    assert not {d["id"] for d in page1["items"]} & {d["id"] for d in page2["items"]}
    assert _ranking_queries(first) == (1, 0)  # first ask: one page in SQL
    assert _ranking_queries(second) == (0, 1)  # second ask: the whole ranking, kept
    assert _ranking_queries(third) == _ranking_queries(again) == (0, 0)  # then reused, by pages and API
    assert len(again) < len(first)
    with portal.app.app_context():  # and the reused page is the page SQL paging gives
        f = qt.TableFilter(sort="mw")
        assert qt.target_table(get_session(), "3clpro", f, 2, 3).as_dict()["items"] == page2["items"]


def test_ranking_cache_is_bounded(portal: Portal, monkeypatch: pytest.MonkeyPatch, config: Config) -> None:
    monkeypatch.setattr(ext, "RANKING_CACHE_ENTRIES", 3)
    app = create_app(config.with_(env="testing"))
    client = app.test_client()
    try:
        for score in range(-9, -4):  # five distinct filter sets, each asked twice
            for _ in range(2):
                assert client.get(f"/api/v1/targets/3clpro/table?max_score={score}").status_code == 200
        cache = app.extensions["dockdb"].rankings
        assert cache is not None and len(cache) == 3
        kept = {dict(k[1:]).get("max_score") for k in cache}
        assert kept == {"-7", "-6", "-5"}  # the least recently used went first
    finally:
        app.extensions["dockdb"].database.dispose()


def _set_reference(db: Database, drug_id: int, score: float) -> None:
    with db.session() as s:
        tid = s.query(m.Target.id).filter(m.Target.key == "3clpro").scalar()
        s.execute(
            update(m.ReferenceScore)
            .where(m.ReferenceScore.drug_id == drug_id, m.ReferenceScore.target_id == tid)
            .values(score=score)
        )


def _ref_score(client: Any, drug_id: int) -> float:
    items = client.get("/api/v1/targets/3clpro/table").get_json()["items"]
    return next(i["ref_score"] for i in items if i["id"] == drug_id)


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = time.monotonic()

    def __call__(self) -> float:
        return self.now


def test_new_scores_show_after_the_ttl(db: Database, config: Config) -> None:
    ds = build(db)
    drug = ds.drug_ids["Camostat"]
    cached_app = create_app(config.with_(env="testing", cache_ttl_s=30))
    live_app = create_app(config.with_(env="testing", cache_ttl_s=0))
    clock = Clock()
    cached_app.extensions["dockdb"].clock = clock
    try:
        cached, live = cached_app.test_client(), live_app.test_client()
        before = _ref_score(cached, drug)
        assert _ref_score(cached, drug) == _ref_score(live, drug) == before  # asked twice: kept
        _set_reference(db, drug, -19.5)
        assert _ref_score(live, drug) == -19.5  # no caching: the change shows at once
        clock.now += 29.9
        assert _ref_score(cached, drug) == before  # within the TTL the ranking is reused
        clock.now += 0.2
        assert _ref_score(cached, drug) == -19.5  # past it, rebuilt
        assert live_app.extensions["dockdb"].rankings is None
    finally:
        cached_app.extensions["dockdb"].database.dispose()
        live_app.extensions["dockdb"].database.dispose()
