"""The JSON API on the realistic dataset, on SQLite and PostgreSQL."""

from __future__ import annotations

import io

import pytest
from rdkit import Chem

from tests.webapp.conftest import Portal
from tests.webapp.dataset import DRUGS, N_POSES


def get_json(portal: Portal, url: str, status: int = 200) -> dict:
    r = portal.client.get(url)
    assert r.status_code == status, (url, r.status_code, r.data[:300])
    assert r.mimetype == "application/json"
    return r.get_json()


def test_stats_and_targets(portal: Portal) -> None:
    stats = get_json(portal, "/api/v1/stats")
    assert stats["drugs"] == len(DRUGS)
    assert stats["targets"] == 2
    assert stats["poses"] == (len(DRUGS) - 1) * N_POSES
    assert stats["reference_scores"] == 2 * len(DRUGS)
    targets = get_json(portal, "/api/v1/targets")["items"]
    assert [t["key"] for t in targets] == ["3clpro", "plpro"]
    assert targets[0]["docked_drugs"] == len(DRUGS) - 1
    assert targets[1]["docked_drugs"] == 0 and targets[1]["reference_scores"] == len(DRUGS)
    detail = get_json(portal, "/api/v1/targets/3clpro")
    assert detail["structure_id"] == "6LU7"
    assert detail["receptor"]["id"] == portal.ds.receptor_id
    pocket = detail["pockets"][0]
    assert pocket["kind"] == "focused" and pocket["center"] == [-10.7, 12.4, 68.8]
    assert {"chain": "A", "resnum": 145, "resname": None} in pocket["residues"]
    assert detail["campaigns"] == [
        {"id": portal.ds.campaign_id, "name": "demo-3clpro", "engine": "vina", "status": "done", "results": 8}
    ]


def test_target_table_ranks_and_reference(portal: Portal) -> None:
    page = get_json(portal, "/api/v1/targets/3clpro/table")
    names = [r["name"] for r in page["items"]]
    # by default every row ranks by the better of its two scores: Ibuprofen's DockCoV2 -6.2 beats
    # Oseltamivir's -6.1; Acetaminophen failed docking, so its DockCoV2 -5.1 ranks it
    assert names == [
        "Nafamostat",
        "Camostat",
        "Hydroxychloroquine",
        "Ibuprofen",
        "Oseltamivir",
        "Aspirin",
        "Favipiravir",
        "Acetaminophen",
    ]
    best = [min(v for v in (r["score"], r["ref_score"]) if v is not None) for r in page["items"]]
    assert best == sorted(best)
    # sort=score: DockDB's score only, drugs without one last
    ours = [r["name"] for r in get_json(portal, "/api/v1/targets/3clpro/table?sort=score")["items"]]
    assert ours[3:5] == ["Oseltamivir", "Ibuprofen"] and ours[-1] == "Acetaminophen"
    # a target nobody docked yet ranks by DockCoV2's scores, not by drug id
    plpro = get_json(portal, "/api/v1/targets/plpro/table")["items"]
    assert [r["ref_score"] for r in plpro] == sorted(r["ref_score"] for r in plpro)
    assert page["total"] == 8 and page["pages"] == 1
    first = page["items"][0]
    assert first["score"] == -8.2 and first["ref_score"] == -8.5
    assert first["best_pose_id"] == portal.ds.pose_ids["Nafamostat"][0]
    assert page["items"][-1]["score"] is None and page["items"][-1]["ref_score"] == -5.1
    assert first["mw"] == pytest.approx(347.38, abs=0.05)


