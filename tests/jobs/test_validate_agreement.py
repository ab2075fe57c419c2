"""`dockdb validate agreement`: real database contents, values computed by hand."""

from __future__ import annotations

import base64

import pytest
from sqlalchemy import func, select

from dockdb.db import Database
from dockdb.errors import NotFoundError
from dockdb.models import ValidationRun
from jobs.validation.agreement import run_agreement
from tests.conftest import run_cli
from tests.jobs.validation_data import (
    add_campaign,
    add_drugs,
    add_receptor,
    add_reference,
    add_targets,
    bootstrap_ci_by_hand,
)


def _build(db: Database) -> dict[str, int]:
    tids = add_targets(db)
    d1, d2, d3, d4, d5, d6 = add_drugs(db, 6)
    r_3cl_a, r_3cl_b = add_receptor(db, "3clpro", "1"), add_receptor(db, "3clpro", "2")
    r_spike, r_tmp = add_receptor(db, "spike-rbd"), add_receptor(db, "tmprss2")
    focused = add_campaign(db, "focused-run", "focused", {
        # d1 docked on two 3CLpro receptors: the best (-8) counts; d5 failed; d6 has no DockCoV2 score
        r_3cl_a: {d1: -7.0, d2: -6.0, d3: -9.0, d4: -5.0, d5: None, d6: -10.0},
        r_3cl_b: {d1: -8.0},
        r_spike: {d1: -6.0, d2: -7.0, d3: -5.0},
        r_tmp: {d6: -6.0},
    })
    blind = add_campaign(db, "blind-run", "blind", {r_3cl_a: {d1: -6.5, d2: -6.0, d3: -7.0}})
    lonely = add_campaign(db, "lonely", "focused", {r_spike: {d6: -8.0}})
    add_reference(db, tids, {
        # d3 matched through two CIDs (-8.0, -8.5): the best counts; one unmatched CID
        "3clpro": [(d1, -7.5), (d2, -7.6), (d3, -8.0), (d3, -8.5), (d4, -4.0), (d5, -9.0), (None, -12.0)],
        "spike-rbd": [(d1, -5.0), (d2, -6.0), (d3, -7.0)],
    })
    return {"focused": focused, "blind": blind, "lonely": lonely}


def _targets(run: ValidationRun) -> dict[str, dict]:
    return {t["target"]: t for t in run.summary["targets"]}


def test_agreement_values_by_hand(db: Database) -> None:
    ids = _build(db)
    (res,) = run_agreement(db, [ids["focused"]], n_boot=200, seed=1, command="dockdb validate agreement")
    assert res.error is None and res.n == 7
    with db.session() as s:
        run = s.get(ValidationRun, res.run_id)
        assert run is not None
        assert (run.kind, run.label, run.engine, run.n_items) == ("agreement", "focused", "vina", 7)
        t = _targets(run)
        # 3CLpro pairs (ours, DockCoV2): d1 (-8, -7.5), d2 (-6, -7.6), d3 (-9, -8.5), d4 (-5, -4.0)
        # rank differences 1, 1, 0, 0 -> rho = 1 - 6*2/(4*15) = 0.8; mean diff (-0.5+1.6-0.5-1.0)/4 = -0.1
        assert t["3clpro"]["n"] == 4
        assert t["3clpro"]["spearman"] == pytest.approx(0.8)
        assert t["3clpro"]["mean_diff"] == pytest.approx(-0.1)
        assert t["3clpro"]["mean_dockcov2"] == pytest.approx((-7.5 - 7.6 - 8.5 - 4.0) / 4)
        assert "N3 inhibitor" in t["3clpro"]["note"]
        # the interval: 200 pair resamples drawn with seed 1, rho of each by scipy, central 95 %
        # (with 4 pairs it spans [-1, 1]; test_validation_metrics checks a narrow one)
        assert t["3clpro"]["spearman_ci"] == pytest.approx(
            bootstrap_ci_by_hand([-8.0, -6.0, -9.0, -5.0], [-7.5, -7.6, -8.5, -4.0], n_boot=200, seed=1))
        # spike: ours d2 < d1 < d3, theirs d3 < d2 < d1: squared rank differences 1+1+4 -> 1 - 36/24 = -0.5
        assert t["spike-rbd"]["n"] == 3
        assert t["spike-rbd"]["spearman"] == pytest.approx(-0.5)
        assert t["spike-rbd"]["mean_diff"] == pytest.approx(0.0)
        # tmprss2 is in the campaign but DockCoV2 scored none of its drugs there
        assert t["tmprss2"]["n"] == 0 and t["tmprss2"]["spearman"] is None
        assert run.summary["source"]["campaign"] == "focused-run" and run.summary["n"] == 7
        rows = {(r["target"], r["drug"]): r for r in run.rows}
        assert rows[("3clpro", "d1")]["ours"] == -8.0 and rows[("3clpro", "d3")]["dockcov2"] == -8.5
        assert ("3clpro", "d5") not in rows and ("3clpro", "d6") not in rows
        assert base64.b64decode(run.plots["scatter"]).startswith(b"\x89PNG")
        assert run.command == "dockdb validate agreement" and run.software_versions["python"]


def test_cli_runs_focused_and_blind(db: Database, cli_env: dict[str, str]) -> None:
    ids = _build(db)
    res = run_cli(["validate", "agreement", "--campaign", "focused-run", "--campaign", str(ids["blind"]),
                   "--bootstrap", "100", "--quiet"], cli_env)
    assert res.exit_code == 0, res.stderr
    assert "campaign focused-run (focused pocket):" in res.stdout
    assert "3clpro            4      0.80" in res.stdout
    assert "ρ=" in res.stdout
    with db.session() as s:
        runs = {r.label: r for r in s.scalars(select(ValidationRun).where(ValidationRun.kind == "agreement"))}
    assert set(runs) == {"focused", "blind"}
    # blind: ours d2 > d1 > d3 (worst to best) vs DockCoV2 d3 < d2 < d1: ranks (2,3,1) vs (3,2,1) -> 0.5
    assert _targets(runs["blind"])["3clpro"]["spearman"] == pytest.approx(0.5)
    assert runs["blind"].params["campaign"] == "blind-run"
    assert runs["focused"].command.startswith("dockdb validate agreement --campaign focused-run")


def test_no_matched_drugs_is_exit_3_and_partial_is_4(db: Database, cli_env: dict[str, str]) -> None:
    _build(db)
    res = run_cli(["validate", "agreement", "--campaign", "lonely", "--bootstrap", "0", "--quiet"], cli_env)
    assert res.exit_code == 3
    assert res.stderr.strip().splitlines()[-1].startswith("error: campaign 'lonely' has no drug matched")
    res = run_cli(["validate", "agreement", "--campaign", "lonely", "--campaign", "blind-run", "--bootstrap", "0",
                   "--quiet", "--json"], cli_env)
    assert res.exit_code == 4, res.stderr
    assert '"pocket": "blind"' in res.stdout
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(ValidationRun)) == 1


def test_unknown_campaign_is_one_line_and_stores_nothing(db: Database, cli_env: dict[str, str]) -> None:
    _build(db)
    res = run_cli(["validate", "agreement", "--campaign", "focused-run", "--campaign", "nope"], cli_env)
    assert res.exit_code == 1
    assert res.stderr.strip() == "error: no campaign 'nope'; `dockdb campaign list` shows the campaigns"
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(ValidationRun)) == 0
    with pytest.raises(NotFoundError):
        run_agreement(db, [12345])
    res = run_cli(["validate", "agreement"], cli_env)
    assert res.exit_code == 2 and "--campaign" in res.stderr
