"""Torch engine foundations: PDBQT torsion tree, XS typing, pose model, grid maps, and
score / local-optimisation parity with ``vina.Vina`` on the same poses."""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from docking.engines.torch_engine.atomtypes import XS_NAMES, bonds_from_distance, xs_types  # noqa: E402
from docking.engines.torch_engine.batch import LigandBatch  # noqa: E402
from docking.engines.torch_engine.kinematics import forward, pose_consts  # noqa: E402
from docking.engines.torch_engine.pdbqt import parse_ligand_pdbqt  # noqa: E402
from docking.engines.torch_engine.topology import build_topology  # noqa: E402

IBUPROFEN = "CC(C)Cc1ccc(cc1)C(C)C(=O)O"
PARACETAMOL = "CC(=O)Nc1ccc(O)cc1"
SMALL_BOX = ((-10.7, 12.4, 68.8), (16.0, 16.0, 16.0))  # inside the focused 3CLpro box


def _ligand_pdbqt(smiles: str) -> str:
    """Meeko PDBQT of the neutral molecule as written (no protonation-state changes)."""
    from meeko import MoleculePreparation, PDBQTWriterLegacy
    from rdkit import Chem
    from rdkit.Chem import AllChem

    mol = Chem.AddHs(Chem.MolFromSmiles(smiles))
    AllChem.EmbedMolecule(mol, randomSeed=42)
    AllChem.MMFFOptimizeMolecule(mol)
    text, ok, err = PDBQTWriterLegacy.write_string(MoleculePreparation().prepare(mol)[0])
    assert ok, err
    return text


def _models(pdbqt: str) -> list[str]:
    from docking.poses import split_pdbqt_models

    return split_pdbqt_models(pdbqt)


def test_torsion_tree_and_rotor_count() -> None:
    lig = parse_ligand_pdbqt(_ligand_pdbqt(IBUPROFEN))
    top = build_topology(lig)
    assert lig.torsdof == 5
    assert lig.n_torsions == 5
    assert lig.parent[0] == -1 and all(0 <= p < b for b, p in enumerate(lig.parent) if b)
    # four heavy-heavy rotors count 1 each, the carboxylic O-H rotor 0.5 (Vina's N_rot = 4.5)
    assert top.num_tors == 4.5
    assert top.n_heavy == 15
    para = build_topology(parse_ligand_pdbqt(_ligand_pdbqt(PARACETAMOL)))
    # ring-N rotor counts 1, the phenol O-H rotor 0.5 (Vina's N_rot); the amide is rigid
    assert para.n_torsions == 2
    assert para.num_tors == 1.5


def test_xs_typing_paracetamol() -> None:
    lig = parse_ligand_pdbqt(_ligand_pdbqt(PARACETAMOL))
    xs = xs_types(lig.ad_types, bonds_from_distance(lig.coords, lig.ad_types))
    names = sorted(XS_NAMES[t] for t in xs if t >= 0)
    # amide N-H donor, phenol O-H donor+acceptor, carbonyl O acceptor, C bonded to N/O polar
    assert names.count("N_D") == 1
    assert names.count("O_DA") == 1
    assert names.count("O_A") == 1
    assert names.count("C_P") == 3  # C(=O), C-N ring carbon, C-O ring carbon
    assert names.count("C_H") == 5  # methyl + 4 ring CH


def test_pose_model_reproduces_input_and_keeps_bond_lengths() -> None:
    tops = [build_topology(parse_ligand_pdbqt(_ligand_pdbqt(s))) for s in (IBUPROFEN, PARACETAMOL)]
    batch = LigandBatch.build(tops, dtype=torch.float64)
    lig = torch.tensor([0, 0, 1])
    ctx = pose_consts(batch, lig, {}, 1)
    t_n = batch.n_torsions_max
    pos = batch.init_origin[lig]
    ident = torch.tensor([[1.0, 0.0, 0.0, 0.0]], dtype=torch.float64).expand(3, 4)
    x0 = forward(ctx, pos, ident, torch.zeros(3, t_n, dtype=torch.float64))[0]
    for k, i in enumerate(lig.tolist()):
        n = tops[i].n_atoms
        assert torch.allclose(x0[k, :n], torch.as_tensor(tops[i].pdbqt.coords), atol=1e-9)
    gen = torch.Generator().manual_seed(3)
    q = torch.randn(3, 4, generator=gen, dtype=torch.float64)
    tors = torch.rand(3, t_n, generator=gen, dtype=torch.float64) * 6
    x = forward(ctx, pos + 5.0, q / q.norm(dim=-1, keepdim=True), tors)[0]
    for k, i in enumerate(lig.tolist()):
        for a, b in tops[i].bonds:
            d0 = np.linalg.norm(tops[i].pdbqt.coords[a] - tops[i].pdbqt.coords[b])
            assert math.isclose(float((x[k, a] - x[k, b]).norm()), d0, abs_tol=1e-9)


