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
    """jobs.tasks.pose_records: a pose ProLIF cannot analyse keeps its place with the reason
    (logged and stored), the others keep their interacting residues."""
    from dataclasses import replace

    from rdkit import Chem

    from jobs.tasks import pose_records

    _engine, _lig, result = aspirin_docked
    assert len(result.poses) >= 3
    bad = result.poses[1]
    no_h = Chem.MolToMolBlock(Chem.RemoveHs(Chem.MolFromMolBlock(bad.sdf, removeHs=False)))
    poses = [result.poses[0], replace(bad, sdf=no_h), *result.poses[2:]]
    with caplog.at_level("WARNING", logger="jobs.tasks"):
        records = pose_records(replace(result, poses=poses), protease_receptor.pdb, interaction_poses=3)
    assert [r.rank for r in records] == list(range(1, len(poses) + 1))
    failed = [r for r in records if r.interactions_error]
    assert len(failed) == 1 and failed[0].score == bad.score and failed[0].interactions == []
    assert failed[0].interactions_error == ("interaction analysis failed: the pose SDF has no hydrogens; "
                                            "pass a pose SDF written by DockDB")
    assert [r.getMessage() for r in caplog.records if r.name == "jobs.tasks"] == [failed[0].interactions_error]
    others = [r for r in records[:3] if r is not failed[0]]
    assert all(r.interactions and r.interactions_error is None for r in others)
    assert all(r.interactions == [] and r.interactions_error is None for r in records[3:])  # not asked
