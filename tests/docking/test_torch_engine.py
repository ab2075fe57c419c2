"""Torch engine end to end on CPU: determinism, mixed small/large batches, the out-of-memory
split path, pose outputs like the vina engine, and a small redock."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from torch_inputs import prepared as _prepared  # noqa: E402

from docking.engines.torch_engine.docker import estimate_bytes, padded_size, resolve_device  # noqa: E402
from docking.engines.torch_engine.engine import TorchEngine  # noqa: E402
from docking.engines.torch_engine.pdbqt import parse_ligand_pdbqt  # noqa: E402

SMALL_BOX = ((-10.7, 12.4, 68.8), (16.0, 16.0, 16.0))
FAST = {"device": "cpu", "chains": 8, "steps": 12, "refine": 4, "n_poses": 3, "threads": 1}


@pytest.fixture(scope="module")
def box():
    from docking.pocket import Box

    return Box(*SMALL_BOX)


@pytest.fixture(scope="module")
def ligands():
    return [
        _prepared("CN1C=NC2=C1C(=O)N(C(=O)N2C)C", "caffeine"),  # rigid, 14 heavy atoms
        _prepared("CC(C)Cc1ccc(cc1)C(C)C(=O)O", "ibuprofen"),  # 5 torsions
        _prepared("CCOC(=O)C1=C(COCCN)NC(C)=C(C1c1ccccc1Cl)C(=O)OC", "amlodipine"),  # 28 heavy, 10 torsions
    ]


@pytest.fixture(scope="module")
def docked(protease_receptor, box, ligands):
    engine = TorchEngine(**FAST)
    return engine, engine.dock(protease_receptor.pdbqt, box, ligands, seed=3)


def test_registered_and_device_selection() -> None:
    from docking.engines import get_engine

    assert isinstance(get_engine("torch", device="cpu"), TorchEngine)
    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert TorchEngine(device="cpu").resource == "CPU"


def test_compiled_batches_pad_to_a_multiple_of_eight() -> None:
    # powers of two up to 8, then multiples of 8: a 20-ligand batch runs 24 slots, not 32
    assert [padded_size(n) for n in (1, 2, 3, 5, 8, 9, 16, 17, 20, 33, 64)] == [1, 2, 4, 8, 8, 16, 16, 24, 24, 40, 64]
    assert all(padded_size(n) >= n and padded_size(n) - n < 8 for n in range(1, 200))


def test_mixed_batch_outputs_like_vina(docked, ligands, protease_receptor, box) -> None:
    from docking.poses import sdf_to_mol

    engine, results = docked
    assert [r.name for r in results] == ["caffeine", "ibuprofen", "amlodipine"]
    # max_batch 0 (the default) is one CPU pass of 64 ligands: the three dock in one batch
    assert (engine.last_docker.max_batch, engine.last_docker.batches_run) == (64, [3])
    for lig, r in zip(ligands, results, strict=True):
        assert r.ok, r.error
        assert r.engine == "torch" and 1 <= len(r.poses) <= 3
        scores = [p.score for p in r.poses]
        assert scores == sorted(scores) and scores[0] < -3.0
        top = r.poses[0]
        assert set(top.terms) == {"total", "inter", "intra", "torsions", "intra_best_pose"}
        # PDBQT in the input atom order, inside the box, rescored to the reported score
        inp, out = parse_ligand_pdbqt(lig.variants[0].pdbqt), parse_ligand_pdbqt(top.pdbqt)
        assert inp.names == out.names and inp.ad_types == out.ad_types
        # heavy atoms inside Vina's grid (the box rounded up to whole 0.375 Å cells); hydrogens
        # carry no energy and no out-of-grid penalty, in Vina as here
        heavy = np.array([not t.startswith("H") for t in out.ad_types])
        assert np.all(np.abs(out.coords[heavy] - np.array(box.center)) <= np.array(box.size) / 2 + 0.19)
        assert top.pdbqt.startswith("REMARK VINA RESULT:")
        assert engine.score(protease_receptor.pdbqt, box, top.pdbqt).score == pytest.approx(top.score, abs=0.02)
        # SDF with bond orders via Meeko, same heavy-atom count as the ligand
        mol = sdf_to_mol(top.sdf)
        assert mol.GetNumHeavyAtoms() == lig.n_heavy


def test_deterministic_with_seed(docked, protease_receptor, box, ligands) -> None:
    # same inputs, same seed, same device -> identical poses (a fresh engine, maps rebuilt)
    _engine, first = docked
    again = TorchEngine(**FAST).dock(protease_receptor.pdbqt, box, ligands, seed=3)
    for a, b in zip(first, again, strict=True):
        assert [p.score for p in a.poses] == [p.score for p in b.poses]
        assert a.poses[0].pdbqt == b.poses[0].pdbqt


def test_result_does_not_depend_on_position_in_the_call(docked, protease_receptor, box, ligands) -> None:
    # a ligand's random stream is keyed by its prepared input (engine 1.7.4), not by its position
    # in the call: the three-ligand call in reverse order gives every ligand the same poses
    _engine, first = docked
    by_name = {r.name: r for r in first}
    reverse = TorchEngine(**FAST).dock(protease_receptor.pdbqt, box, ligands[::-1], seed=3)
    for r in reverse:
        assert [p.pdbqt for p in r.poses] == [p.pdbqt for p in by_name[r.name].poses]
    # and ibuprofen alone (a campaign task cut differently) draws the random numbers it drew second,
    # after caffeine: its chains' keys are the same. Its poses may still differ: eager PyTorch rounds
    # a transcendental function (pow, exp, sin) differently by tensor length, a vectorised library
    # call for whole blocks and the C library for the tail (on AVX2 a tensor of 8 values is all tail,
    # one of 16 is one block), so one ligand's 8 chains alone and two ligands' 16 round apart
    from docking.engines.torch_engine.docker import stream_key
    from docking.engines.torch_engine.topology import build_topology

    engine = TorchEngine(**FAST)
    docker = engine._docker(engine._grid(protease_receptor.pdbqt, box))
    tops = [build_topology(parse_ligand_pdbqt(lig.variants[0].pdbqt)) for lig in ligands[:2]]
    docker.streams = {lig.name: stream_key(lig.variants[0].pdbqt) for lig in ligands[:2]}
    chains = docker.budget.chains_per_ligand()
    pair = docker.setup_batch(["caffeine", "ibuprofen"], tops, 3, False).state.ch.seed
    alone = docker.setup_batch(["ibuprofen"], tops[1:], 3, False).state.ch.seed
    assert torch.equal(alone, pair[chains:]) and not torch.equal(alone, pair[:chains])


def test_result_does_not_depend_on_the_padding_of_its_batch(protease_receptor, box, ligands) -> None:
    # engine 1.12: ibuprofen beside caffeine (padded to ibuprofen's own size) and beside amlodipine
    # (padded to 10 torsions and 28 heavy atoms) gets the same poses: its search and its finish sum
    # in an order the padding does not change (ordered.py), and its refinements stop at its own cap
    engine = TorchEngine(**FAST)
    small = {r.name: r for r in engine.dock(protease_receptor.pdbqt, box, ligands[:2], seed=5)}
    large = {r.name: r for r in engine.dock(protease_receptor.pdbqt, box, ligands[1:], seed=5)}
    assert [p.pdbqt for p in small["ibuprofen"].poses] == [p.pdbqt for p in large["ibuprofen"].poses]


def test_out_of_memory_split_and_retry(protease_receptor, box, ligands) -> None:
    # a simulated device limit that fits the largest ligand's chains but no pair of ligands
    # (padded to the largest): the 3-ligand batch fails, is split, and retried until it fits
    from docking.engines.torch_engine.pdbqt import parse_ligand_pdbqt as parse
    from docking.engines.torch_engine.topology import build_topology

    tops = [build_topology(parse(lig.variants[0].pdbqt)) for lig in ligands]
    one = estimate_bytes(max(t.n_atoms for t in tops), max(len(t.pairs) for t in tops),
                         max(t.n_torsions for t in tops), FAST["chains"])
    engine = TorchEngine(**{**FAST, "max_batch": 8, "memory_limit_mb": one * 1.5 / 2**20})
    results = engine.dock(protease_receptor.pdbqt, box, ligands, seed=3)
    assert all(r.ok for r in results), [r.error for r in results]
    runs = engine.last_docker.batches_run
    assert sum(runs) == 3 and len(runs) >= 2 and runs[0] == 1  # split at least once, largest alone
    # a limit below one ligand: that ligand fails with a message, the campaign does not crash
    tiny = TorchEngine(**{**FAST, "memory_limit_mb": 0.01})
    res = tiny.dock(protease_receptor.pdbqt, box, ligands[:1], seed=3)
    assert not res[0].ok and "memory" in res[0].error
