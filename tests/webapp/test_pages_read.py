"""Pages that read right: the selectivity page explains its column and says why it shows fewer drugs than asked."""

from __future__ import annotations

import re

from sqlalchemy import select

from tests.webapp.conftest import Portal


def _text(portal: Portal, url: str) -> str:
    r = portal.client.get(url)
    assert r.status_code == 200, url
    return re.sub(r"\s+", " ", r.data.decode())


def test_selectivity_explains_column_and_shortfall(portal: Portal) -> None:
    page = _text(portal, "/selectivity?top=30&source=dockdb")
    assert "<strong>Selectivity</strong> = the drug's best z minus the mean of its z on the other targets" in page
    rows = re.findall(r'<tr><th><a href="/drugs/\d+">', page)
    assert len(rows) == 7
    assert "Showing 7 of the 30 drugs asked for: only 7 drugs have DockDB scores" in page
    assert 'href="/selectivity?top=30&amp;source=dockcov2"' in page
    assert 'id="fewer-drugs"' not in _text(portal, "/selectivity?top=5&source=dockdb")


def test_search_errors_inline_and_keeps_the_form(portal: Portal) -> None:
    r = portal.client.get("/search?mode=similar&smiles=C1CC(&threshold=0.7")
    assert r.status_code == 400 and r.mimetype == "text/html"
    page = re.sub(r"\s+", " ", r.data.decode())
    assert ('<h1>Search drugs</h1> <p class="error-inline" id="search-error" role="alert">'
            "smiles is not a valid SMILES") in page
    assert 'name="smiles" type="text" maxlength="1000" value="C1CC("' in page  # what was typed stays
    assert page.count("<form") >= 3 and 'value="0.7"' in page
    bad_mode = portal.client.get("/search?mode=other&q=x")
    assert bad_mode.status_code == 400 and b'id="search-error"' in bad_mode.data and b'id="search-q"' in bad_mode.data


def test_name_search_says_what_matched(portal: Portal) -> None:
    def matched(q: str) -> list[str]:
        page = _text(portal, f"/search?q={q}")
        return re.findall(r'</a></td><td>([^<]*)</td>', page.split('id="results"')[1])

    assert matched("tamiflu") == ["synonym Tamiflu (exact)"]
    assert matched("nafa") == ["name (starts with)"]
    assert matched("DB12598") == ["identifier DB12598"]
    assert matched("amostat") == ["name (contains)", "name (contains)"]


def test_labels_say_what_things_are(portal: Portal) -> None:
    from dockdb import models as m

    with portal.db.session() as s:
        plpro = s.scalar(select(m.Target).where(m.Target.key == "plpro"))
        plpro.structure_id = "SWISS-MODEL (template 5CE1)"
        lib = s.scalar(select(m.Library))
        extra = m.Drug(name="Unscreened", name_lower="unscreened", smiles="CCO", inchikey="LFQSCWFLJHTTHZ-UHFFFAOYSA-N")
        s.add(extra)
        s.flush()
        s.add(m.LibraryMember(library_id=lib.id, drug_id=extra.id, source_name="Unscreened"))
        lib_name = lib.name
    home = _text(portal, "/")
    assert "· SWISS-MODEL (template 5CE1)" in home and "PDB SWISS" not in home and "· PDB 6LU7" in home
    target = _text(portal, "/targets/plpro")
    assert '<a href="https://www.rcsb.org/structure/5CE1" rel="noopener">SWISS-MODEL (template 5CE1)</a>' in target
    campaign = _text(portal, f"/campaigns/{portal.ds.campaign_id}")
    assert f"8 of the 9 in library {lib_name}:" in campaign
    assert f'<a href="/drugs/{portal.ds.drug_ids["Nafamostat"]}">Nafamostat</a>' in campaign
    assert "Unscreened" not in campaign