@pytest.fixture(scope="module")
def vina_poses(protease_receptor):
    """Vina (exh 1) poses of two ligands in a small 3CLpro box, with Vina's score of each."""
    import tempfile

    from vina import Vina

    with tempfile.NamedTemporaryFile("w", suffix=".pdbqt", delete=False) as fh:
        fh.write(protease_receptor.pdbqt)
    v = Vina(sf_name="vina", cpu=1, seed=11, verbosity=0)
    v.set_receptor(fh.name)
    v.compute_vina_maps(center=list(SMALL_BOX[0]), box_size=list(SMALL_BOX[1]))
    out = []
    for smi in (IBUPROFEN, PARACETAMOL):
        v.set_ligand_from_string(_ligand_pdbqt(smi))
        v.dock(exhaustiveness=2, n_poses=6, min_rmsd=1.0)
        for model in _models(v.poses(n_poses=6, energy_range=10.0)):
            v.set_ligand_from_string(model)
            out.append((model, [float(x) for x in v.score()]))
    return v, out


@pytest.fixture(scope="module")
def torch_engine():
    import os

    from docking.engines.torch_engine.engine import TorchEngine

    return TorchEngine(device=os.environ.get("DOCKDB_TORCH_DEVICE", "cpu"), threads=1)


def test_score_parity_with_vina(vina_poses, torch_engine, protease_receptor) -> None:
    from docking.pocket import Box

    _v, poses = vina_poses
    # how many distinct poses Vina keeps depends on the prepared receptor's last digits; a few suffice
    assert len(poses) >= 4
    box = Box(*SMALL_BOX)
    diffs = []
    for model, vs in poses:
        mine = torch_engine.score(protease_receptor.pdbqt, box, model)
        diffs.append(abs(mine.score - vs[0]))
        assert mine.terms["lig_inter"] == pytest.approx(vs[1], abs=0.02)
        assert mine.terms["lig_intra"] == pytest.approx(vs[5], abs=0.02)
    assert max(diffs) < 0.03
    assert float(np.mean(diffs)) < 0.01


def test_local_optimisation_parity_with_vina(vina_poses, torch_engine, protease_receptor) -> None:
    from docking.pocket import Box

    v, poses = vina_poses
    box = Box(*SMALL_BOX)
    rng = np.random.default_rng(5)
    deltas = []
    for model, _vs in poses[:6]:
        shift = rng.normal(size=3)
        shift = 0.3 * shift / np.linalg.norm(shift)
        lines = []
        for ln in model.splitlines():
            if ln.startswith(("ATOM", "HETATM")):
                x = np.array([float(ln[30:38]), float(ln[38:46]), float(ln[46:54])]) + shift
                ln = f"{ln[:30]}{x[0]:8.3f}{x[1]:8.3f}{x[2]:8.3f}{ln[54:]}"
            lines.append(ln)
        start = "\n".join(lines) + "\n"
        v.set_ligand_from_string(start)
        before = float(v.score()[0])
        vina_opt = float(v.optimize()[0])
        mine, model_out = torch_engine.optimize(protease_receptor.pdbqt, box, start)
        assert mine.score < before  # it optimised
        # the returned PDBQT scores the same with Vina (coordinates written in input atom order)
        v.set_ligand_from_string(model_out)
        assert float(v.score()[0]) == pytest.approx(mine.score, abs=0.03)
        deltas.append(mine.score - vina_opt)
    assert float(np.mean(np.abs(deltas))) < 0.2


def test_three_membered_ring_pairs_like_vina(vina_poses, torch_engine, protease_receptor) -> None:
    """Vina drops the longest side of a three-membered ring from its bond graph (a third atom
    lies "between" its ends), which adds intramolecular pairs across the cyclopropyl of
    abacavir.  Our intramolecular term must match Vina's on clashing conformations too."""
    from docking.engines.torch_engine.pdbqt import format_single_pose
    from docking.engines.torch_engine.rescore import pose_state
    from docking.pocket import Box

    v, _poses = vina_poses
    text = _ligand_pdbqt("Nc1nc(NC2CC2)c2ncn([C@@H]3C=C[C@H](CO)C3)c2n1")
    lig = parse_ligand_pdbqt(text)
    top, (_pos, quat0, tors0) = pose_state(lig, torch.device("cpu"), torch.float64)
    ctx = pose_consts(LigandBatch.build([top], dtype=torch.float64), torch.zeros(1, dtype=torch.long), {}, 1)
    gen = torch.Generator().manual_seed(0)
    box = Box(*SMALL_BOX)
    centre = torch.tensor([SMALL_BOX[0]], dtype=torch.float64)  # inside Vina's grid
    diffs = []
    for _ in range(40):  # random torsions: many poses fold the ring system onto the cyclopropyl
        tors = tors0 + (torch.rand(tors0.shape, generator=gen, dtype=torch.float64) * 2 - 1) * math.pi
        x = forward(ctx, centre, quat0, tors)[0][0].numpy()
        model = format_single_pose(lig, x, 0.0)
        v.set_ligand_from_string(model)
        try:
            vina_intra = float(v.score()[5])
        except RuntimeError:  # an extended conformation reaches out of Vina's grid: skip it
            continue
        mine = torch_engine.score(protease_receptor.pdbqt, box, model)
        diffs.append(abs(mine.terms["lig_intra"] - vina_intra))
    # Vina's intramolecular energies come from interpolated tables: agreement to ~0.02, where a
    # missed pair costs up to ~0.7 kcal/mol on these conformations
    assert len(diffs) >= 10
    assert max(diffs) < 0.05, diffs
