from __future__ import annotations

import math

import numpy as np
import pytest
from rdkit import Chem

from dockdb.errors import EngineError
from docking.engines import EnginePose, LigandDockResult, available_engines, get_engine
from docking.ligand import prepare_ligand
from docking.poses import complex_pdb, pdbqt_to_mols


def test_registry_lists_vina_and_rejects_unknown() -> None:
    assert {"vina", "vinardo"} <= set(available_engines())
    with pytest.raises(EngineError, match=r"choose one of: .*vina"):
        get_engine("glide")
    with pytest.raises(EngineError) as err:
        get_engine("vina", sf_name="ad5")
    assert str(err.value) == "bad vina engine parameters: sf_name must be one of vina, vinardo, not 'ad5'"
    engine = get_engine("vinardo", exhaustiveness=3)
    assert engine.params["sf_name"] == "vinardo" and engine.params["exhaustiveness"] == 3
    assert engine.version.startswith("1.2")


@pytest.mark.parametrize("engine", ["vina", "torch"])
def test_engines_share_one_parameter_check(engine: str) -> None:
    """Both engines bound the shared search parameters the same way and list every violation in one line."""
    from docking.engines.torch_engine.engine import TorchEngine  # torch is imported only when docking
    from docking.engines.vina_engine import VinaEngine

    cls = {"vina": VinaEngine, "torch": TorchEngine}[engine]
    with pytest.raises(EngineError) as err:
        cls(exhaustiveness=0, n_poses=0, energy_range=-1.0, min_rmsd=-0.5, spacing=0.0)
    assert str(err.value) == (
        f"bad {engine} engine parameters: exhaustiveness must be >= 1, not 0; n_poses must be >= 1, not 0; "
        "energy_range must be >= 0, not -1.0; min_rmsd must be >= 0, not -0.5; spacing must be > 0, not 0.0"
    )
    with pytest.raises(EngineError, match=r"exhaustiveness must be a number, not 'many'"):
        cls(exhaustiveness="many")
    assert cls(exhaustiveness=1, n_poses=1, energy_range=0.0, min_rmsd=0.0, spacing=0.2).params["n_poses"] == 1


def test_torch_engine_parameter_errors_in_one_line() -> None:
    from docking.engines.torch_engine.engine import TorchEngine

    with pytest.raises(EngineError) as err:
        TorchEngine(mode="bogus", compile="maybe", chains=-1, starts=-1, polish=-2, store=0, memory_limit_mb=0,
                    temperature=0, ladder=0, ladder_top=-1)
    assert str(err.value) == (
        "bad torch engine parameters: mode must be one of fast, balanced, detail, not 'bogus'; "
        "compile must be one of auto, on, off, not 'maybe'; chains must be >= 0, not -1; "
        "starts must be >= 0, not -1; polish must be >= 0, not -2; store must be >= 1, not 0; "
        "ladder must be >= 1, not 0; memory_limit_mb must be > 0, not 0; temperature must be > 0, not 0; "
        "ladder_top must be > 0, not -1"
    )
    with pytest.raises(EngineError, match=r"^bad torch engine parameters: tempering ladder 2 does not divide the 9 "):
        TorchEngine(mode="balanced", chains=9, ladder=2)
    assert TorchEngine(mode="fast", ladder=4).params["ladder"] == 4
    # a mode's chains (scaled by an exhaustiveness) are rounded up to whole ladders
    assert TorchEngine(mode="fast", ladder=4, exhaustiveness=10)._budget().chains_per_ligand() == 12
    assert TorchEngine(mode="balanced", ladder=5)._budget().chains_per_ligand() == 65
    assert TorchEngine(exhaustiveness=None, memory_limit_mb=None).params["exhaustiveness"] is None


