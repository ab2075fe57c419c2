"""PoseBusters plausibility on poses of a real (tiny) Vina campaign: flags written per pose, a pose
moved 30 Å out of the pocket and one dropped onto the protein fail the matching checks, an unreadable
pose is recorded as an error, the stored run's summary and plot, and the CLI's exit codes."""

from __future__ import annotations

import base64
import importlib.metadata

import numpy as np
import pytest
from rdkit import Chem
from sqlalchemy import func, select

from dockdb.db import Database
from dockdb.models import DockingResult, Pose, Receptor, ValidationRun
from docking.plausibility import PlausibilityChecker, check_names
from jobs.campaign import CampaignSpec, create_campaign
from jobs.run import RunOptions, run_campaign
from jobs.validation.plausibility import check_plausibility
from tests.conftest import run_cli
from tests.jobs.conftest import FAST, TEST_LIBRARY

# checks a correctly exported docked pose can never fail: they test the chemistry, not the placement
CHEMISTRY = ("mol_pred_loaded", "mol_cond_loaded", "sanitization", "all_atoms_connected", "bond_lengths",
             "aromatic_ring_flatness")


def _moved(sdf: str, shift: np.ndarray) -> str:
    mol = Chem.MolFromMolBlock(sdf, removeHs=False)
    conf = mol.GetConformer()
    for i, p in enumerate(conf.GetPositions() + shift):
        conf.SetAtomPosition(i, p.tolist())
    return Chem.MolToMolBlock(mol)


def _protein_atom(pdb: str) -> np.ndarray:
    """A CA atom with the most heavy atoms within 8 Å: deep inside the protein."""
    xyz = np.array([(float(ln[30:38]), float(ln[38:46]), float(ln[46:54])) for ln in pdb.splitlines()
                    if ln.startswith("ATOM") and ln[76:78].strip() != "H"])
    ca = np.array([(float(ln[30:38]), float(ln[38:46]), float(ln[46:54])) for ln in pdb.splitlines()
                   if ln.startswith("ATOM") and ln[12:16].strip() == "CA"])
    crowd = [(np.linalg.norm(xyz - c, axis=1) < 8.0).sum() for c in ca]
    return ca[int(np.argmax(crowd))]


def _flags(db: Database, cid: int) -> dict[int, tuple[int, bool | None, list[str] | None]]:
    with db.session() as s:
        rows = s.execute(
            select(Pose.id, Pose.rank, Pose.posebusters_pass, Pose.posebusters_failed)
            .join(DockingResult, DockingResult.id == Pose.result_id).where(DockingResult.campaign_id == cid)
        ).all()
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


