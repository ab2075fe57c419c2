"""The drug page reads right: identifiers once with readable labels, Reactome names with spaces, a target gene
once with its actions, and a GSEA table that explains itself, has dose units, is sorted by p and leaves out
CMap's ES 0 / p 1 pairs."""

from __future__ import annotations

import re

import pytest

from dockdb import models as m
from tests.webapp.conftest import Portal
from webapp.queries.common import pathway_name


def _annotate(portal: Portal) -> int:
    naf = portal.ds.drug_ids["Nafamostat"]
    with portal.db.session() as s:
        drug = s.get(m.Drug, naf)
        drug.cas = "81525-10-2"
        s.add(m.DrugIdentifier(drug_id=naf, kind="cas", value="81525-10-2"))
        s.add(m.DrugIdentifier(drug_id=naf, kind="chembl_id", value="CHEMBL1200666"))  # a second ChEMBL id
        s.add(m.DrugTarget(drug_id=naf, gene="C1R", source="DrugCentral"))
        s.add(m.DrugTarget(drug_id=naf, gene="C1R", source="DrugCentral (ChEMBL)", action="INHIBITOR"))
        pathway = m.Pathway(reactome_id="R-HSA-1592389", name="Activation-of-Matrix-Metalloproteinases")
        s.add(pathway)
        s.flush()
        s.add(m.DrugPathway(drug_id=naf, pathway_id=pathway.id, overlap_genes=["C1R"], p_value=0.02,
                            adj_p_value=0.04))
        for instance, signature, es, p in [("7", "SARS-CoV-2", -0.61, 0.02), ("7", "MERS", 0.0, 1.0),
                                           ("8", "SARS", 0.35, 0.3), ("8", "MERS", 0.0, 0.99)]:
            s.add(m.GseaScore(drug_id=naf, instance=instance, signature=signature, dose="0.0000122",
                              cell_line="PC3", enrichment_score=es, p_value=p))
    return naf


def _section(page: str, heading: str) -> str:
    return page.split(f"<h2>{heading}</h2>", 1)[1].split("<h2>", 1)[0]


def test_drug_page_reads_right(portal: Portal) -> None:
    naf = _annotate(portal)
    page = portal.client.get(f"/drugs/{naf}").data.decode()
    ids = _section(page, "Identifiers")
    assert ids.count("81525-10-2") == 1  # CAS once
    assert "chembl_id" not in ids and "<dt>ChEMBL</dt><dd>CHEMBL1200666</dd>" in ids

    assert ">Activation of Matrix Metalloproteinases</a>" in page and "Activation-of" not in page

    targets = _section(page, "Drug targets")
    assert targets.count(">C1R") == 1 and "C1R · inhibitor" in targets

    gsea = _section(page, "GSEA")
    assert "CMap instance" in gsea and "one dose on one cell line" in gsea and "Sorted by p" in gsea
    assert "<th>Instance</th>" not in gsea
    assert "12.2 µM" in gsea and "0.0000122" not in gsea
    assert "2 treatment–signature pairs with ES 0" in gsea and ">0.000<" not in gsea
    plain = portal.client.get(f"/drugs/{portal.ds.drug_ids['Aspirin']}").data.decode()
    assert "No GSEA scores." in plain and "one dose on one cell line" not in plain
    ps = [float(v) for v in re.findall(r'<td class="num">[-\d.]+</td><td class="num">([\d.e-]+)</td>', gsea)]
    assert ps == sorted(ps) and len(ps) == 3  # the dataset's own GSEA row and the two scored ones


@pytest.mark.parametrize(("raw", "shown"), [
    ("Activation-of-Matrix-Metalloproteinases", "Activation of Matrix Metalloproteinases"),
    ("Class-A/1-(Rhodopsin-like-receptors)", "Class A/1 (Rhodopsin-like receptors)"),
    ("Assembly-of-the-SARS-CoV-2-Replication-Transcription-Complex-(RTC)",
     "Assembly of the SARS-CoV-2 Replication Transcription Complex (RTC)"),
    ("APOBEC3G-mediated-resistance-to-HIV-1-infection", "APOBEC3G-mediated resistance to HIV-1 infection"),
    ("Abnormal-conversion-of-2-oxoglutarate-to-2-hydroxyglutarate",
     "Abnormal conversion of 2-oxoglutarate to 2-hydroxyglutarate"),
    ("SARS-CoV-2 Infection", "SARS-CoV-2 Infection"),  # already spelt with spaces: untouched
])
def test_pathway_names_as_reactome_writes_them(raw: str, shown: str) -> None:
    assert pathway_name(raw) == shown