def test_target_table_filters_sort_and_pages(portal: Portal) -> None:
    base = "/api/v1/targets/3clpro/table"
    assert [r["name"] for r in get_json(portal, f"{base}?max_score=-6.4")["items"]] == [
        "Nafamostat",
        "Camostat",
        "Hydroxychloroquine",
    ]
    assert get_json(portal, f"{base}?approval_status=INVESTIGATIONAL")["total"] == 1
    assert get_json(portal, f"{base}?clinical_phase=Phase%203")["items"][0]["name"] == "Favipiravir"
    mw = get_json(portal, f"{base}?mw_min=170&mw_max=210")["items"]
    assert sorted(r["name"] for r in mw) == ["Aspirin", "Ibuprofen"]
    # a reversed range is schema-valid (the OpenAPI document cannot relate two parameters): it matches nothing
    assert get_json(portal, f"{base}?mw_min=300&mw_max=100")["total"] == 0
    assert [r["name"] for r in get_json(portal, f"{base}?has_active_assay=1")["items"]] == ["Nafamostat", "Camostat"]
    assert get_json(portal, f"{base}?has_literature=true")["total"] == 2
    by_ref = get_json(portal, f"{base}?sort=ref_score&order=desc")["items"]
    assert [r["ref_score"] for r in by_ref] == sorted((r["ref_score"] for r in by_ref), reverse=True)
    assert get_json(portal, f"{base}?rows=ours")["total"] == 7
    assert get_json(portal, f"{base}?q=amostat")["total"] == 2
    p2 = get_json(portal, f"{base}?page=2&page_size=3")
    assert p2["pages"] == 3 and [r["name"] for r in p2["items"]] == ["Ibuprofen", "Oseltamivir", "Aspirin"]
    plpro = get_json(portal, "/api/v1/targets/plpro/table?sort=ref_score")
    assert plpro["items"][0]["name"] == "Nafamostat" and plpro["items"][0]["score"] is None


def test_distribution(portal: Portal) -> None:
    dist = get_json(portal, "/api/v1/targets/3clpro/distribution?bins=10")
    assert len(dist["edges"]) == 11
    series = {s["name"]: s for s in dist["series"]}
    assert series["demo-3clpro"]["n"] == 7 and sum(series["demo-3clpro"]["counts"]) == 7
    assert series["DockCoV2 (published)"]["min"] == -8.5


def test_drug_search(portal: Portal) -> None:
    ids = portal.ds.drug_ids
    assert get_json(portal, "/api/v1/drugs?q=tamiflu")["items"][0]["id"] == ids["Oseltamivir"]
    assert get_json(portal, "/api/v1/drugs?q=DB00945")["items"][0]["name"] == "Aspirin"
    assert get_json(portal, "/api/v1/drugs?q=CHEMBL25")["items"][0]["name"] == "Aspirin"
    assert get_json(portal, "/api/v1/drugs?q=2244")["items"][0]["name"] == "Aspirin"
    assert get_json(portal, "/api/v1/drugs?q=BSYNRYMUTXBXSQ-UHFFFAOYSA-N")["items"][0]["name"] == "Aspirin"
    contains = get_json(portal, "/api/v1/drugs?q=amostat")
    assert [d["name"] for d in contains["items"]] == ["Camostat", "Nafamostat"]
    prefix_first = get_json(portal, "/api/v1/drugs?q=para")["items"]
    assert prefix_first[0]["name"] == "Acetaminophen" and prefix_first[0]["matched"] == "Paracetamol"
    assert get_json(portal, "/api/v1/drugs?q=100%25")["total"] == 0  # LIKE wildcards are literal
    assert get_json(portal, "/api/v1/drugs")["total"] == len(DRUGS)
    assert get_json(portal, "/api/v1/drugs?approval_status=investigational")["items"][0]["name"] == "Favipiravir"
    sugg = get_json(portal, "/api/v1/drugs/suggest?q=ibu")
    assert sugg["items"] == [{"id": ids["Ibuprofen"], "name": "Ibuprofen", "matched": None}]


