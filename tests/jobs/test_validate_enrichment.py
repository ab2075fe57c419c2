"""`dockdb validate enrichment`: real database contents, AUC and EFs computed by hand."""

from __future__ import annotations

import base64

import pytest
from sqlalchemy import func, select

from dockdb.db import Database
from dockdb.errors import InputError
from dockdb.models import ValidationRun
from jobs.validation.enrichment import run_enrichment
from tests.conftest import run_cli
from tests.jobs.validation_data import (
    add_assay,
    add_campaign,
    add_drugs,
    add_receptor,
    add_reference,
    add_targets,
)


def _build(db: Database, *, assays: bool = True) -> list[int]:
    tids = add_targets(db)
    d = add_drugs(db, 9)
    d1, d2, d3, d4, d5, d6, d7, d8, d9 = d
    r3, rs, rt = add_receptor(db, "3clpro"), add_receptor(db, "spike-rbd"), add_receptor(db, "tmprss2")
    add_campaign(db, "fda", "focused", {
        r3: {d1: -9.0, d2: -6.0, d3: -8.0, d4: -7.0, d5: -5.0, d6: -4.0, d7: -10.0, d8: -3.0, d9: -11.0},
        rs: {d1: -5.0, d2: -5.0, d3: -6.0, d4: -7.0, d5: -8.0, d6: -9.0, d7: -9.5, d8: None},
        rt: {d3: -6.0, d4: -7.0},
    })
    add_campaign(db, "untested", "blind", {r3: {d9: -7.0}})
    add_reference(db, tids, {"3clpro": [(d1, -7.0), (d2, -8.0), (d3, -6.0), (d4, -5.0), (d9, -9.0)]})
    if assays:
        # a cell screen (all targets): d1, d2 active; d3-d6 inactive; d9 never tested
        add_assay(db, "touret-vero-index", {d1: True, d2: True, d3: False, d4: False, d5: False, d6: False})
        # the Mpro assay (3clpro only): d7 active, d8 inactive
        add_assay(db, "moonshot-mpro", {d7: True, d8: False})
        # not a default assay; three measures per drug, active in the first
        add_assay(db, "dockcov2-network-proximity", {d3: True, d4: None}, measures=3)
    return d


def _targets(run: ValidationRun) -> dict[str, dict]:
    return {t["target"]: t for t in run.summary["targets"]}


def test_default_assays_by_hand(db: Database) -> None:
    _build(db)
    (res,) = run_enrichment(db, ["fda"], n_boot=200, seed=3, command="dockdb validate enrichment --campaign fda")
    assert res.error is None
    with db.session() as s:
        run = s.get(ValidationRun, res.run_id)
        assert run is not None
        assert run.kind == "enrichment" and run.engine == "vina"
        assert run.label == "focused-moonshot+touret"
        t = _targets(run)
        c = t["3clpro"]
        # 3clpro: actives d7 -10, d1 -9, d2 -6; inactives d3 -8, d4 -7, d5 -5, d6 -4, d8 -3 (d9 untested: out)
        # pairs active<inactive: 5 + 5 + 3 = 13 of 15
        assert (c["n"], c["n_actives"], c["n_scored"]) == (8, 3, 9)
        assert c["assays"] == ["moonshot-mpro", "touret-vero-index"]
        assert c["auc"] == pytest.approx(13 / 15)
        assert c["auc_ci"][0] <= c["auc"] <= c["auc_ci"][1] <= 1.0
        # n_top = max(1, round(0.08)) = 1 for both EF1 and EF5; the best labelled drug (d7) is active
        assert c["ef1"] == pytest.approx(8 / 3) and c["ef5"] == pytest.approx(8 / 3)
        assert c["ef5_ci"] is not None
        # size alone (d<i> has i heavy atoms): only d7 (7 atoms) is larger than inactives (3, 4, 5, 6 of 3-8)
        assert c["auc_size_baseline"] == pytest.approx(4 / 15)
        # spike: moonshot does not apply; the two actives (-5, -5) score worse than all four inactives
        sp = t["spike-rbd"]
        assert sp["assays"] == ["touret-vero-index"] and (sp["n"], sp["n_actives"]) == (6, 2)
        assert sp["auc"] == pytest.approx(0.0) and sp["ef1"] == pytest.approx(0.0)
        # tmprss2: only inactives docked -> reported, no statistics
        tm = t["tmprss2"]
        assert (tm["n"], tm["n_actives"], tm["auc"], tm["note"]) == (2, 0, None, "no actives")
        assert set(run.plots) == {"roc-3clpro", "roc-spike-rbd"}
        assert base64.b64decode(run.plots["roc-3clpro"]).startswith(b"\x89PNG")
        rows = {(r["target"], r["drug"]): r for r in run.rows}
        assert rows[("3clpro", "d7")]["active_in"] == ["moonshot-mpro"] and rows[("3clpro", "d7")]["active"]
        assert rows[("3clpro", "d3")]["active"] is False and ("3clpro", "d9") not in rows
        assert ("spike-rbd", "d7") not in rows and len(run.rows) == 8 + 6 + 2
        assert run.summary["inactives"].startswith("inactives: scored drugs tested")
        assert run.params["campaign"] == "fda" and run.params["bootstrap"] == 200


