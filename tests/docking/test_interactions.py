from __future__ import annotations

import subprocess
import sys

import pytest

from dockdb.errors import InputError
from docking.interactions import INTERACTION_TYPES, interactions
from tests.conftest import REPO


def test_interactions_of_docked_pose(aspirin_docked, protease_receptor) -> None:
    _engine, _lig, result = aspirin_docked
    rows = interactions(protease_receptor.pdb, result.poses[0].sdf)
    assert rows
    assert all(set(r) == {"chain", "resnum", "resname", "type"} for r in rows)
    assert all(r["chain"] == "A" and r["type"] in INTERACTION_TYPES for r in rows)
    # the focused box is the substrate site: contacts are with site residues
    assert {r["resnum"] for r in rows} & {41, 49, 140, 141, 142, 143, 144, 145, 163, 164, 165, 166, 189}


def test_a_broken_residue_far_from_the_pose_does_not_stop_the_analysis(aspirin_docked, protease_receptor,
                                                                       monkeypatch) -> None:
    """Only the residues around the poses are parsed: a far residue with impossible geometry (as a
    zero-occupancy residue of RdRp 7BV2: an O 1 A from its CA, which RDKit refuses as an over-valent O)
    no longer makes every pose's analysis fail, and the contacts are those of the whole protein."""
    import numpy as np

    from docking import interactions as mod
    from docking.poses import sdf_to_mol

    _engine, _lig, result = aspirin_docked
    sdf = result.poses[0].sdf
    pose = sdf_to_mol(sdf, remove_hs=False).GetConformer().GetPositions()
    lines = protease_receptor.pdb.splitlines()
    atoms = [i for i, ln in enumerate(lines) if ln.startswith("ATOM")]
    xyz = np.array([[float(lines[i][30:38]), float(lines[i][38:46]), float(lines[i][46:54])] for i in atoms])
    far = atoms[int(np.linalg.norm(xyz[:, None] - pose[None], axis=-1).min(1).argmax())]
    res = lines[far][17:27]
    ca = next(i for i in atoms if lines[i][17:27] == res and lines[i][12:16] == " CA ")
    o = next(i for i in atoms if lines[i][17:27] == res and lines[i][12:16] == " O  ")
    x, y, z = (float(lines[ca][k:k + 8]) for k in (30, 38, 46))
    lines[o] = f"{lines[o][:30]}{x + 1.0:8.3f}{y:8.3f}{z:8.3f}{lines[o][54:]}"
    broken = "\n".join(lines) + "\n"
    with pytest.raises(InputError, match="RDKit cannot read"):
        mod._protein_mol(broken)  # the whole protein is unreadable ...
    whole = interactions(protease_receptor.pdb, sdf)
    assert whole and interactions(broken, sdf) == whole  # ... the residues around the pose are not
    monkeypatch.setattr(mod, "POCKET_CUTOFF", 1e6)  # every residue: the same contacts
    assert interactions(protease_receptor.pdb, sdf) == whole


def test_interactions_need_hydrogens(aspirin_docked, protease_pdb) -> None:
    _engine, _lig, result = aspirin_docked
    no_h = "\n".join(ln for ln in protease_pdb.splitlines() if ln.startswith("ATOM"))
    with pytest.raises(InputError, match="hydrogens"):
        interactions(no_h, result.poses[0].sdf)