def test_torch_fraction_sets_the_share_of_vinas_steps() -> None:
    from dataclasses import replace

    from docking.engines.torch_engine.engine import TorchEngine
    from docking.engines.torch_engine.modes import MODES, steps_for

    class Top:  # what Budget.steps_of reads of a ligand topology
        n_atoms, n_torsions = 30, 6

    fast = TorchEngine(mode="fast")
    assert fast._budget().steps_of(Top) == steps_for(MODES["fast"], 8, 30, 6)
    # engine 1.15's fast: 4 % of Vina exhaustiveness 8's steps, local optimisations run to their cap
    old = TorchEngine(mode="fast", fraction=0.04, stall=0)
    assert old._budget().steps_of(Top) == steps_for(replace(MODES["fast"], fraction=0.04), 8, 30, 6)
    assert old._budget().steps_of(Top) > fast._budget().steps_of(Top)
    assert old._docker(None).params.stall == 0.0
    with pytest.raises(EngineError, match=r"^bad torch engine parameters: fraction must be >= 0, not -0.1$"):
        TorchEngine(fraction=-0.1)


def test_torch_random_starts_default_to_the_mode_and_leave_short_chains_moves() -> None:
    from docking.engines.torch_engine.engine import TorchEngine
    from docking.engines.torch_engine.modes import MODES

    for mode in MODES:
        assert TorchEngine(mode=mode).params["starts"] == MODES[mode].starts
        assert TorchEngine(mode=mode)._starts() == MODES[mode].starts
    assert TorchEngine(starts=32)._starts() == 32
    # an explicit budget of 40 steps per chain: at most 10 of them draw random poses
    assert TorchEngine(starts=32, steps=40)._starts() == 10
    assert TorchEngine(starts=3, steps=40)._starts() == 3


def test_torch_polish_defaults_to_the_mode_and_reaches_the_search_params() -> None:
    from docking.engines.torch_engine.engine import TorchEngine
    from docking.engines.torch_engine.modes import MODES

    assert MODES["balanced"].polish > 0 and MODES["fast"].polish == 0
    for mode in MODES:
        assert TorchEngine(mode=mode).params["polish"] == MODES[mode].polish
    eng = TorchEngine(polish=0)
    assert eng._docker(None).params.polish_rounds == 0
    eng = TorchEngine(mode="balanced")
    assert eng._docker(None).params.polish_rounds == MODES["balanced"].polish


def test_torch_rotamer_sweep_is_off_by_default_and_reaches_the_search_params() -> None:
    from docking.engines.torch_engine.engine import TorchEngine
    from docking.engines.torch_engine.modes import MODES

    for mode in MODES:
        assert TorchEngine(mode=mode).params["rotamers"] == MODES[mode].rotamers == 0
    assert TorchEngine(rotamers=2)._docker(None).params.rotamer_poses == 2
    assert TorchEngine()._docker(None).params.rotamer_poses == 0
    with pytest.raises(EngineError, match=r"^bad torch engine parameters: rotamers must be >= 0, not -1$"):
        TorchEngine(rotamers=-1)


def test_torch_line_search_settings_reach_the_search_and_are_checked() -> None:
    from docking.engines.torch_engine.engine import TorchEngine

    params = TorchEngine()._docker(None).params
    assert params.first_step == math.inf and params.min_step == 0.0 and not params.interpolate  # Vina's line search
    # balanced (since engine 1.11) and fast (since 1.16) end stalled local optimisations; detail runs Vina's
    # BFGS to its cap
    assert params.stall == 0.03
    assert TorchEngine(mode="fast")._docker(None).params.stall == 0.03
    assert TorchEngine(mode="detail")._docker(None).params.stall == 0.0
    params = TorchEngine(first_step=1.0, min_step=0.003, backtrack="interpolate", stall=0.1)._docker(None).params
    assert (params.first_step, params.min_step, params.interpolate, params.stall) == (1.0, 0.003, True, 0.1)
    assert TorchEngine(stall=0)._docker(None).params.stall == 0.0  # asked for, Vina's BFGS in balanced too
    assert TorchEngine()._docker(None).params.stall_after == 0  # the stall rule from the second accepted step
    assert TorchEngine(stall_after=6)._docker(None).params.stall_after == 6
    with pytest.raises(EngineError) as err:
        TorchEngine(first_step=-1, min_step=float("nan"), backtrack="cubic", stall=-0.1, stall_after=-2)
    assert str(err.value) == (
        "bad torch engine parameters: backtrack must be one of halve, interpolate, not 'cubic'; "
        "first_step must be >= 0, not -1; min_step must be a number, not nan; stall must be >= 0, not -0.1; "
        "stall_after must be >= 0, not -2"
    )