def test_named_assays_and_dockcov2_reference(db: Database) -> None:
    _build(db)
    res = run_enrichment(db, ["fda"], reference=True, assays=["touret-vero-index", "dockcov2-network-proximity"],
                         n_boot=0)
    assert [r.error for r in res] == [None, None]
    camp, ref = res
    t = {x["target"]: x for x in camp.targets}
    # 3clpro, touret + network proximity: actives d1 -9, d2 -6, d3 -8 (z_* active); inactives d4 -7, d5 -5, d6 -4
    # pairs: d1 3, d3 3, d2 2 -> 8 of 9; EF1: top-1 of 6 is d1 (active): (1/1)/(3/6) = 2
    assert (t["3clpro"]["n"], t["3clpro"]["n_actives"]) == (6, 3)
    assert t["3clpro"]["auc"] == pytest.approx(8 / 9) and t["3clpro"]["ef1"] == pytest.approx(2.0)
    assert t["3clpro"]["auc_ci"] is None  # --bootstrap 0
    # DockCoV2's scores on 3clpro: d1 -7, d2 -8 (actives), d3 -6 (active), d4 -5 (inactive) -> AUC 1
    r = {x["target"]: x for x in ref.targets}
    assert set(r) == {"3clpro"} and (r["3clpro"]["n"], r["3clpro"]["n_actives"]) == (4, 3)
    assert r["3clpro"]["auc"] == pytest.approx(1.0)
    with db.session() as s:
        run = s.get(ValidationRun, ref.run_id)
        assert run is not None
        assert run.engine == "dockcov2 (Vina 1.1.2, blind box)"
        assert run.label == "blind-network-proximity+touret"
        assert run.summary["source"] == {"reference": "dockcov2", "engine": run.engine, "pocket": "blind"}


def test_cli_output_and_exit_codes(db: Database, cli_env: dict[str, str]) -> None:
    _build(db)
    res = run_cli(["validate", "enrichment", "--campaign", "fda", "--bootstrap", "50", "--quiet"], cli_env)
    assert res.exit_code == 0, res.stderr
    assert "campaign fda (vina, focused pocket); actives from moonshot-mpro, touret-vero-index:" in res.stdout
    assert "3clpro            8       3  0.87" in res.stdout
    assert "no actives" in res.stdout and "enrichment run #" in res.stdout
    # a campaign whose drugs were never tested: nothing to measure (3); with a good one: partial (4)
    res = run_cli(["validate", "enrichment", "--campaign", "untested", "--quiet"], cli_env)
    assert res.exit_code == 3
    assert res.stderr.strip().startswith("error: untested: none of its 1 scored drug-target pairs has a result")
    res = run_cli(["validate", "enrichment", "--campaign", "untested", "--reference", "dockcov2", "--quiet",
                   "--bootstrap", "0", "--json"], cli_env)
    assert res.exit_code == 4 and '"engine": "dockcov2 (Vina 1.1.2, blind box)"' in res.stdout
    with db.session() as s:
        runs = list(s.scalars(select(ValidationRun).order_by(ValidationRun.id)))
    assert len(runs) == 2
    assert runs[0].command == "dockdb validate enrichment --campaign fda --bootstrap 50 --seed 42"


