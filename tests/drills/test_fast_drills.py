"""The fast reliability drills of bench/drills/, on SQLite and PostgreSQL: bad inputs, Schemathesis, load."""

from __future__ import annotations

from pathlib import Path

from bench.drills import bad_inputs, load, schemathesis_api


def test_bad_inputs_drill(db_url: str, tmp_path: Path) -> None:
    v = bad_inputs.drill(db_url, tmp_path)
    assert v.ok, v.line()
    rows = v.details["rows"]
    assert sum(r.kind == "http" for r in rows) == len(bad_inputs.HTTP_CASES)
    assert sum(r.kind == "cli" for r in rows) >= 25
    assert v.details["changed"] == []
    by_case = {r.case: r for r in rows}
    assert by_case["library: empty file"].outcome.startswith("exit 2: error:")
    assert by_case["SQL in int parameter"].outcome.startswith("400 drug must be an integer")
    assert v.line().startswith("DRILL bad_inputs: PASS")


def test_schemathesis_drill(db_url: str, tmp_path: Path) -> None:
    v = schemathesis_api.drill(db_url, tmp_path, max_examples=5, seed=0)
    assert v.ok, v.line()
    results = v.details["results"]
    assert {"GET /api/v1/scores", "GET /api/v1/poses/{pose_id}.sdf"} <= {r.label for r in results}
    assert v.details["requests"] >= 5 * len(results) // 2
    assert all(not r.server_errors for r in results)


def test_load_drill(db_url: str, tmp_path: Path) -> None:
    v = load.drill_on_dataset(db_url, tmp_path, duration_s=5, concurrency=4)
    assert v.ok, v.line()
    report = v.details["report"]
    assert set(report.routes) == {"target page (HTML)", "scores API (JSON)", "drug page (HTML)", "search (HTML)"}
    assert all(r.requests > 0 for r in report.routes.values())
    assert report.errors == 0
    assert "overall" in report.table()
