"""DockCoV2's 0.0 entries are failed dockings: missing scores with a note, out of histograms, means and ranks."""

from __future__ import annotations

from rdkit import Chem
from sqlalchemy import select, text

from dockdb import models as m
from dockdb.db import Database
from dockdb.migrate import upgrade
from tests.webapp.conftest import Portal

ARSENIC = "O=[As]O[As]=O"


def _add_failed(portal: Portal) -> int:
    """Arsenic trioxide, which DockCoV2 lists with 0.0 on 3CLpro, and a 0.0 twin of Nafamostat's CID."""
    mol = Chem.MolFromSmiles(ARSENIC)
    with portal.db.session() as s:
        t1 = s.scalar(select(m.Target.id).where(m.Target.key == "3clpro"))
        drug = m.Drug(name="Arsenic trioxide", name_lower="arsenic trioxide", smiles=ARSENIC,
                      inchikey=Chem.MolToInchiKey(mol))
        s.add(drug)
        s.flush()
        s.add(m.ReferenceScore(source="dockcov2", external_id="14888", target_id=t1, drug_id=drug.id, score=None,
                               method="AutoDock Vina"))
        s.add(m.ReferenceScore(source="dockcov2", external_id="nafamostat-twin", target_id=t1,
                               drug_id=portal.ds.drug_ids["Nafamostat"], score=None, method="AutoDock Vina"))
        return drug.id


def test_failed_dockings_are_missing_with_a_note(portal: Portal) -> None:
    before = portal.client.get("/api/v1/targets/3clpro/distribution").get_json()
    ref_before = next(s for s in before["series"] if s["name"].startswith("DockCoV2"))
    arsenic = _add_failed(portal)

    dist = portal.client.get("/api/v1/targets/3clpro/distribution").get_json()
    ref = next(s for s in dist["series"] if s["name"].startswith("DockCoV2"))
    assert ref["n"] == ref_before["n"] == 8 and ref["mean"] == ref_before["mean"]
    assert dist["edges"][-1] < 0  # no bin reaches up to 0.0
    detail = portal.client.get("/api/v1/targets/3clpro").get_json()
    assert detail["reference_scores"] == 8 and detail["reference_failed"] == 2
    listed = {t["key"]: t for t in portal.client.get("/api/v1/targets").get_json()["items"]}
    assert listed["3clpro"]["reference_scores"] == 8 and listed["3clpro"]["reference_failed"] == 2

    # Nafamostat keeps its real score; Arsenic trioxide is not ranked on a score it does not have
    table = portal.client.get("/api/v1/targets/3clpro/table?rows=dockcov2&page_size=50").get_json()["items"]
    assert table[0]["name"] == "Nafamostat" and table[0]["ref_score"] == -8.5
    assert "Arsenic trioxide" not in [r["name"] for r in table]

    scores = portal.client.get(f"/api/v1/drugs/{arsenic}/scores").get_json()["items"]
    assert scores == [{"target": "3clpro", "target_name": scores[0]["target_name"], "source": "dockcov2",
                       "campaign_id": None, "campaign": "DockCoV2 (published)", "score": None, "rank": None,
                       "of": None, "percentile": None, "note": scores[0]["note"]}]
    assert "failed docking" in scores[0]["note"]
    nafa = portal.client.get(f"/api/v1/drugs/{portal.ds.drug_ids['Nafamostat']}/scores").get_json()["items"]
    ref_row = next(r for r in nafa if r["source"] == "dockcov2" and r["target"] == "3clpro")
    assert ref_row["score"] == -8.5 and ref_row["rank"] == 1 and ref_row["of"] == 8  # 0.0 entries not counted

    page = portal.client.get(f"/drugs/{arsenic}").data.decode()
    assert "a failed docking, not a score" in page
    target_page = portal.client.get("/targets/3clpro").data.decode()
    assert 'id="failed-reference"' in target_page and "2 more" in target_page


def test_migration_turns_published_zeros_into_missing_scores(db_url: str) -> None:
    database = Database(db_url)
    upgrade(database.engine, "0002")
    with database.engine.begin() as conn:
        conn.execute(text("INSERT INTO target (key, name, spec, created_at) "
                          "VALUES ('t', 'T', '{}', CURRENT_TIMESTAMP)"))
        conn.execute(text(
            "INSERT INTO reference_score (source, external_id, target_id, score) "
            "SELECT 'dockcov2', cid, target.id, score FROM target, "
            "(SELECT '1' AS cid, 0.0 AS score UNION ALL SELECT '2', -7.5) AS v"
        ))
    upgrade(database.engine)
    with database.engine.connect() as conn:
        got = dict(conn.execute(text("SELECT external_id, score FROM reference_score")).all())
    assert got == {"1": None, "2": -7.5}
    database.dispose()
