"""bench/bench_batch_independence.py: which drugs it docks alone, and how it compares two results."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from bench.bench_batch_independence import compare, most_padded


def _top(atoms: int, torsions: int) -> SimpleNamespace:
    return SimpleNamespace(n_atoms=atoms, n_torsions=torsions)


def test_most_padded_drug_of_each_batch_of_two_or_more() -> None:
    tops = [_top(40, 9), _top(22, 3), _top(22, 2), _top(30, 5), _top(18, 1)]
    # the smallest of each batch (atoms, then torsions); a drug alone in its batch is padded by nothing
    assert most_padded(tops, [[0, 1, 2], [3], [4, 3]]) == [2, 4]


def _result(*poses: tuple[str, float]) -> SimpleNamespace:
    ps = [SimpleNamespace(pdbqt=text, score=score) for text, score in poses]
    return SimpleNamespace(poses=ps, best_score=min(p.score for p in ps))


def test_compare_asks_for_the_same_poses_to_the_last_digit() -> None:
    a = _result(("MODEL 1 x=1.000", -7.1), ("MODEL 2 x=2.000", -6.9))
    assert compare(a, _result(("MODEL 1 x=1.000", -7.1), ("MODEL 2 x=2.000", -6.9)))["identical_poses"]
    same = compare(a, _result(("MODEL 1 x=1.000", -7.1), ("MODEL 2 x=2.000", -6.9)))
    assert same["poses_differing"] == 0 and same["max_score_diff"] == 0.0
    off = compare(a, _result(("MODEL 1 x=1.000", -7.1), ("MODEL 2 x=2.001", -6.8995)))
    assert not off["identical_poses"] and off["poses_differing"] == 1 and off["best_together"] == off["best_alone"]
    assert abs(off["max_score_diff"] - 0.0005) < 1e-9
    fewer = compare(a, _result(("MODEL 1 x=1.000", -7.1)))
    assert not fewer["identical_poses"] and fewer["poses_differing"] == 1  # a pose fewer


def _workdir(tmp_path: Path) -> Path:
    """A bench work directory holding one drug prepared as ``bench_torch_engine.py prep`` writes it."""
    import json

    from docking.ligand import prepare_ligand

    smiles = "CC(C)Cc1ccc(cc1)C(C)C(=O)O"
    lig = prepare_ligand(smiles, name="ibuprofen", seed=42, max_stereoisomers=1)
    (tmp_path / "ligands.json").write_text(json.dumps({"ibuprofen": {
        "smiles": smiles, "pdbqt": lig.variants[0].pdbqt, "n_heavy": lig.n_heavy,
        "n_rotatable": lig.n_rotatable}}))
    return tmp_path


def test_unknown_drug_is_named_before_anything_is_docked(tmp_path: Path) -> None:
    import pytest

    from bench.bench_batch_independence import main

    work = _workdir(tmp_path)
    with pytest.raises(SystemExit) as exc:
        main(["--workdir", str(work), "--drugs", "ibuprofen,nosuch"])
    assert str(exc.value) == "not among the first 20 prepared drugs: nosuch; pick from ibuprofen"
    assert sorted(p.name for p in work.iterdir()) == ["ligands.json"]  # nothing docked, nothing recorded
    with pytest.raises(SystemExit, match=r"no prepared drugs in .*: run bench/bench_torch_engine\.py prep"):
        main(["--workdir", str(tmp_path / "empty"), "--drugs", "ibuprofen"])
