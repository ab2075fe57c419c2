"""HTML pages, CSV and zip downloads, the viewer asset, production config, `dockdb serve`."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path

from rdkit import Chem

from dockdb import models as m
from dockdb.config import Config
from dockdb.migrate import head_revision
from tests.conftest import run_cli
from tests.webapp.conftest import Portal
from webapp import create_app
from webapp.queries.common import DESCRIPTORS


def html(portal: Portal, url: str, status: int = 200) -> str:
    r = portal.client.get(url)
    assert r.status_code == status, (url, r.status_code, r.data[:300])
    assert r.mimetype == "text/html"
    return r.data.decode()


def test_home(portal: Portal) -> None:
    page = html(portal, "/")
    assert re.search(r'data-count="drugs">8<', page)
    assert re.search(r'data-count="poses">21<', page)
    assert 'href="/targets/3clpro"' in page and 'href="/targets/plpro"' in page
    assert 'data-autocomplete="/api/v1/drugs/suggest"' in page
    assert "default-src 'self'" in portal.client.get("/").headers["Content-Security-Policy"]


def test_target_page(portal: Portal) -> None:
    page = html(portal, "/targets/3clpro")
    assert "3C-like protease" in page and "PDB 6LU7" in page
    assert "<svg" in page and "demo-3clpro (n=7" in page  # server-rendered histogram
    assert 'id="target-viewer"' in page and "/vendor/3Dmol-min.js" in page
    assert "A:145" in page  # pocket residue
    rows = re.findall(r'<a href="/drugs/(\d+)">([^<]+)</a>', page.split('id="ranked"')[1])
    # ranked by the better of the two scores: Ibuprofen's DockCoV2 -6.2 before Oseltamivir's DockDB -6.1
    assert [name for _, name in rows][:5] == ["Nafamostat", "Camostat", "Hydroxychloroquine", "Ibuprofen",
                                              "Oseltamivir"]
    assert "Sorted by the best score shown for each drug" in page and "Sort by the best score" not in page
    by_name = html(portal, "/targets/3clpro?sort=name&order=desc&q=a")
    assert "Sorted by Drug, descending" in by_name
    assert '<a href="/targets/3clpro?q=a">Sort by the best score</a>' in by_name
    # the first row's descriptor cells, formatted as the table shows them (MW and TPSA one decimal)
    first = portal.client.get("/api/v1/targets/3clpro/table?page_size=1").get_json()["items"][0]
    row = re.search(rf'<tr>\s*<td>1</td>\s*<td><a href="/drugs/{first["id"]}">.*?</tr>', page, re.S)
    assert row is not None
    cells = re.findall(r'<td class="num">([^<]*)</td>', row.group(0))[-7:]
    expected = [("%.1f" if d in ("mw", "tpsa") else "%g") % first[d] for d in DESCRIPTORS]
    assert cells == expected
    filtered = html(portal, "/targets/3clpro?has_active_assay=1&sort=name&order=desc")
    names = [n for _, n in re.findall(r'<a href="/drugs/(\d+)">([^<]+)</a>', filtered.split('id="ranked"')[1])]
    assert names == ["Nafamostat", "Camostat"]
    assert "/targets/3clpro/table.csv?has_active_assay=1&amp;sort=name&amp;order=desc" in filtered
    paged = html(portal, "/targets/3clpro?page_size=3&page=2")
    assert "page 2 of 3" in paged and 'rel="next"' in paged and "page_size=3" in paged
    assert "No drugs match" in html(portal, "/targets/3clpro?max_score=-20")
    assert "No prepared receptor yet" in html(portal, "/targets/plpro")


def test_target_csv_is_exactly_the_filtered_table(portal: Portal) -> None:
    query = "?max_ref_score=-6&sort=ref_score"
    api = portal.client.get(f"/api/v1/targets/3clpro/table{query}&page_size=500").get_json()
    r = portal.client.get(f"/targets/3clpro/table.csv{query}")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(r.data.decode())))
    assert [int(row["drug_id"]) for row in rows] == [i["id"] for i in api["items"]]
    assert [float(row["dockcov2_score"]) for row in rows] == [-8.5, -7.9, -6.3, -6.2, -6.0]
    assert rows[0]["score"] == "-8.2" and rows[0]["rank"] == "1"
    assert portal.client.get("/targets/3clpro/table.csv?mw_max=abc").status_code == 400


def test_drug_page(portal: Portal) -> None:
    naf = portal.ds.drug_ids["Nafamostat"]
    page = html(portal, f"/drugs/{naf}")
    assert '<h1 id="drug-name">Nafamostat</h1>' in page
    for url in (
        "https://pubchem.ncbi.nlm.nih.gov/compound/4413",
        "https://go.drugbank.com/drugs/DB12598",
        "https://www.ebi.ac.uk/chembl/compound_report_card/CHEMBL273264/",
    ):
        assert url in page
    assert f'src="/api/v1/drugs/{naf}/depiction.svg"' in page
    assert "https://reactome.org/content/detail/R-HSA-9694516" in page
    assert "SARS-CoV-2 cell entry depends on ACE2 and TMPRSS2" in page
    assert "MCF7" in page and "IC50" in page
    pose_ids = portal.ds.pose_ids["Nafamostat"]
    options = re.findall(r'<option value="(\d+)"', page.split("data-pose-select")[1].split("</select>")[0])
    assert [int(o) for o in options] == pose_ids
    assert f'href="/api/v1/poses/{pose_ids[0]}.sdf"' in page
    assert f'href="/api/v1/poses/{pose_ids[0]}/complex.pdb"' in page
    assert re.search(r"<td>A:[A-Z]{3}\d+</td><td>(hbond|hydrophobic)</td>", page)
    # scores across targets: ours on 3CLpro (best of 7 docked), DockCoV2's on 3CLpro and PLpro
    table = page.split('id="scores"')[1].split("</table>")[0]
    rows = re.findall(r'<tr><td><a href="/targets/([\w-]+)">[^<]*</a></td>\s*<td>(?:<a [^>]*>)?([^<]*)(?:</a>)?'
                      r'(?: <span[^>]*>\(reference\)</span>)?</td>\s*<td>([^<]*)</td>\s*'
                      r'<td class="num">([^<]*)</td><td class="num">(\d+) of (\d+) (\w+)</td>'
                      r'<td class="num">([^<]*)</td>', table)
    assert rows == [
        ("3clpro", "demo-3clpro", "vina · focused · 8", "-8.20", "1", "7", "docked", "100.0"),
        ("3clpro", "DockCoV2 (published)", "Vina 1.1.2 · blind box", "-8.50", "1", "8", "published", "100.0"),
        ("plpro", "DockCoV2 (published)", "Vina 1.1.2 · blind box", "-7.90", "1", "8", "published", "100.0"),
    ]
    no_pose = html(portal, f"/drugs/{portal.ds.drug_ids['Acetaminophen']}")
    assert "No docked poses for this drug yet." in no_pose


def test_drug_page_identifiers_grouped_without_repeats(portal: Portal) -> None:
    naf = portal.ds.drug_ids["Nafamostat"]
    with portal.db.session() as s:
        for kind, value in [("chebi", "CHEBI:135681"), ("mmsl", "5172"), ("mmsl", "d01126"), ("pubchem_cid", "4413")]:
            s.add(m.DrugIdentifier(drug_id=naf, kind=kind, value=value))
        s.get(m.Drug, naf).mechanism = "serine protease inhibitor|TMPRSS2 inhibitor"  # the Repurposing Hub's '|'
    facts = html(portal, f"/drugs/{naf}").split('<dl class="facts">')[1].split("</dl>")[0]
    terms = re.findall(r"<dt>([^<]+)</dt><dd>([^<]*)", facts)
    assert ("ChEBI", "CHEBI:135681") in terms and ("MMSL", "5172, d01126") in terms
    assert ("Mechanism", "serine protease inhibitor; TMPRSS2 inhibitor") in terms
    labels = [t for t, _ in terms]
    assert labels.count("PubChem") == 1 and labels.count("DrugBank") == 1  # the links out, not raw repeats
    assert "drugbank" not in labels and "pubchem_cid" not in labels and "drugbank_id" not in labels
    assert len(labels) == len(set(labels))


def test_viewer_asset_and_missing_message(portal: Portal) -> None:
    r = portal.client.get("/vendor/3Dmol-min.js")
    assert r.status_code == 200 and r.mimetype == "text/javascript" and len(r.data) > 100_000
    portal.app.config["DOCKDB_VIEWER_JS"] = "/nonexistent/3Dmol-min.js"
    page = html(portal, f"/drugs/{portal.ds.drug_ids['Aspirin']}")
    assert "3D viewer not installed: run <code>webapp/install_assets.sh</code>" in page
    assert "/vendor/3Dmol-min.js" not in page
    missing = portal.client.get("/vendor/3Dmol-min.js")
    assert missing.status_code == 404 and b"install_assets.sh" in missing.data


def test_search_page(portal: Portal) -> None:
    page = html(portal, "/search?q=tamiflu")
    assert "1 drug matching" in page and "Oseltamivir" in page and "Tamiflu" in page
    sim = html(portal, "/search?mode=similar&smiles=CC(C)Cc1ccc(cc1)C(C)C(=O)O&threshold=0.9")
    assert "Ibuprofen" in sim and "1.000" in sim and "Aspirin" not in sim
    sub = html(portal, "/search?mode=substructure&smarts=C(=O)O[c]")
    assert "Aspirin" in sub and "Nafamostat" in sub and "Ibuprofen" not in sub
    assert html(portal, "/search?mode=similar&smiles=notasmiles", 400).count("smiles is not a valid SMILES") == 1
    assert "Search drugs" in html(portal, "/search")
    assert html(portal, "/search?mode=other", 400)


def test_selectivity_campaigns_downloads_api_docs(portal: Portal) -> None:
    sel = html(portal, "/selectivity?source=dockcov2&top=5")
    assert 'id="heatmap"' in sel and sel.count('<tr><th><a href="/drugs/') == 5
    assert "background: #" in sel
    camp = html(portal, "/campaigns")
    assert "demo-3clpro" in camp and "100.0%" in camp
    detail = html(portal, f"/campaigns/{portal.ds.campaign_id}")
    assert "&#34;seed&#34;: 42" in detail or '"seed": 42' in detail
    assert html(portal, "/campaigns/999999", 404)
    dl = html(portal, "/downloads")
    assert (
        'href="/downloads/targets/3clpro.zip"' in dl
        and f'href="/downloads/campaigns/{portal.ds.campaign_id}.zip"' in dl
    )
    docs = html(portal, "/api/docs")
    assert 'data-openapi="/api/v1/openapi.json"' in docs and "/static/apidocs.js" in docs


def _zip(portal: Portal, url: str) -> zipfile.ZipFile:
    r = portal.client.get(url)
    assert r.status_code == 200 and r.mimetype == "application/zip"
    return zipfile.ZipFile(io.BytesIO(r.data))


def test_archives(portal: Portal) -> None:
    zf = _zip(portal, "/downloads/targets/3clpro.zip")
    assert sorted(zf.namelist()) == ["3clpro/best_poses.sdf", "3clpro/scores.csv"]
    rows = list(csv.DictReader(io.StringIO(zf.read("3clpro/scores.csv").decode())))
    assert len(rows) == 8 and rows[0]["name"] == "Nafamostat"
    mols = list(Chem.ForwardSDMolSupplier(io.BytesIO(zf.read("3clpro/best_poses.sdf")), removeHs=False))
    assert len(mols) == 7 and all(m is not None for m in mols)
    assert mols[0].GetProp("target") == "3clpro" and float(mols[0].GetProp("score")) == -8.2
    best = mols[0].GetProp("drug")
    assert best == rows[0]["name"] and mols[0].GetProp("_Name") == f"{best} | 3clpro | pose 1"
    cz = _zip(portal, f"/downloads/campaigns/{portal.ds.campaign_id}.zip")
    base = f"campaign-{portal.ds.campaign_id}"
    assert sorted(cz.namelist()) == [f"{base}/best_poses.sdf", f"{base}/manifest.json", f"{base}/results.csv"]
    results = list(csv.DictReader(io.StringIO(cz.read(f"{base}/results.csv").decode())))
    assert {r["status"] for r in results} == {"done", "failed"} and len(results) == 8
    assert portal.client.get("/downloads/targets/..%2F..%2Fetc%2Fpasswd.zip").status_code == 404
    assert portal.client.get("/downloads/campaigns/999.zip").status_code == 404


def test_production_config(tmp_path: Path) -> None:
    env = {"DOCKDB_ENV": "production", "DOCKDB_SECRET_KEY": "s3cret-from-env", "DOCKDB_HOME": str(tmp_path)}
    app = create_app(Config.load(environ=env))
    assert app.config["SECRET_KEY"] == "s3cret-from-env"
    assert app.debug is False and app.config["SESSION_COOKIE_SECURE"] is True
    dev = create_app(Config.load(environ={"DOCKDB_HOME": str(tmp_path)}))
    assert len(dev.config["SECRET_KEY"]) == 64


def test_serve_command(tmp_path: Path) -> None:
    help_ = run_cli(["serve", "--help"])
    assert help_.exit_code == 0
    for option in ("--host", "--port", "--debug / --production", "127.0.0.1", "5000"):
        assert option in help_.stdout
    env = {"DOCKDB_HOME": str(tmp_path), "DOCKDB_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite'}"}
    not_migrated = run_cli(["serve", "--port", "5999"], env=env)
    assert not_migrated.exit_code == 1  # NotMigratedError, before any server starts
    assert not_migrated.stderr.strip().splitlines() == [
        f"error: database {env['DOCKDB_DATABASE_URL']} is empty (no schema), not at head {head_revision()}; "
        "run `dockdb db upgrade`"]