def test_bad_input_is_refused_before_anything_is_stored(db: Database, cli_env: dict[str, str]) -> None:
    _build(db)
    res = run_cli(["validate", "enrichment", "--campaign", "fda", "--assay", "nope,touret-vero-index"], cli_env)
    assert res.exit_code == 2
    assert res.stderr.strip().startswith("error: unknown assay nope; loaded assays: dockcov2-network-proximity,")
    res = run_cli(["validate", "enrichment", "--campaign", "missing"], cli_env)
    assert res.exit_code == 1 and res.stderr.strip().startswith("error: no campaign 'missing'")
    res = run_cli(["validate", "enrichment"], cli_env)
    assert res.exit_code == 2 and "--campaign ID or --reference dockcov2" in res.stderr
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(ValidationRun)) == 0
    with pytest.raises(InputError, match="--assay is empty"):
        run_enrichment(db, ["fda"], assays=[" "])


def test_no_assays_loaded_is_nothing_to_do(db: Database, cli_env: dict[str, str]) -> None:
    _build(db, assays=False)
    res = run_cli(["validate", "enrichment", "--campaign", "fda"], cli_env)
    assert res.exit_code == 3
    assert "none of the default assays" in res.stderr and "dockdb ingest moonshot" in res.stderr


def test_variants_beside_heavy_atom_count(db: Database, cli_env: dict[str, str]) -> None:
    """Raw score, ligand efficiency, size-corrected z and consensus, each with AUC and EFs on the same drugs as
    heavy-atom count alone (d<i> has i heavy atoms)."""
    from dockdb.models import Campaign, ConsensusScore, Target
    from jobs.validation.variants import best_variant

    d = _build(db)
    d1, d2, d3, d4, d5, d6, d7, d8, _ = d
    with db.session() as s:
        cid = s.scalar(select(Campaign.id).where(Campaign.name == "fda"))
        tid = s.scalar(select(Target.id).where(Target.key == "3clpro"))
        pct = {d7: 0.0, d1: 10.0, d3: 20.0, d2: 30.0, d4: 50.0, d5: 60.0, d6: 70.0, d8: 80.0}
        for drug, p in pct.items():
            s.add(ConsensusScore(target_id=tid, drug_id=drug, campaign_ids=[cid, cid + 100], engines=["vina", "x"],
                                 percentiles=[p, p], percentile=p, spread=0.0, rmsd=0.5, agree=True))
    (res,) = run_enrichment(db, ["fda"], n_boot=100, seed=3)
    v = {(r["target"], r["variant"]): r for r in res.variants}
    assert v[("3clpro", "score")]["auc"] == pytest.approx(13 / 15)
    # score / heavy atoms: actives d1 -9, d2 -3, d7 -1.43 against inactives -2.67 .. -0.375: 13 of 15 pairs
    assert v[("3clpro", "ligand_efficiency")]["auc"] == pytest.approx(13 / 15)
    assert v[("3clpro", "heavy_atoms")]["auc"] == pytest.approx(4 / 15) == res.targets[0]["auc_size_baseline"]
    # consensus percentiles: actives 0, 10, 30; inactives 20, 50, 60, 70, 80 -> 14 of 15 pairs
    assert v[("3clpro", "consensus")]["auc"] == pytest.approx(14 / 15)
    assert v[("3clpro", "size_z")]["n"] == 8 and v[("3clpro", "size_z")]["auc_ci"] is not None
    assert v[("spike-rbd", "consensus")]["n"] == 0  # no consensus on that target
    assert best_variant([r for r in res.variants if r["target"] == "3clpro"])["variant"] == "consensus"
    assert best_variant([{"variant": "score", "auc": 0.5}, {"variant": "heavy_atoms", "auc": 0.6}]) is None
    # a consensus over fewer drugs than size is not compared with it
    assert best_variant([{"variant": "score", "auc": 0.85, "n": 100}, {"variant": "consensus", "auc": 0.9, "n": 32},
                         {"variant": "heavy_atoms", "auc": 0.75, "n": 100}])["variant"] == "score"
    with db.session() as s:
        run = s.get(ValidationRun, res.run_id)
        assert run is not None and len(run.summary["variants"]) == len(res.variants)
    out = run_cli(["validate", "enrichment", "--campaign", "fda", "--bootstrap", "0", "--quiet"], cli_env)
    assert "3clpro: best variant consensus (AUC 0.93) beats heavy-atom count" in out.stdout
    assert "tmprss2: no variant beats heavy-atom count alone" in out.stdout
    # spike: the actives' -5 are poor scores but small drugs (LE -5, -2.5 against -2 .. -1.5)
    assert v[("spike-rbd", "score")]["auc"] == 0.0 and v[("spike-rbd", "ligand_efficiency")]["auc"] == 1.0
    assert "spike-rbd: best variant ligand_efficiency (AUC 1.00) beats heavy-atom count" in out.stdout