@pytest.mark.slow
def test_plausibility_of_a_docked_campaign(campaign_db: Database, cli_env: dict[str, str]) -> None:
    db = campaign_db
    cid = create_campaign(db, CampaignSpec(name="pb", targets="tmprss2", library=TEST_LIBRARY, params=FAST))
    run_campaign(db, cid, RunOptions(local_workers=1, progress=False, with_interactions=False))
    before = _flags(db, cid)
    assert 2 <= len(before) <= 2 * FAST["n_poses"] and all(v[1] is None for v in before.values())

    report = check_plausibility(db, cid, progress=False, command="dockdb validate plausibility --campaign pb")
    assert (report.selected, report.checked, report.errors, report.exit_code) == (len(before), len(before), [], 0)
    flags = _flags(db, cid)
    names = set(check_names())
    # the installed PoseBusters' "dock" checks (22 in 0.6.5; pyproject allows any 0.6+): no
    # duplicates, and the ones this test and the portal rely on
    assert len(names) == len(check_names())
    assert {"sanitization", "bond_lengths", "internal_steric_clash", "protein-ligand_maximum_distance",
            "minimum_distance_to_protein", "volume_overlap_with_protein"} <= names
    for _rank, ok, failed in flags.values():
        assert ok is (failed == []) and set(failed) <= names
        assert not set(failed) & set(CHEMISTRY)
        assert "protein-ligand_maximum_distance" not in failed  # Vina keeps every pose in the pocket box
    # real docked poses pass most checks; at least one of them passes them all
    assert sum(len(f) for _, _, f in flags.values()) <= len(flags)
    assert report.passed == sum(1 for _, ok, _ in flags.values() if ok) >= 1

    with db.session() as s:
        run = s.scalar(select(ValidationRun).where(ValidationRun.id == report.run_id))
        assert (run.kind, run.label, run.engine, run.n_items) == ("plausibility", "pb", "vina", len(flags))
        assert run.summary["overall"]["n"] == len(flags) and run.summary["rank1"]["n"] == 2
        assert run.summary["overall"]["n_pass"] == report.passed
        assert set(run.summary["per_target"]) == {"tmprss2"}
        assert run.summary["per_target"]["tmprss2"]["rank1"]["n"] == 2
        assert set(run.summary["failures"]) == names and run.summary["this_run"]["errors"] == 0
        assert base64.b64decode(run.plots["failure_rate"]).startswith(b"\x89PNG")
        assert {r["pose_id"] for r in run.rows} == set(flags)
        assert run.software_versions["posebusters"] == importlib.metadata.version("posebusters")
        assert run.command == "dockdb validate plausibility --campaign pb"
        # a copy of the best pose 30 Å away, one dropped onto the protein, one unreadable
        best = s.scalar(select(Pose).join(DockingResult).where(DockingResult.campaign_id == cid, Pose.rank == 1)
                        .order_by(Pose.score))
        receptor = s.get(Receptor, best.result.receptor_id)
        lig = Chem.MolFromMolBlock(best.sdf, removeHs=False)
        centre = lig.GetConformer().GetPositions().mean(axis=0)
        far = Pose(result_id=best.result_id, rank=10, score=0.0, sdf=_moved(best.sdf, np.array([30.0, 0, 0])),
                   pdbqt="")
        inside = Pose(result_id=best.result_id, rank=11, score=0.0,
                      sdf=_moved(best.sdf, _protein_atom(receptor.pdb) - centre), pdbqt="")
        s.add_all([far, inside])
        s.flush()
        far_id, inside_id = far.id, inside.id

    # the CLI checks only the two new poses
    res = run_cli(["validate", "plausibility", "--campaign", "pb", "--quiet"], env=cli_env)
    assert res.exit_code == 0, res.stderr
    assert "2 poses checked" in res.stderr + res.stdout and "rank-1 poses" in res.stdout
    flags = _flags(db, cid)
    assert flags[far_id][1] is False and "protein-ligand_maximum_distance" in flags[far_id][2]
    assert "minimum_distance_to_protein" not in flags[far_id][2]
    assert flags[inside_id][1] is False
    assert {"minimum_distance_to_protein", "volume_overlap_with_protein"} <= set(flags[inside_id][2])
    assert "protein-ligand_maximum_distance" not in flags[inside_id][2]
    assert "protein-ligand_maximum_distance" in res.stdout

    # nothing left to check
    res = run_cli(["validate", "plausibility", "--campaign", "pb", "--quiet"], env=cli_env)
    assert res.exit_code == 3 and "nothing to check" in res.stdout

    # an unreadable pose: recorded with its id, left unchecked, exit 4
    with db.session() as s:
        broken = Pose(result_id=best.result_id, rank=12, score=0.0, sdf="not a molfile", pdbqt="")
        s.add(broken)
        s.flush()
        broken_id = broken.id
    res = run_cli(["validate", "plausibility", "--quiet"], env=cli_env)
    assert res.exit_code == 4 and f"pose {broken_id}: InputError" in res.stderr
    assert _flags(db, cid)[broken_id][1] is None

    # --recheck --limit: the first two poses again; the stored summary still covers every checked pose
    res = run_cli(["validate", "plausibility", "--recheck", "--limit", "2", "--max-rank", "3", "--quiet", "--json"],
                  env=cli_env)
    assert res.exit_code == 0, res.stderr
    assert '"label": "all"' in res.stdout and '"engine": "vina"' in res.stdout
    with db.session() as s:
        runs = s.scalars(select(ValidationRun).order_by(ValidationRun.id)).all()
        assert [r.label for r in runs] == ["pb", "pb", "all"]
        assert runs[-1].summary["this_run"]["checked"] == 2 and runs[-1].summary["overall"]["n"] == len(flags)
        assert s.scalar(select(func.count()).select_from(Pose).where(Pose.posebusters_pass.is_(None))) == 1


def test_checker_names_unreadable_receptor_and_pose() -> None:
    from dockdb.errors import InputError, ReceptorError

    with pytest.raises(ReceptorError, match="receptor PDB"):
        PlausibilityChecker("no atoms here\n")
    checker = PlausibilityChecker("ATOM      1  CA  GLY A   1       0.000   0.000   0.000  1.00  0.00           C\n")
    with pytest.raises(InputError, match="pose SDF"):
        checker.check("")
