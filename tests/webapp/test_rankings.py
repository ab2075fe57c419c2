"""One score source per column (the target's reference campaign), size-aware scores and the consensus of
engines, in the portal, its CSV, the API and the CLI: two campaigns with different engines on 3CLpro."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from dockdb import models as m
from jobs.consensus import percentiles, run_consensus
from jobs.reference import set_reference
from jobs.scoring import rescore, selectivity_z, size_fit
from tests.conftest import run_cli
from tests.webapp.conftest import Portal
from tests.webapp.dataset import DRUGS

# the second engine's best scores: a different order from the dataset's Vina campaign
VINARDO = {"Nafamostat": -6.0, "Camostat": -7.9, "Hydroxychloroquine": -5.1, "Oseltamivir": -6.6,
           "Favipiravir": -4.2, "Ibuprofen": -5.5, "Aspirin": -4.0}
VINA = {name: ours for name, *_, ours, _r1, _r2 in DRUGS if ours is not None}
SAME_POSE = {"Camostat", "Favipiravir", "Aspirin", "Hydroxychloroquine"}  # the vinardo top pose is the vina one


def _add_vinardo(portal: Portal) -> int:
    """A finished focused-pocket vinardo campaign on the same receptor and drugs (newer than the Vina one)."""
    ds = portal.ds
    with portal.db.session() as s:
        c = m.Campaign(name="vinardo-3clpro", engine="vinardo", params={"exhaustiveness": 4}, seed=7,
                       status="done", pocket_kind="focused", finished_at=datetime.now(UTC),
                       manifest={}, software_versions={})
        s.add(c)
        s.flush()
        pocket = s.scalar(select(m.CampaignReceptor.pocket_id).where(m.CampaignReceptor.campaign_id == ds.campaign_id))
        s.add(m.CampaignReceptor(campaign_id=c.id, receptor_id=ds.receptor_id, pocket_id=pocket))
        for name, score in VINARDO.items():
            r = m.DockingResult(campaign_id=c.id, receptor_id=ds.receptor_id, drug_id=ds.drug_ids[name],
                                status="done", best_score=score)
            s.add(r)
            s.flush()
            poses = s.scalars(select(m.Pose).where(m.Pose.id.in_(ds.pose_ids[name])).order_by(m.Pose.rank)).all()
            src = poses[0] if name in SAME_POSE else poses[-1]
            s.add(m.Pose(result_id=r.id, rank=1, score=score, sdf=src.sdf, pdbqt=src.pdbqt))
        return c.id


def _table(portal: Portal, **args: str) -> tuple[dict[str, float], dict]:
    page = portal.client.get("/api/v1/targets/3clpro/table", query_string={"rows": "ours", **args}).get_json()
    return {i["name"]: i["score"] for i in page["items"]}, page


def test_table_shows_only_the_reference_campaign_and_switching_it_switches_the_scores(portal: Portal) -> None:
    vinardo = _add_vinardo(portal)
    scores, page = _table(portal)
    assert scores == pytest.approx(VINARDO)  # default: the newest finished focused-pocket campaign
    assert page["campaign"]["name"] == "vinardo-3clpro" and page["campaign"]["engine"] == "vinardo"
    assert page["campaign"]["chosen_by"].startswith("default: newest finished focused-pocket campaign")
    html = portal.client.get("/targets/3clpro", query_string={"rows": "ours"}).get_data(as_text=True)
    assert "vinardo-3clpro</a> — engine vinardo" in html and "exhaustiveness 4" in html
    body = portal.client.get("/targets/3clpro/table.csv").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(body)))
    assert {r["score_campaign"] for r in rows if r["score"]} == {"vinardo-3clpro"}
    assert {r["name"]: float(r["score"]) for r in rows if r["score"]} == pytest.approx(VINARDO)

    ref = set_reference(portal.db, "3clpro", "demo-3clpro")
    assert ref is not None and ref["engine"] == "vina" and ref["chosen_by"].startswith("set with")
    scores, page = _table(portal)
    assert scores == pytest.approx(VINA) and page["campaign"]["name"] == "demo-3clpro"
    scores, page = _table(portal, campaign=str(vinardo))  # ?campaign= still selects another
    assert scores == pytest.approx(VINARDO) and page["campaign"]["chosen_by"] == "selected with ?campaign="

    # the drug page: one row per campaign with engine, pocket and exhaustiveness, the reference marked
    rows_api = portal.client.get(f"/api/v1/drugs/{portal.ds.drug_ids['Camostat']}/scores").get_json()
    ours = [r for r in (rows_api["items"] if isinstance(rows_api, dict) else rows_api) if r["source"] == "dockdb"]
    assert {(r["campaign"], r["engine"], r["pocket"], r["score"], r["is_reference"]) for r in ours} == {
        ("demo-3clpro", "vina", "focused", VINA["Camostat"], True),
        ("vinardo-3clpro", "vinardo", "focused", VINARDO["Camostat"], False)}


def test_reference_cli_sets_shows_and_rejects(portal: Portal, cli_env: dict[str, str]) -> None:
    _add_vinardo(portal)
    shown = run_cli(["target", "reference", "3clpro"], env=cli_env)
    assert shown.exit_code == 0 and "vinardo-3clpro" in shown.stdout and "default" in shown.stdout
    chosen = run_cli(["target", "reference", "3clpro", "demo-3clpro"], env=cli_env)
    assert chosen.exit_code == 0 and "demo-3clpro" in chosen.stdout and "engine vina," in chosen.stdout
    back = run_cli(["target", "reference", "3clpro", "--default"], env=cli_env)
    assert "vinardo-3clpro" in back.stdout
    bad = run_cli(["target", "reference", "plpro", "demo-3clpro"], env=cli_env)
    assert bad.exit_code != 0 and "no finished docking on plpro" in bad.stderr and "Traceback" not in bad.stderr
    unknown = run_cli(["target", "reference", "nope"], env=cli_env)
    assert unknown.exit_code != 0 and "no target 'nope'" in unknown.stderr


def test_size_aware_scores_are_stored_sortable_and_filterable(portal: Portal) -> None:
    vinardo = _add_vinardo(portal)
    stored = rescore(portal.db)
    assert stored == {portal.ds.campaign_id: len(VINA), vinardo: len(VINARDO)}
    _, page = _table(portal, sort="size_z")
    items = page["items"]
    zs = [i["size_z"] for i in items]
    assert all(z is not None for z in zs) and zs == sorted(zs)
    for i in items:
        with portal.db.session() as s:
            heavy = s.scalar(select(m.Drug.heavy_atoms).where(m.Drug.id == i["id"]))
        assert i["ligand_efficiency"] == pytest.approx(VINARDO[i["name"]] / heavy, abs=1e-3)
    cut = sorted(zs)[2]
    _, filtered = _table(portal, max_size_z=f"{cut}")
    assert {i["name"] for i in filtered["items"]} == {i["name"] for i in items if i["size_z"] <= cut}
    api = portal.client.get("/api/v1/scores", query_string={"campaign": vinardo, "sort": "ligand_efficiency"})
    rows = api.get_json()["items"]
    assert [r["ligand_efficiency"] for r in rows] == sorted(r["ligand_efficiency"] for r in rows)
    assert all(r["engine"] == "vinardo" and r["size_z"] is not None for r in rows)
    body = portal.client.get("/targets/3clpro/table.csv", query_string={"sort": "size_z"}).get_data(as_text=True)
    header = next(csv.reader(io.StringIO(body)))
    assert {"ligand_efficiency", "size_z", "selectivity_z", "consensus_percentile"} <= set(header)
    assert "heavy" in portal.client.get("/targets/3clpro").get_data(as_text=True)  # the one-sentence explanation


def test_size_fit_removes_the_size_trend() -> None:
    heavy = [10, 15, 20, 25, 30, 35, 40]
    noise = [0.1, -0.2, 0.15, 0.0, -0.1, 0.2, -0.15]
    scores = [-0.25 * h + e for h, e in zip(heavy, noise, strict=True)]
    scores[3] -= 2.0  # one drug better than its size predicts
    fit = size_fit(heavy, scores)
    assert fit is not None and fit.slope == pytest.approx(-0.25, abs=0.05)
    z = [(s - (fit.intercept + fit.slope * h)) / fit.spread for h, s in zip(heavy, scores, strict=True)]
    assert min(range(len(z)), key=lambda i: z[i]) == 3 and z[3] < -3
    assert size_fit([10, 20], [-3.0, -5.0]) is None
    # drug 1: z -2 on target 10, 0 and +1 on the others -> (-2 - 0.5) / sqrt(1.5); drug 2 on one target: none
    sel = selectivity_z({1: {10: -2.0, 11: 0.0, 12: 1.0}, 2: {10: -3.0}})
    assert sel[(1, 10)] == pytest.approx(-2.5 / 1.5 ** 0.5) and sel[(1, 12)] == pytest.approx(2.0 / 1.5 ** 0.5)
    assert (2, 10) not in sel
    assert percentiles({1: -9.0, 2: -7.0, 3: -7.0, 4: -5.0}) == {1: 0.0, 2: 100 / 3, 3: 100 / 3, 4: 100.0}


def test_consensus_of_two_engines_with_agreement(portal: Portal, cli_env: dict[str, str]) -> None:
    vinardo = _add_vinardo(portal)
    summary = run_consensus(portal.db, [str(portal.ds.campaign_id), str(vinardo)])
    assert summary.targets == {"3clpro": len(VINARDO)}
    with portal.db.session() as s:
        rows = {name: s.scalar(select(m.ConsensusScore).where(m.ConsensusScore.drug_id == did))
                for name, did in portal.ds.drug_ids.items() if name in VINARDO}
        rows = {k: (v.percentile, v.spread, v.rmsd, v.agree, v.engines) for k, v in rows.items() if v}
    ids = portal.ds.drug_ids
    vina_pct = percentiles({ids[n]: v for n, v in VINA.items()})
    vinardo_pct = percentiles({ids[n]: v for n, v in VINARDO.items()})
    assert set(rows) == set(VINARDO)
    for name, (pct, spread, rmsd, agree, engines) in rows.items():
        a, b = vina_pct[ids[name]], vinardo_pct[ids[name]]
        assert pct == pytest.approx((a + b) / 2, abs=0.01) and spread == pytest.approx(abs(a - b), abs=0.01)
        assert engines == ["vina", "vinardo"]
        if name in SAME_POSE:
            assert rmsd == pytest.approx(0.0, abs=1e-3)
            assert agree is (abs(a - b) <= 20)
    assert rows["Camostat"][3] is True  # rank 2 by Vina, 1 by Vinardo, same pose
    assert rows["Hydroxychloroquine"][3] is False  # same pose, but percentiles 33 and 67
    assert rows["Nafamostat"][2] > 0.5  # another pose
    _, page = _table(portal, agree="1")
    assert {i["name"] for i in page["items"]} == {n for n, r in rows.items() if r[3]}
    html = portal.client.get(f"/drugs/{ids['Camostat']}").get_data(as_text=True)
    assert "agree" in html and "vina, vinardo" in html
    cli = run_cli(["campaign", "consensus", "demo-3clpro", "vinardo-3clpro"], env=cli_env)
    assert cli.exit_code == 0 and "7 drug-target pairs" in cli.stdout
    one = run_cli(["campaign", "consensus", "demo-3clpro"], env=cli_env)
    assert one.exit_code == 2 and "two or more campaigns" in one.stderr


def _enrichment_run(portal: Portal, campaign_id: int, aucs: dict[str, float]) -> int:
    variants = [{"target": "3clpro", "variant": v, "n": 20, "n_actives": 10, "auc": a, "auc_ci": [a - 0.1, a + 0.05]}
                for v, a in aucs.items()]
    with portal.db.session() as s:
        run = m.ValidationRun(kind="enrichment", label="focused-moonshot", engine="vina",
                              params={"campaign_id": campaign_id, "campaign": "demo-3clpro"},
                              summary={"targets": [], "variants": variants}, rows=[], command="dockdb validate …",
                              software_versions={}, plots={}, n_items=20)
        s.add(run)
        s.flush()
        return run.id


def test_default_sort_is_the_best_measured_variant_or_says_none_beats_size(portal: Portal) -> None:
    rescore(portal.db)
    page = portal.client.get("/targets/3clpro").get_data(as_text=True)
    assert "No enrichment of actives has been measured on this target" in page
    run = _enrichment_run(portal, portal.ds.campaign_id, {"score": 0.70, "ligand_efficiency": 0.74,
                                                          "size_z": 0.81, "heavy_atoms": 0.72})
    portal.app.extensions["dockdb"].cache.clear()  # the measured order is cached like the header
    page = portal.client.get("/targets/3clpro").get_data(as_text=True)
    assert "Default order: Size-corrected z" in page and "ROC AUC 0.81 [0.71, 0.86]" in page
    assert f"validation run #{run}" in page and "0.72 for heavy-atom count alone" in page
    table = portal.client.get("/api/v1/targets/3clpro/table", query_string={"rows": "ours"}).get_json()
    assert table["sort"] == "size_z" and table["measured_enrichment"]["run_id"] == run
    zs = [i["size_z"] for i in table["items"]]
    assert zs == sorted(zs)
    explicit = portal.client.get("/api/v1/targets/3clpro/table", query_string={"sort": "score"}).get_json()
    assert explicit["sort"] == "score"

    _enrichment_run(portal, portal.ds.campaign_id, {"score": 0.55, "size_z": 0.58, "heavy_atoms": 0.60})
    portal.app.extensions["dockdb"].cache.clear()  # the measured order is cached like the header
    page = portal.client.get("/targets/3clpro").get_data(as_text=True)
    assert "No ranking beats heavy-atom count alone on this target" in page and "0.60 for size alone" in page
    assert portal.client.get("/api/v1/targets/3clpro/table").get_json()["sort"] == "best"