def test_engine_1_10_balanced_is_rerun_by_stall_0_at_exhaustiveness_6() -> None:
    """docs/validation.md tells how to rerun a campaign of engine 1.10's ``balanced`` (48 chains, 24 % of
    Vina's steps, Vina's BFGS): ``--param stall=0 --exhaustiveness 6`` gives that search's budget."""
    from types import SimpleNamespace

    from docking.engines.torch_engine.engine import TorchEngine
    from docking.engines.torch_engine.modes import Mode, steps_for

    old = Mode(chains=48, fraction=0.24, refine=24, polish=6, ladder=2)  # engine 1.10's balanced
    eng = TorchEngine(stall=0, exhaustiveness=6)
    budget, params = eng._budget(), eng._docker(None).params
    assert budget.chains_per_ligand() == old.chains
    for atoms in range(8, 90, 3):
        for torsions in range(0, 25):
            top = SimpleNamespace(n_atoms=atoms, n_torsions=torsions)
            assert budget.steps_of(top) == steps_for(old, old.chains, atoms, torsions), (atoms, torsions)
    assert (params.stall, params.ladder, params.polish_rounds, params.refine_candidates) == (0.0, 2, 6, 24)


def test_torch_temperature_is_vinas_unless_asked_and_reaches_the_search_params() -> None:
    from docking.engines.torch_engine.engine import TorchEngine
    from docking.engines.torch_engine.modes import MODES

    for mode in MODES:
        params = TorchEngine(mode=mode)._docker(None).params
        assert params.temperature == params.final_temperature == 1.2  # Vina's constant temperature
    # chains start at 2.4 and cool to Vina's 1.2 by their end
    params = TorchEngine(temperature=2.4)._docker(None).params
    assert (params.temperature, params.final_temperature) == (2.4, 1.2)
    # each mode's tempering ladder unless asked; asked, its ladder reaches the search
    for mode in MODES:
        assert TorchEngine(mode=mode)._docker(None).params.ladder == MODES[mode].ladder
    params = TorchEngine(ladder=4, ladder_top=3.0)._docker(None).params
    assert (params.ladder, params.ladder_top) == (4, 3.0)


def test_dock_gives_negative_scores(aspirin_docked) -> None:
    _engine, _lig, result = aspirin_docked
    assert result.ok, result.error
    scores = [p.score for p in result.poses]
    assert scores == sorted(scores)
    assert scores[0] < -3.0
    assert [p.rank for p in result.poses] == list(range(1, len(scores) + 1))
    top = result.poses[0]
    assert set(top.terms) >= {"total", "inter", "intra", "torsions"}
    assert top.terms["total"] == top.score
    assert result.runtime_s > 0


def test_same_seed_same_scores(aspirin_docked, protease_receptor, protease_box) -> None:
    engine, lig, first = aspirin_docked
    again = engine.dock(protease_receptor.pdbqt, protease_box, [lig], seed=7)[0]
    assert [p.score for p in again.poses] == [p.score for p in first.poses]


def test_sdf_keeps_bond_orders(aspirin_docked) -> None:
    _engine, lig, result = aspirin_docked
    mol = Chem.MolFromMolBlock(result.poses[0].sdf.split("$$$$")[0], removeHs=False)
    assert mol is not None
    assert mol.GetNumHeavyAtoms() == 13
    ref = Chem.MolFromSmiles(lig.variants[0].smiles)
    assert Chem.MolToSmiles(Chem.RemoveHs(mol)) == Chem.MolToSmiles(ref)
    n_double = sum(1 for b in Chem.RemoveHs(mol).GetBonds() if b.GetBondType() == Chem.BondType.DOUBLE)
    n_arom = sum(1 for b in Chem.RemoveHs(mol).GetBonds() if b.GetIsAromatic())
    assert (n_double, n_arom) == (2, 6)
    assert any(a.GetAtomicNum() == 1 for a in mol.GetAtoms())
    assert len(pdbqt_to_mols(result.poses[0].pdbqt)) == 1