def test_drug_detail_scores_and_annotations(portal: Portal) -> None:
    naf = portal.ds.drug_ids["Nafamostat"]
    d = get_json(portal, f"/api/v1/drugs/{naf}")
    assert d["pubchem_cid"] == 4413
    assert {"db": "DrugBank", "id": "DB12598", "url": "https://go.drugbank.com/drugs/DB12598"} in d["links"]
    assert [link["db"] for link in d["links"]] == ["PubChem", "DrugBank", "ChEMBL"]
    assert d["descriptors"]["hbd"] == 5 and isinstance(d["descriptors"]["hbd"], int)
    scores = get_json(portal, f"/api/v1/drugs/{naf}/scores")["items"]
    ours = next(s for s in scores if s["source"] == "dockdb")
    assert ours["rank"] == 1 and ours["of"] == 7 and ours["percentile"] == 100.0
    ref = {s["target"]: s for s in scores if s["source"] == "dockcov2"}
    assert ref["3clpro"]["score"] == -8.5 and ref["3clpro"]["percentile"] == 100.0
    asp = get_json(portal, f"/api/v1/drugs/{portal.ds.drug_ids['Aspirin']}/scores")["items"]
    asp_ours = next(s for s in asp if s["source"] == "dockdb")
    assert asp_ours["rank"] == 6 and asp_ours["percentile"] == pytest.approx(100 * 2 / 7, abs=0.1)
    poses = get_json(portal, f"/api/v1/drugs/{naf}/poses")["items"]
    assert [p["rank"] for p in poses] == [1, 2, 3] and poses[0]["score"] == -8.2
    ann = get_json(portal, f"/api/v1/drugs/{naf}/annotations")
    assert ann["assays"][0]["active"] is True and ann["assays"][0]["measure"] == "IC50"
    assert ann["pathways"][0]["url"] == "https://reactome.org/content/detail/R-HSA-9694516"
    assert ann["gsea"][0]["enrichment_score"] == -0.42
    assert ann["literature"][0]["url"] == "https://doi.org/10.1016/j.cell.2020.02.052"
    assert ann["targets"][0]["gene"] == "TMPRSS2"
    svg = portal.client.get(f"/api/v1/drugs/{naf}/depiction.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml" and b"<svg" in svg.data
    assert "default-src 'none'" in svg.headers["Content-Security-Policy"]


def test_scores_by_target_drug_campaign(portal: Portal) -> None:
    ds = portal.ds
    by_target = get_json(portal, "/api/v1/scores?target=3clpro")
    assert by_target["total"] == 7 and by_target["items"][0]["name"] == "Nafamostat"
    assert by_target["items"][0]["dockcov2_score"] == -8.5
    assert by_target["items"][0]["best_pose_id"] == ds.pose_ids["Nafamostat"][0]
    assert get_json(portal, f"/api/v1/scores?drug={ds.drug_ids['Aspirin']}")["items"][0]["score"] == -5.4
    assert get_json(portal, f"/api/v1/scores?campaign={ds.campaign_id}&status=any")["total"] == 8
    failed = get_json(portal, "/api/v1/scores?status=failed")["items"]
    assert [r["name"] for r in failed] == ["Acetaminophen"]
    desc = get_json(portal, "/api/v1/scores?sort=score&order=desc&page_size=2")
    assert [r["score"] for r in desc["items"]] == [-5.2, -5.4] and desc["pages"] == 4
    assert get_json(portal, "/api/v1/scores?max_score=-7&min_score=-8")["total"] == 1
    assert get_json(portal, "/api/v1/scores?target=plpro")["total"] == 0


def test_pose_json_and_downloads(portal: Portal) -> None:
    pose_id = portal.ds.pose_ids["Ibuprofen"][1]
    pose = get_json(portal, f"/api/v1/poses/{pose_id}")
    assert pose["rank"] == 2 and pose["score"] == -5.6
    assert pose["target"]["key"] == "3clpro" and pose["drug"]["name"] == "Ibuprofen"
    assert pose["pocket"]["kind"] == "focused"
    assert pose["interactions"], "the pose sits in the pocket, so it touches residues"
    assert all(i["chain"] == "A" and i["type"] in ("hbond", "hydrophobic") for i in pose["interactions"])
    assert "sdf" not in get_json(portal, f"/api/v1/poses/{pose_id}?include_sdf=false")
    sdf = portal.client.get(f"/api/v1/poses/{pose_id}.sdf")
    assert sdf.status_code == 200 and "attachment" in sdf.headers["Content-Disposition"]
    mols = [mol for mol in Chem.ForwardSDMolSupplier(io.BytesIO(sdf.data), removeHs=False) if mol is not None]
    assert len(mols) == 1 and mols[0].GetProp("_Name") == "Ibuprofen | 3clpro | pose 2"
    tags = mols[0].GetPropsAsDict()
    assert (tags["drug"], tags["target"], tags["rank"], tags["score"]) == ("Ibuprofen", "3clpro", 2, -5.6)
    assert tags["pose_id"] == pose_id
    assert Chem.MolToInchiKey(mols[0]).startswith("HEFNNWSXXWATRW-")  # 3D pose fixes the stereocentre
    pdbqt = portal.client.get(f"/api/v1/poses/{pose_id}.pdbqt")
    assert pdbqt.status_code == 200 and b"REMARK VINA RESULT:    -5.600" in pdbqt.data
    complex_ = portal.client.get(f"/api/v1/poses/{pose_id}/complex.pdb").data.decode()
    lig = [ln for ln in complex_.splitlines() if ln.startswith("HETATM") and ln[17:20] == "LIG"]
    assert len(lig) == Chem.MolFromMolBlock(pose["sdf"], removeHs=False).GetNumAtoms()
    assert len({ln[12:16] for ln in lig}) == len(lig), "ligand atom names are unique"
    mol = Chem.MolFromPDBBlock(complex_, removeHs=False, sanitize=False)
    n_receptor = sum(1 for ln in complex_.splitlines() if ln.startswith("ATOM  "))
    assert mol is not None and mol.GetNumAtoms() == n_receptor + len(lig)
    serials = [int(ln[6:11]) for ln in complex_.splitlines() if ln.startswith(("ATOM  ", "HETATM"))]
    assert len(serials) == len(set(serials)), "ligand serials continue after the receptor's"
    rec = portal.client.get(f"/api/v1/receptors/{portal.ds.receptor_id}.pdb")
    assert rec.status_code == 200 and rec.data.count(b"\nATOM  ") > 2000


def test_campaigns(portal: Portal) -> None:
    items = get_json(portal, "/api/v1/campaigns")["items"]
    assert len(items) == 1
    progress = items[0]["progress"]
    assert progress["results"] == {"done": 7, "failed": 1}
    assert progress["planned"] == 8 and progress["percent"] == 100.0 and progress["poses"] == 21
    detail = get_json(portal, f"/api/v1/campaigns/{portal.ds.campaign_id}")
    assert detail["manifest"] == {"targets": ["3clpro"], "seed": 42}
    assert detail["targets"][0]["key"] == "3clpro" and detail["library"]["name"] == "demo"


def test_similarity_and_substructure(portal: Portal) -> None:
    hits = get_json(portal, "/api/v1/search/similar?smiles=CC(=O)Oc1ccccc1C(=O)O&threshold=0.3")
    assert hits["items"][0]["name"] == "Aspirin" and hits["items"][0]["similarity"] == 1.0
    assert hits["candidates"] == len(DRUGS)
    assert all(h["similarity"] >= 0.3 for h in hits["items"])
    sub = get_json(portal, "/api/v1/search/substructure?smarts=NC(=N)N")  # guanidine
    assert sorted(h["name"] for h in sub["items"]) == ["Camostat", "Nafamostat"]
    assert sub["complete"] is True and sub["scanned"] == len(DRUGS)
    limited = get_json(portal, "/api/v1/search/substructure?smarts=c1ccccc1&limit=2")
    assert len(limited["items"]) == 2


def test_selectivity(portal: Portal) -> None:
    ours = get_json(portal, "/api/v1/selectivity")
    assert ours["source"] == "dockdb" and [t["key"] for t in ours["targets"]] == ["3clpro"]
    assert ours["drugs"][0]["name"] == "Nafamostat" and ours["drugs"][0]["z"][0] < -1
    ref = get_json(portal, "/api/v1/selectivity?source=dockcov2&top=3")
    assert [t["key"] for t in ref["targets"]] == ["3clpro", "plpro"] and len(ref["drugs"]) == 3
    for drug in ref["drugs"]:
        assert len(drug["z"]) == 2 and drug["selectivity"] is not None


def test_openapi_covers_every_api_route(portal: Portal) -> None:
    doc = get_json(portal, "/api/v1/openapi.json")
    assert doc["openapi"].startswith("3.")
    documented = set(doc["paths"])
    routes = {
        r.rule.replace("<int:", "{").replace("<", "{").replace(">", "}")
        for r in portal.app.url_map.iter_rules()
        if r.rule.startswith("/api/v1/") and r.rule != "/api/v1/"
    }
    assert routes == documented
    table = doc["paths"]["/api/v1/targets/{key}/table"]["get"]["parameters"]
    page_size = next(p for p in table if p["name"] == "page_size")
    assert page_size["schema"]["maximum"] == 500
    index = get_json(portal, "/api/v1/")
    assert "/api/v1/scores" in index["routes"]