def test_no_mdanalysis_deprecation_flood() -> None:
    """MDAnalysis installs its own 'once' filter for its DeprecationWarnings at import, past any 'ignore' a
    program sets first; computing interactions in a fresh process prints nothing."""
    code = ("import warnings; warnings.filterwarnings('ignore', category=DeprecationWarning)\n"
            "from docking.interactions import interactions_many\n"
            "assert interactions_many('', []) == []\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert r.returncode == 0, r.stderr
    assert "Warning" not in r.stderr, r.stderr


def test_a_failed_analysis_is_recorded_on_its_pose_only(aspirin_docked, protease_receptor, caplog) -> None:
    """jobs.tasks.pose_rows: a pose ProLIF cannot analyse keeps its place with the reason
    (logged and stored), the others keep their interacting residues."""
    from dataclasses import replace

    from rdkit import Chem

    from jobs.tasks import pose_rows

    _engine, _lig, result = aspirin_docked
    assert len(result.poses) >= 3
    bad = result.poses[1]
    no_h = Chem.MolToMolBlock(Chem.RemoveHs(Chem.MolFromMolBlock(bad.sdf, removeHs=False)))
    poses = [result.poses[0], replace(bad, sdf=no_h), *result.poses[2:]]
    import jobs.tasks

    jobs.tasks._WARNED.clear()  # a reason is logged once per process
    with caplog.at_level("WARNING", logger="jobs.tasks"):
        records = pose_rows(replace(result, poses=poses), protease_receptor.pdb, interaction_poses=3)
        again = pose_rows(replace(result, poses=poses), protease_receptor.pdb, interaction_poses=3)
    assert [r.rank for r in records] == list(range(1, len(poses) + 1))
    failed = [r for r in records if r.interactions_error]
    assert len(failed) == 1 and failed[0].score == bad.score and failed[0].interactions == []
    assert failed[0].interactions_error == ("interaction analysis failed: the pose SDF has no hydrogens; "
                                            "pass a pose SDF written by DockDB")
    # logged once, though both calls met it; stored on the pose both times
    assert [r.getMessage() for r in caplog.records if r.name == "jobs.tasks"] == [
        f"{failed[0].interactions_error} (stored on each pose it affects; later repeats are not logged)"]
    assert [r.interactions_error for r in again] == [r.interactions_error for r in records]
    others = [r for r in records[:3] if r is not failed[0]]
    assert all(r.interactions and r.interactions_error is None for r in others)
    assert all(r.interactions == [] and r.interactions_error is None for r in records[3:])  # not asked


def test_orient_polar_hydrogens_turns_oh_to_its_best_hydrogen_bond() -> None:
    """The hydroxyl H turns about the C-O bond to the best donor-H-acceptor angle it can reach;
    bond lengths, the C-O-H angle and every other atom stay; no acceptor in reach, no change."""
    import numpy as np
    from rdkit import Chem
    from rdkit.Chem import AllChem

    from docking.interactions import _best_dha, orient_polar_hydrogens

    mol = Chem.AddHs(Chem.MolFromSmiles("CO"))
    AllChem.EmbedMolecule(mol, randomSeed=3)
    o = next(a for a in mol.GetAtoms() if a.GetSymbol() == "O")
    h = next(n.GetIdx() for n in o.GetNeighbors() if n.GetAtomicNum() == 1)
    c = next(n.GetIdx() for n in o.GetNeighbors() if n.GetSymbol() == "C")
    before = mol.GetConformer().GetPositions()
    d, x = before[o.GetIdx()], before[c]
    # an acceptor 2.8 A from O, on the far side of the C-O axis from the current H
    axis = (d - x) / np.linalg.norm(d - x)
    away = before[h] - d - axis * np.dot(before[h] - d, axis)
    acceptor = d + 2.8 * (0.34 * axis - 0.94 * away / np.linalg.norm(away))
    start = _best_dha(d, before[h], acceptor[None])

    assert orient_polar_hydrogens(Chem.Mol(mol), np.zeros((0, 3))) == 0
    assert orient_polar_hydrogens(mol, acceptor[None]) == 1
    after = mol.GetConformer().GetPositions()
    others = [i for i in range(mol.GetNumAtoms()) if i != h]
    assert after[others] == pytest.approx(before[others])
    assert np.linalg.norm(after[h] - d) == pytest.approx(np.linalg.norm(before[h] - d))
    cos = lambda p: np.dot(p - d, x - d) / np.linalg.norm(p - d) / np.linalg.norm(x - d)  # noqa: E731
    assert cos(after[h]) == pytest.approx(cos(before[h]))
    reached = _best_dha(d, after[h], acceptor[None])
    assert start < 130 < reached  # from no hydrogen bond (ProLIF needs >= 130 degrees) to one