def test_score_matches_docking_score(aspirin_docked, protease_receptor, protease_box) -> None:
    engine, _lig, result = aspirin_docked
    top = result.poses[0]
    scored = engine.score(protease_receptor.pdbqt, protease_box, top.pdbqt)
    # in place: only the PDBQT's 3-decimal coordinates differ from the docked pose (measured 0.002;
    # the next poses differ from the top one's score by 0.02-0.07)
    assert scored.score == pytest.approx(top.score, abs=0.01)
    assert scored.terms["lig_intra"] == scored.terms["lig_intra_best_pose"]  # one pose: its own reference


def test_bad_ligand_does_not_stop_batch(aspirin_docked, protease_receptor, protease_box) -> None:
    _engine, lig, _ = aspirin_docked
    broken = type(lig)(
        name="broken", input_smiles="x", smiles="x", variants=(type(lig.variants[0])(
            smiles="x", pdbqt="ROOT\nENDROOT\nTORSDOF 0\n", molblock="", formal_charge=0, n_heavy=0),),
        n_heavy=0, n_rotatable=0, input_hash="0",
    )
    small = prepare_ligand("CCO", name="ethanol")
    results = get_engine("vina", exhaustiveness=1, n_poses=2, cpu=2).dock(
        protease_receptor.pdbqt, protease_box, [broken, small], seed=1)
    assert [r.name for r in results] == ["broken", "ethanol"]
    assert not results[0].ok and results[0].error
    assert results[1].ok and results[1].best_score < 0


def test_complex_pdb_has_ligand(aspirin_docked, protease_receptor) -> None:
    _engine, _lig, result = aspirin_docked
    text = complex_pdb(protease_receptor.pdb, result.poses[0].sdf)
    lig_lines = [ln for ln in text.splitlines() if ln.startswith("HETATM") and ln[17:20] == "LIG"]
    pose = Chem.MolFromMolBlock(result.poses[0].sdf, removeHs=False)
    assert len(lig_lines) == pose.GetNumAtoms()
    # the receptor's atoms unchanged and in order, then the pose's atoms, element and position each
    receptor_atoms = [ln for ln in protease_receptor.pdb.splitlines() if ln.startswith(("ATOM", "HETATM"))]
    atoms = [ln for ln in text.splitlines() if ln.startswith(("ATOM", "HETATM"))]
    assert atoms[: len(receptor_atoms)] == receptor_atoms and atoms[len(receptor_atoms):] == lig_lines
    assert [ln[76:78].strip() for ln in lig_lines] == [a.GetSymbol().upper() for a in pose.GetAtoms()]
    xyz = np.array([[float(ln[30:38]), float(ln[38:46]), float(ln[46:54])] for ln in lig_lines])
    assert xyz == pytest.approx(pose.GetConformer().GetPositions(), abs=1e-3)
    assert len({int(ln[6:11]) for ln in atoms}) == len(atoms)  # serials unique
    back = Chem.MolFromPDBBlock(text, removeHs=False, sanitize=False)
    assert back is not None and back.GetNumAtoms() == len(atoms)


def test_best_score_is_the_lowest_pose_score_whatever_their_order() -> None:
    """``best_score`` is the minimum over the poses (as stored in ``DockingResult``), not the first pose's."""
    poses = [EnginePose(rank=i, score=score, terms={}, pdbqt="", sdf="", variant_smiles="C")
             for i, score in enumerate([-5.1, -7.3, -6.0], start=1)]
    assert LigandDockResult(name="x", input_hash="0", poses=poses).best_score == -7.3
    assert LigandDockResult(name="x", input_hash="0", error="boom").best_score is None


def test_param_values_read_like_the_cli_writes_them() -> None:
    from docking.engines.params import param_value

    assert param_value("64") == 64 and isinstance(param_value("64"), int)
    assert param_value("0.5") == 0.5
    assert param_value("True") is True and param_value("false") is False
    assert param_value(" detail ") == "detail"
