"""`ingest all` on the real source files, checked against counts computed here from the files."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

from sqlalchemy import func, select

from dockdb.models import (
    Assay,
    AssayResult,
    Drug,
    DrugIdentifier,
    DrugPathway,
    DrugTarget,
    GseaScore,
    Library,
    LibraryMember,
    LiteratureRef,
    Pathway,
    PathwayGene,
    Pocket,
    ReferenceScore,
    Target,
)
from dockdb.stats import row_counts
from ingest.chembl_drugs import name_keys
from ingest.drugtargets import entrez_symbols
from ingest.pathways import TARGET_SOURCES
from ingest.standardize import Standardized, standardize_many, standardize_smiles
from tests.ingest.conftest import Loaded


def _tsv(path: Path, delimiter: str = "\t") -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter=delimiter))


def _count(loaded: Loaded, stmt) -> int:  # type: ignore[no-untyped-def]
    with loaded.db.session() as s:
        return int(s.scalar(stmt) or 0)


def test_every_source_loads_and_second_run_changes_nothing(loaded: Loaded) -> None:
    assert loaded.first.ok, [(s.name, s.error) for s in loaded.first.failed]
    assert loaded.first.inserted > 100_000
    assert loaded.second.ok
    assert (loaded.second.inserted, loaded.second.updated) == (0, 0), loaded.second.table()
    assert row_counts(loaded.db) == loaded.counts_after_first


def test_fda_approved_library_matches_drugcentral(loaded: Loaded) -> None:
    mirror = loaded.config.mirror
    assert mirror is not None
    structures = {r["ID"]: r["SMILES"] for r in _tsv(mirror / "drugs/drugcentral_structures.smiles.tsv")}
    fda_text = (mirror / "drugs/drugcentral_fda_approved.csv").read_text()
    fda_ids = [line.split(",", 1)[0] for line in fda_text.splitlines() if line.strip()]
    std = standardize_many([structures[sid] for sid in fda_ids if sid in structures],
                           cache_dir=loaded.config.home / "cache")
    parents = {std[structures[sid]].inchikey for sid in fda_ids
               if sid in structures and isinstance(std[structures[sid]], Standardized)}
    without_structure = sum(1 for sid in fda_ids if sid not in structures)
    with loaded.db.session() as s:
        lib = s.scalar(select(Library.id).where(Library.name == "fda-approved"))
        members = set(s.scalars(select(Drug.inchikey).join(LibraryMember, LibraryMember.drug_id == Drug.id)
                                .where(LibraryMember.library_id == lib)))
        approved = s.scalar(select(func.count()).select_from(Drug)
                            .where((Drug.approval_status == "FDA approved") | (Drug.clinical_phase == "Launched")))
    assert parents <= members
    assert len(parents) <= len(members) <= len(parents) + without_structure
    launched = {r["pert_iname"] for r in _tsv(mirror / "drugs/broad_repurposing_drugs_20200324.txt")
                if r["clinical_phase"] == "Launched"}
    assert approved >= max(2000, len(parents))
    assert approved >= len(launched) * 0.9  # a few Hub names share one parent structure
    assert loaded.first.get("drugs").details["fda_without_structure"] <= without_structure


def test_drug_rows_carry_identifiers_from_every_source(loaded: Loaded) -> None:
    mirror = loaded.config.mirror
    assert mirror is not None
    idents = _tsv(mirror / "drugs/drugcentral_identifiers.tsv")
    structures = {r["ID"]: r for r in _tsv(mirror / "drugs/drugcentral_structures.smiles.tsv")}
    # imatinib: DrugCentral structure + DrugBank id, and a Broad sample with a clinical phase
    sid = next(r["ID"] for r in structures.values() if r["INN"] == "imatinib")
    drugbank = {r["IDENTIFIER"] for r in idents if r["DRUG_ID"] == sid and r["ID_TYPE"] == "DRUGBANK_ID"}
    parent = standardize_smiles(structures[sid]["SMILES"]).inchikey
    with loaded.db.session() as s:
        drug = s.scalars(select(Drug).where(Drug.inchikey == parent)).one()
        kinds = {(i.kind, i.value) for i in s.scalars(select(DrugIdentifier).where(DrugIdentifier.drug_id == drug.id))}
    assert drug.drugbank_id in drugbank
    assert ("drugcentral_id", sid) in kinds
    assert any(k == "broad_id" for k, _ in kinds)
    assert drug.clinical_phase == "Launched" and drug.mechanism
    assert drug.mw is not None and 400 < drug.mw < 600 and drug.heavy_atoms == 37


def test_targets_and_pockets_come_from_the_files(loaded: Loaded) -> None:
    mirror = loaded.config.mirror
    assert mirror is not None
    rows = {r["target_key"]: r for r in _tsv(mirror / "targets/pockets.tsv")}
    with loaded.db.session() as s:
        targets = s.scalars(select(Target)).all()
        assert len(targets) == 7
        for t in targets:
            pockets = {p.kind: p for p in s.scalars(select(Pocket).where(Pocket.target_id == t.id))}
            assert set(pockets) == {"focused", "blind"}
            row = rows[t.spec["pocket_row"]]
            assert list(pockets["focused"].center) == [float(v) for v in row["box_center_xyz"].split(",")]
            conf = (mirror / f"targets/dockcov2/{t.spec['pocket_row']}.conf").read_text()
            size_x = float(next(ln.split("=")[1] for ln in conf.splitlines() if ln.startswith("size_x")))
            assert pockets["blind"].size_x == size_x
            pdb = mirror / f"targets/dockcov2/{t.spec['pocket_row']}.pdb"
            assert t.source_hash == hashlib.sha256(pdb.read_bytes()).hexdigest()
            assert pockets["focused"].residues
        mpro = next(t for t in targets if t.key == "3clpro")
        assert list(mpro.spec["remove_chains"]) == ["C"] and mpro.spec["keep_chains"] == ["A"]


def test_reference_scores_keep_every_row_and_count_unmatched(loaded: Loaded) -> None:
    mirror = loaded.config.mirror
    assert mirror is not None
    rows = _tsv(mirror / "reference/dockcov2_cidproteinscore.tsv")
    cids = {r["pubchem_cid"] for r in rows}
    report = loaded.first.get("reference")
    assert _count(loaded, select(func.count()).select_from(ReferenceScore)) == len(rows)
    with loaded.db.session() as s:
        unmatched_db = set(s.scalars(select(ReferenceScore.external_id).where(ReferenceScore.drug_id.is_(None))))
        matched_db = set(s.scalars(select(ReferenceScore.external_id).where(ReferenceScore.drug_id.is_not(None))))
    assert report.details["matched_cids"] + report.unmatched == len(cids)
    assert unmatched_db == cids - matched_db and len(unmatched_db) == report.unmatched
    mapped = {r["pubchem_cid"] for r in _tsv(mirror / "reference/dockcov2_cid_to_smiles.tsv")}
    assert len(matched_db) >= len(mapped & cids) * 0.95
    # DockCoV2's 0.0 entries are failed dockings: kept, with a missing score
    zeros = sum(1 for r in rows if float(r["docking_score"]) == 0)
    assert zeros > 0 and report.details["failed_dockings"] == zeros
    assert _count(loaded, select(func.count()).select_from(ReferenceScore).where(ReferenceScore.score.is_(None))) \
        == zeros
    assert _count(loaded, select(func.count()).select_from(ReferenceScore).where(ReferenceScore.score == 0)) == 0


def test_assays_and_their_rules(loaded: Loaded) -> None:
    mirror = loaded.config.mirror
    assert mirror is not None
    with loaded.db.session() as s:
        assays = {a.key: a for a in s.scalars(select(Assay))}
        assert len(assays) == 4 and all(a.active_rule for a in assays.values())
        ell = assays["ellinger-caco2-cpe"]
        ell_results = s.scalars(select(AssayResult).where(AssayResult.assay_id == ell.id)).all()
        assert all(r.active == (r.value >= 75) for r in ell_results)
        dc2 = assays["dockcov2-network-proximity"]
        n = s.scalar(select(func.count()).select_from(AssayResult).where(AssayResult.assay_id == dc2.id))
    ell_rows = _tsv(mirror / "annotations/assays/chembl27_Ellinger_sarscov2.csv", ",")
    report = loaded.first.get("assay-ellinger")
    assert report.read == len(ell_rows) and report.details["results"] == len(ell_results) > 3000
    screening = loaded.first.get("assay-dockcov2")
    assert n == 5 * screening.details["drugs"]
    assert screening.details["drugs"] + screening.unmatched <= len(
        _tsv(mirror / "annotations/assays/dockcov2_drug_screening.tsv"))


def test_annotations_are_all_present(loaded: Loaded) -> None:
    mirror = loaded.config.mirror
    assert mirror is not None
    gsea_rows = _tsv(mirror / "annotations/gsea/dockcov2_cmap_gsea_score.tsv")
    gsea = loaded.first.get("gsea")
    assert _count(loaded, select(func.count()).select_from(GseaScore)) == 3 * (len(gsea_rows) - gsea.unmatched)
    gmt_lines = [ln for ln in (mirror / "annotations/pathways/reactome_pathways_human_2021-10.gmt").read_text()
                 .splitlines() if ln.strip()]
    assert _count(loaded, select(func.count()).select_from(Pathway)) == len(gmt_lines)
    assert _count(loaded, select(func.count()).select_from(PathwayGene)) == sum(
        len(set(ln.split("\t")[2:]) - {""}) for ln in gmt_lines)
    for model in (DrugTarget, DrugPathway, LiteratureRef, GseaScore, AssayResult):
        assert _count(loaded, select(func.count()).select_from(model)) > 0, model.__name__
    with loaded.db.session() as s:
        sources = set(s.scalars(select(LiteratureRef.source).distinct()))
        tsources = set(s.scalars(select(DrugTarget.source).distinct()))
        dp = s.scalars(select(DrugPathway).limit(50)).all()
        for row in dp:
            genes = set(s.scalars(select(DrugTarget.gene).where(DrugTarget.drug_id == row.drug_id,
                                                                 DrugTarget.source.in_(TARGET_SOURCES))))
            pgenes = set(s.scalars(select(PathwayGene.gene).where(PathwayGene.pathway_id == row.pathway_id)))
            assert set(row.overlap_genes) == genes & pgenes
            assert 0 < row.p_value <= 1 and row.p_value <= row.adj_p_value <= 1
    assert sources == {"dockcov2", "ghddi", "chengf2020"}
    assert {"drugcentral", "broad", "drugcentral-entrez"} <= tsources
    ghddi = loaded.first.get("literature-ghddi")
    lit = mirror / "annotations/literature"
    names = {r["drug"].strip().lower() for r in _tsv(lit / "ghddi_02PRECLINICAL_title_iv_drugs.csv", ",")}
    names |= {r["Drug name"].strip().lower()
              for r in _tsv(lit / "ghddi_04PRECLINICAL_final_iv_druglist20221116.csv", ",")}
    assert "papain" in ghddi.details["unmatched_names"]
    assert 0 < ghddi.unmatched == len(ghddi.details["unmatched_names"]) < len(names)
    # evidence reads as text with units, never the source's tokenised, unit-less sentences
    with loaded.db.session() as s:
        evidence = [e for e in s.scalars(select(LiteratureRef.evidence).where(LiteratureRef.source == "ghddi"))
                    if e]
    assert evidence and any("µM" in e for e in evidence)
    assert not [e for e in evidence if "{micro}" in e or " - cov - " in e or " m < " in e or " ,  " in e]


def test_approved_drugs_missing_from_drugcentral_take_a_chembl_structure(loaded: Loaded) -> None:
    """remdesivir (no DrugCentral structure) comes from the Heiser file's ChEMBL structure, approved and in
    the fda-approved library, with its Heiser result; GS-441524 (no approved drug) is a drug of its own."""
    report = loaded.first.get("drugs")
    assert report.details["fda_filled_from_chembl"] >= 20
    mirror = loaded.config.mirror
    assert mirror is not None
    structures = {r["ID"] for r in _tsv(mirror / "drugs/drugcentral_structures.smiles.tsv")}
    fda_ids = [ln.split(",", 1)[0] for ln in (mirror / "drugs/drugcentral_fda_approved.csv").read_text().splitlines()
               if ln.strip()]
    no_dc = sum(1 for sid in fda_ids if sid not in structures)
    d = report.details
    assert d["fda_without_structure"] + d["fda_filled_from_chembl"] + d["fda_filled_from_broad"] == no_dc
    with loaded.db.session() as s:
        rem = s.scalars(select(Drug).where(Drug.name_lower == "remdesivir")).one()
        gs = s.scalars(select(Drug).where(Drug.name_lower == "gs-441524")).one()
        lib = s.scalar(select(Library.id).where(Library.name == "fda-approved"))
        member = s.scalar(select(func.count()).select_from(LibraryMember)
                          .where(LibraryMember.library_id == lib, LibraryMember.drug_id == rem.id))
        heiser = s.scalars(select(AssayResult.value).join(Assay, Assay.id == AssayResult.assay_id)
                           .where(Assay.key == "heiser-rxrx19a", AssayResult.drug_id == rem.id)).all()
        gs_results = s.scalar(select(func.count()).select_from(AssayResult).where(AssayResult.drug_id == gs.id))
    assert (rem.approval_status, rem.chembl_id, rem.heavy_atoms, member) == ("FDA approved", "CHEMBL4065616", 42, 1)
    assert heiser == [0.9631]
    assert gs.chembl_id == "CHEMBL2016757" and gs.approval_status is None and gs_results


def test_home_page_examples_find_drugs(loaded: Loaded) -> None:
    """Every example the home and search pages suggest finds at least one drug in the loaded database."""
    import re

    from webapp import create_app

    app = create_app(loaded.config.with_(env="testing"))
    try:
        client = app.test_client()
        examples: list[str] = []
        for path, field in (("/", "home-search"), ("/search", "search-q")):
            html = client.get(path).get_data(as_text=True)
            placeholder = re.search(rf'id="{field}"[^>]*?placeholder="(?:Search a drug: )?([^"]+)"', html, re.S)
            assert placeholder, path
            examples += [e.strip(" …") for e in placeholder.group(1).split(",") if "InChIKey" not in e]
        assert "remdesivir" in examples and len(examples) >= 5, examples
        for q in examples:
            found = client.get("/api/v1/drugs", query_string={"q": q}).get_json()
            assert found["total"] >= 1, q
    finally:
        app.extensions["dockdb"].database.dispose()


def test_entrez_only_targets_are_mapped_so_their_pathways_count(loaded: Loaded) -> None:
    """Niclosamide's target STAT3 (Repurposing Hub) gives it Reactome pathways that contain STAT3; Entrez
    GeneIDs are stored under their DrugCentral symbol (GeneID 5743 is PTGS2, 1813 is DRD2)."""
    with loaded.db.session() as s:
        nic = s.scalar(select(Drug.id).where(Drug.name_lower == "niclosamide"))
        pathways = s.execute(select(Pathway.name, DrugPathway.overlap_genes)
                             .join(DrugPathway, DrugPathway.pathway_id == Pathway.id)
                             .where(DrugPathway.drug_id == nic)).all()
        mapped = dict(s.execute(select(DrugTarget.entrez_id, DrugTarget.gene).distinct()
                                .where(DrugTarget.source == "drugcentral-entrez",
                                       DrugTarget.entrez_id.in_([5743, 1813]))).all())
    assert pathways and all("STAT3" in genes for _, genes in pathways)
    assert mapped == {5743: "PTGS2", 1813: "DRD2"}
    assert loaded.first.get("drug-targets").details["entrez_genes_mapped"] > 100


def test_entrez_symbol_mapping_needs_shared_drugs() -> None:
    symbols = {"A": {1, 2, 3}, "B": {4, 5}, "C": {6}}
    assert entrez_symbols({10: {1, 2, 9}, 11: {4, 5, 1}, 12: {6}, 13: {1, 4, 7, 8}}, symbols) == {10: "A", 11: "B"}
    assert name_keys("REMDESIVIR (GS-5734)") == {"remdesivir (gs-5734)", "remdesivir", "gs-5734"}
