"""A small, realistic portal dataset built with the models (no mocks), shared by the portal
tests (through tests/webapp/dataset.py, which adds the suite's mirror check) and the drills.

Eight real drugs with RDKit-computed descriptors; the SARS-CoV-2 main protease (6LU7
chain A, DockCoV2's protease.pdb) with its focused pocket; a campaign whose poses are
RDKit conformers embedded inside the pocket box, with interacting residues measured
against the real receptor atoms; DockCoV2-style reference scores on two targets; and
assay, pathway, GSEA and literature evidence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
from rdkit import Chem
from rdkit.Chem import AllChem, Crippen, Descriptors, Lipinski, rdMolDescriptors

from bench.drills._common import mirror_dir
from dockdb import models as m
from dockdb.db import Database

PROTEASE_PDB = Path("targets") / "dockcov2" / "protease.pdb"  # in the data mirror
POCKET_CENTER = (-10.7, 12.4, 68.8)
POCKET_SIZE = (20.0, 29.9, 21.3)
POCKET_RESIDUES = [
    "A:41",
    "A:49",
    "A:140",
    "A:141",
    "A:142",
    "A:143",
    "A:144",
    "A:145",
    "A:163",
    "A:164",
    "A:165",
    "A:166",
    "A:167",
    "A:168",
    "A:187",
    "A:188",
    "A:189",
    "A:190",
    "A:192",
]

# name, SMILES, PubChem CID, DrugBank, ChEMBL, approval, phase, our best score, DockCoV2 3CLpro, DockCoV2 PLpro
DRUGS: list[tuple[str, str, int, str, str, str, str, float | None, float, float]] = [
    (
        "Nafamostat",
        "NC(=N)Nc1ccc(cc1)C(=O)Oc1ccc2cc(ccc2c1)C(N)=N",
        4413,
        "DB12598",
        "CHEMBL273264",
        "approved",
        "Launched",
        -8.2,
        -8.5,
        -7.9,
    ),
    (
        "Camostat",
        "CN(C)C(=O)COC(=O)Cc1ccc(OC(=O)c2ccc(NC(N)=N)cc2)cc1",
        2536,
        "DB13729",
        "CHEMBL590799",
        "approved",
        "Launched",
        -7.6,
        -7.9,
        -7.1,
    ),
    (
        "Hydroxychloroquine",
        "CCN(CCO)CCCC(C)Nc1ccnc2cc(Cl)ccc12",
        3652,
        "DB01611",
        "CHEMBL1535",
        "approved",
        "Launched",
        -6.4,
        -6.3,
        -5.8,
    ),
    (
        "Oseltamivir",
        "CCCC(CC)O[C@@H]1C=C(C[C@@H]([C@H]1NC(C)=O)N)C(=O)OCC",
        65028,
        "DB00198",
        "CHEMBL1229",
        "approved",
        "Launched",
        -6.1,
        -6.0,
        -5.5,
    ),
    (
        "Favipiravir",
        "NC(=O)c1nc(F)c[nH]c1=O",
        492405,
        "DB12466",
        "CHEMBL2106612",
        "investigational",
        "Phase 3",
        -5.2,
        -5.3,
        -4.9,
    ),
    ("Ibuprofen", "CC(C)Cc1ccc(cc1)C(C)C(=O)O", 3672, "DB01050", "CHEMBL521", "approved", "Launched", -6.0, -6.2, -6.6),
    ("Aspirin", "CC(=O)Oc1ccccc1C(=O)O", 2244, "DB00945", "CHEMBL25", "approved", "Launched", -5.4, -5.6, -5.0),
    ("Acetaminophen", "CC(=O)Nc1ccc(O)cc1", 1983, "DB00316", "CHEMBL112", "approved", "Launched", None, -5.1, -4.8),
]
SYNONYMS = {
    "Oseltamivir": ["Tamiflu", "GS-4104"],
    "Acetaminophen": ["Paracetamol"],
    "Aspirin": ["acetylsalicylic acid"],
}
N_POSES = 3


@dataclass
class Dataset:
    drug_ids: dict[str, int] = field(default_factory=dict)
    target_keys: list[str] = field(default_factory=list)
    campaign_id: int = 0
    receptor_id: int = 0
    pose_ids: dict[str, list[int]] = field(default_factory=dict)


@lru_cache(maxsize=1)
def receptor_pdb() -> str:
    mirror = mirror_dir()
    if mirror is None:
        raise RuntimeError("no data mirror: set DOCKDB_MIRROR to a copy of the sources (or put it at ../shared/data)")
    lines = [ln for ln in (mirror / PROTEASE_PDB).read_text().splitlines()
             if ln.startswith("ATOM  ") and ln[21] == "A"]
    return "\n".join([*lines, "TER", "END"]) + "\n"


def _receptor_atoms(pdb: str) -> tuple[np.ndarray, list[tuple[str, int, str, str]]]:
    xyz, info = [], []
    for ln in pdb.splitlines():
        if ln.startswith("ATOM  "):
            xyz.append((float(ln[30:38]), float(ln[38:46]), float(ln[46:54])))
            element = (ln[76:78].strip() or ln[12:16].strip()[0]).upper()
            info.append((ln[21], int(ln[22:26]), ln[17:20], element))
    return np.array(xyz), info


def descriptors(mol: Chem.Mol) -> dict[str, float | int]:
    return {
        "mw": round(Descriptors.MolWt(mol), 2),
        "clogp": round(Crippen.MolLogP(mol), 2),
        "hbd": Lipinski.NumHDonors(mol),
        "hba": Lipinski.NumHAcceptors(mol),
        "tpsa": round(rdMolDescriptors.CalcTPSA(mol), 2),
        "rotatable_bonds": rdMolDescriptors.CalcNumRotatableBonds(mol),
        "heavy_atoms": mol.GetNumHeavyAtoms(),
    }


def docked_poses(smiles: str, seed: int, n: int = N_POSES) -> list[Chem.Mol]:
    """*n* RDKit conformers of *smiles*, each moved so its centroid lies near the pocket centre."""
    mol = Chem.AddHs(Chem.MolFromSmiles(smiles))
    conf_ids = list(AllChem.EmbedMultipleConfs(mol, numConfs=n, randomSeed=seed))
    assert len(conf_ids) == n, f"cannot embed {smiles}"
    AllChem.MMFFOptimizeMoleculeConfs(mol, maxIters=200)
    rng = np.random.default_rng(seed)
    out = []
    for k, cid in enumerate(conf_ids):
        conf = mol.GetConformer(cid)
        pos = conf.GetPositions()
        shift = np.array(POCKET_CENTER) + rng.uniform(-1.5, 1.5, 3) * (k > 0) - pos.mean(axis=0)
        single = Chem.Mol(mol)
        single.RemoveAllConformers()
        new = Chem.Conformer(mol.GetNumAtoms())
        for i, p in enumerate(pos + shift):
            new.SetAtomPosition(i, p.tolist())
        single.AddConformer(new, assignId=True)
        out.append(single)
    return out


def interactions(pose: Chem.Mol, rec_xyz: np.ndarray, rec_info: list[tuple[str, int, str, str]]) -> list[dict]:
    """Residues with an atom within 4 Å of a ligand heavy atom; polar pairs under 3.5 Å are H-bonds."""
    found: dict[tuple[str, int, str], str] = {}
    pos = pose.GetConformer().GetPositions()
    for atom in pose.GetAtoms():
        if atom.GetAtomicNum() == 1:
            continue
        d = np.linalg.norm(rec_xyz - pos[atom.GetIdx()], axis=1)
        for j in np.nonzero(d < 4.0)[0]:
            chain, num, name, element = rec_info[j]
            polar = atom.GetSymbol() in ("N", "O") and element in ("N", "O") and d[j] < 3.5
            key = (chain, num, name)
            if polar or key not in found:
                found[key] = "hbond" if polar else found.get(key, "hydrophobic")
    return [{"chain": c, "resnum": n, "resname": r, "type": t} for (c, n, r), t in sorted(found.items())]


@lru_cache(maxsize=64)
def pose_records(smiles: str, seed: int, best: float) -> tuple[tuple[float, dict, str, str, tuple], ...]:
    """(score, score_terms, sdf, pdbqt, interactions) of each pose (cached: embedding is the slow part)."""
    rec_xyz, rec_info = _receptor_atoms(receptor_pdb())
    out = []
    for rank, pose in enumerate(docked_poses(smiles, seed), start=1):
        score = round(best + 0.4 * (rank - 1), 2)
        terms = {"inter": round(score * 1.3, 2), "intra": round(-score * 0.3, 2)}
        out.append(
            (
                score,
                terms,
                Chem.MolToMolBlock(pose),
                pdbqt_of(pose, score),
                tuple(interactions(pose, rec_xyz, rec_info)),
            )
        )
    return tuple(out)


def pdbqt_of(pose: Chem.Mol, score: float) -> str:
    lines = [f"REMARK VINA RESULT: {score:9.3f}      0.000      0.000"]
    for ln in Chem.MolToPDBBlock(Chem.RemoveHs(pose)).splitlines():
        if ln.startswith(("ATOM", "HETATM")):
            lines.append(ln[:66].ljust(70) + " +0.000 " + ln[76:78].strip())
    return "\n".join(["MODEL 1", *lines, "ENDMDL"]) + "\n"


def build(db: Database) -> Dataset:
    """Fill *db* (migrated, empty) with the dataset; returns the ids the tests need."""
    ds = Dataset()
    pdb = receptor_pdb()
    with db.session() as s:
        t1 = m.Target(
            key="3clpro",
            name="3C-like protease (Mpro, nsp5)",
            organism="SARS-CoV-2",
            uniprot="P0DTD1",
            gene="ORF1ab (nsp5)",
            structure_id="6LU7",
            spec={"keep_chains": ["A"]},
            source_pdb=pdb,
        )
        t2 = m.Target(
            key="plpro",
            name="Papain-like protease (PLpro, nsp3 domain)",
            organism="SARS-CoV-2",
            uniprot="P0DTD1",
            gene="ORF1ab (nsp3)",
            structure_id="6WX4",
            spec={"keep_chains": ["D"]},
        )
        s.add_all([t1, t2])
        s.flush()
        pocket = m.Pocket(
            target_id=t1.id,
            kind="focused",
            basis="centroid of N3 (chain C) + 10 Å",
            residues=POCKET_RESIDUES,
            center_x=POCKET_CENTER[0],
            center_y=POCKET_CENTER[1],
            center_z=POCKET_CENTER[2],
            size_x=POCKET_SIZE[0],
            size_y=POCKET_SIZE[1],
            size_z=POCKET_SIZE[2],
            literature="Jin et al. Nature 2020 582:289",
        )
        s.add(pocket)
        receptor = m.Receptor(
            target_id=t1.id,
            input_hash="0" * 64,
            protocol_version="1",
            pdb=pdb,
            pdbqt=pdb,
            tool_versions={"pdbfixer": "1.9"},
        )
        s.add(receptor)
        lib = m.Library(name="demo", description="portal test drugs")
        s.add(lib)
        s.flush()
        campaign = m.Campaign(
            name="demo-3clpro",
            engine="vina",
            params={"exhaustiveness": 8},
            seed=42,
            library_id=lib.id,
            status="done",
            manifest={"targets": ["3clpro"], "seed": 42},
            manifest_hash="ab" * 32,
            software_versions={"vina": "1.2.7"},
        )
        s.add(campaign)
        s.flush()
        s.add(m.CampaignReceptor(campaign_id=campaign.id, receptor_id=receptor.id, pocket_id=pocket.id))
        assay = m.Assay(key="ncats-3clpro", name="3CLpro enzymatic inhibition", source="NCATS OpenData", units="uM")
        pathway = m.Pathway(reactome_id="R-HSA-9694516", name="SARS-CoV-2 Infection")
        s.add_all([assay, pathway])
        s.flush()
        for k, (name, smi, cid, dbid, chembl, status, phase, ours, ref1, ref2) in enumerate(DRUGS):
            mol = Chem.MolFromSmiles(smi)
            drug = m.Drug(
                name=name,
                name_lower=name.lower(),
                smiles=Chem.MolToSmiles(mol),
                inchikey=Chem.MolToInchiKey(mol),
                pubchem_cid=cid,
                drugbank_id=dbid,
                chembl_id=chembl,
                approval_status=status,
                clinical_phase=phase,
                **descriptors(mol),
            )
            s.add(drug)
            s.flush()
            ds.drug_ids[name] = drug.id
            for syn in SYNONYMS.get(name, []):
                s.add(m.DrugSynonym(drug_id=drug.id, name=syn, name_lower=syn.lower(), source="test"))
            s.add(m.DrugIdentifier(drug_id=drug.id, kind="drugbank_id", value=dbid))
            s.add(m.LibraryMember(library_id=lib.id, drug_id=drug.id, source_name=name))
            s.add(m.CampaignDrug(campaign_id=campaign.id, drug_id=drug.id))
            s.add(
                m.ReferenceScore(
                    source="dockcov2",
                    external_id=str(cid),
                    target_id=t1.id,
                    drug_id=drug.id,
                    score=ref1,
                    method="AutoDock Vina",
                )
            )
            s.add(
                m.ReferenceScore(
                    source="dockcov2",
                    external_id=str(cid),
                    target_id=t2.id,
                    drug_id=drug.id,
                    score=ref2,
                    method="AutoDock Vina",
                )
            )
            if ours is None:
                s.add(
                    m.DockingResult(
                        campaign_id=campaign.id,
                        receptor_id=receptor.id,
                        drug_id=drug.id,
                        status="failed",
                        error="ligand preparation failed",
                        ligand_smiles=smi,
                    )
                )
                continue
            result = m.DockingResult(
                campaign_id=campaign.id,
                receptor_id=receptor.id,
                drug_id=drug.id,
                status="done",
                best_score=ours,
                runtime_s=12.5,
                ligand_smiles=smi,
            )
            s.add(result)
            s.flush()
            ds.pose_ids[name] = []
            for rank, (score, terms, sdf, pdbqt, contacts) in enumerate(pose_records(smi, 100 + k, ours), start=1):
                p = m.Pose(
                    result_id=result.id,
                    rank=rank,
                    score=score,
                    score_terms=dict(terms),
                    sdf=sdf,
                    pdbqt=pdbqt,
                    interactions=[dict(c) for c in contacts],
                )
                s.add(p)
                s.flush()
                ds.pose_ids[name].append(p.id)
            active = ours <= -7.0
            s.add(
                m.AssayResult(
                    assay_id=assay.id,
                    drug_id=drug.id,
                    measure="IC50",
                    value=round(math.exp(-ours), 1),
                    units="uM",
                    active=active,
                )
            )
            if name in ("Nafamostat", "Camostat"):
                s.add(
                    m.LiteratureRef(
                        drug_id=drug.id,
                        source="pubmed",
                        ref_key=f"hoffmann2020-{k}",
                        title="SARS-CoV-2 cell entry depends on ACE2 and TMPRSS2",
                        doi="10.1016/j.cell.2020.02.052",
                        pmid="32142651",
                    )
                )
                s.add(m.DrugTarget(drug_id=drug.id, gene="TMPRSS2", source="DrugCentral", action="INHIBITOR"))
                s.add(
                    m.DrugPathway(
                        drug_id=drug.id,
                        pathway_id=pathway.id,
                        overlap_genes=["TMPRSS2"],
                        p_value=0.001,
                        adj_p_value=0.01,
                    )
                )
                s.add(
                    m.GseaScore(
                        drug_id=drug.id,
                        instance="cmap-1",
                        cell_line="MCF7",
                        dose="10 uM",
                        signature="up",
                        enrichment_score=-0.42,
                        p_value=0.003,
                    )
                )
        ds.campaign_id = campaign.id
        ds.receptor_id = receptor.id
        ds.target_keys = ["3clpro", "plpro"]
    return ds
