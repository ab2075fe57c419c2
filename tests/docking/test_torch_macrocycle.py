"""Meeko flexible macrocycles in the torch engine: closure carbons (CGk) and dummies (Gk) are typed,
paired and glued as Vina 1.2.7 does, scores agree with ``Vina.score()``, and a docking closes
the ring."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from torch_inputs import prepared as _prepared  # noqa: E402

from docking.engines.torch_engine.atomtypes import XS_NAMES, glue_index  # noqa: E402
from docking.engines.torch_engine.energy import glue_energy_deriv  # noqa: E402
from docking.engines.torch_engine.pdbqt import parse_ligand_pdbqt  # noqa: E402
from docking.engines.torch_engine.topology import build_topology  # noqa: E402

OXAZEPAM = "OC1N=C(c2ccccc2)c2cc(Cl)ccc2NC1=O"  # 7-membered ring: Meeko breaks one bond (CG0/G0)
SMALL_BOX = ((-10.7, 12.4, 68.8), (16.0, 16.0, 16.0))


@pytest.fixture(scope="module")
def oxazepam():
    lig = _prepared(OXAZEPAM, "oxazepam")
    assert "CG0" in lig.variants[0].pdbqt and " G0" in lig.variants[0].pdbqt
    return lig


def test_topology_glues_the_broken_ring_as_vina(oxazepam) -> None:
    lig = parse_ligand_pdbqt(oxazepam.variants[0].pdbqt)
    top = build_topology(lig)
    cg, g = glue_index(lig.ad_types)
    carbons, dummies = np.flatnonzero(cg == 0), np.flatnonzero(g == 0)
    assert len(carbons) == 2 and len(dummies) == 2
    # closure carbons meet the receptor as carbons (polar: bonded to a dummy), dummies not at all
    assert {XS_NAMES[t] for t in top.xs[carbons]} == {"C_P"} and (top.xs[dummies] == -1).all()
    # each dummy pairs with the closure carbon it stands in for, and with nothing else
    glued = {tuple(sorted(p)) for p in top.pairs[top.pair_glue].tolist()}
    assert len(glued) == 2 and all(len({a, b} & set(carbons)) == 1 for a, b in glued)
    with_dummy = np.isin(top.pairs, dummies).any(1)
    assert (with_dummy == top.pair_glue).all()
    # the two closure carbons (bonded in the closed ring) are not an intramolecular pair
    assert not any(set(p) == set(carbons) for p in top.pairs.tolist())
    # at the prepared (closed) ring each dummy sits on its carbon: radius 0, no repulsion
    assert (top.pair_radius[top.pair_glue] == 0).all()


def test_glue_is_smooth_at_zero_and_its_derivative_is_exact() -> None:
    r = torch.tensor([0.0, 0.05, 0.1, 0.3, 1.0, 2.5], dtype=torch.float64, requires_grad=True)
    e, de = glue_energy_deriv(r)
    assert float(e[0].detach()) == 0.0 and float(de[0].detach()) == 0.0  # a well, not a cone
    (auto,) = torch.autograd.grad(e.sum(), r)
    assert torch.allclose(de, auto, atol=1e-9)
    assert torch.allclose(e[3:], 50.0 * r[3:].detach(), rtol=0.02)  # Vina's 50 x r away from zero


@pytest.fixture(scope="module")
def vina_poses(protease_receptor, oxazepam):
    import tempfile

    from vina import Vina

    from docking.poses import split_pdbqt_models

    with tempfile.NamedTemporaryFile("w", suffix=".pdbqt", delete=False) as fh:
        fh.write(protease_receptor.pdbqt)
    v = Vina(sf_name="vina", cpu=1, seed=11, verbosity=0)
    v.set_receptor(fh.name)
    v.compute_vina_maps(center=list(SMALL_BOX[0]), box_size=list(SMALL_BOX[1]))
    v.set_ligand_from_string(oxazepam.variants[0].pdbqt)
    v.dock(exhaustiveness=2, n_poses=5, min_rmsd=1.0)
    out = []
    for model in split_pdbqt_models(v.poses(n_poses=5, energy_range=10.0)):
        v.set_ligand_from_string(model)
        out.append((model, [float(x) for x in v.score()]))
    return out


def test_macrocycle_score_parity_with_vina(vina_poses, protease_receptor) -> None:
    from docking.engines.torch_engine.engine import TorchEngine
    from docking.pocket import Box

    engine = TorchEngine(device="cpu", threads=1)
    assert len(vina_poses) >= 3
    for model, vs in vina_poses:
        mine = engine.score(protease_receptor.pdbqt, Box(*SMALL_BOX), model)
        assert mine.score == pytest.approx(vs[0], abs=0.02)
        assert mine.terms["lig_inter"] == pytest.approx(vs[1], abs=0.02)
        assert mine.terms["lig_intra"] == pytest.approx(vs[5], abs=0.02)  # Vina leaves the glue out
        assert mine.terms["glue"] >= -0.1


def test_docking_a_macrocycle_closes_its_ring(protease_receptor, oxazepam) -> None:
    from docking.engines.torch_engine.engine import TorchEngine
    from docking.pocket import Box

    engine = TorchEngine(device="cpu", chains=8, steps=20, refine=4, n_poses=3, threads=1)
    (res,) = engine.dock(protease_receptor.pdbqt, Box(*SMALL_BOX), [oxazepam], seed=3)
    assert res.ok, res.error
    for pose in res.poses:
        top = build_topology(parse_ligand_pdbqt(pose.pdbqt))
        a, b = top.pairs[top.pair_glue].T
        gap = np.linalg.norm(top.pdbqt.coords[a] - top.pdbqt.coords[b], axis=1)
        assert gap.max() < 0.3, gap  # each dummy back on its closure carbon: the ring is closed
        assert pose.sdf and " G " not in pose.sdf  # the exported molecule has no dummies


CLOBAZAM = "CN1C2=CC=C(Cl)C=C2N(C2=CC=CC=C2)C(=O)CC1=O"  # its 7-ring puckers one way or the mirror way
CLOMIPRAMINE = "CN(C)CCCN1C2=CC(Cl)=CC=C2CCC2=C1C=CC=C2"  # fused rings: non-planar fixed ring dihedrals


def _ring_dihedrals(top, x: np.ndarray) -> list[float]:
    """Every endocyclic dihedral of the broken ring (closure bond restored), in degrees."""
    from docking.engines.torch_engine.ringflip import _ring_path, dihedral

    cg, g = glue_index(top.pdbqt.ad_types)
    adj: list[set[int]] = [set() for _ in range(top.n_atoms)]
    for a, b in top.bonds:
        if g[a] < 0 and g[b] < 0:
            adj[a].add(b)
            adj[b].add(a)
    a, b = (int(v) for v in np.flatnonzero(cg == 0))
    ring = _ring_path(adj, a, b)
    n = len(ring)
    return [float(np.degrees(dihedral(*(x[ring[(k + j) % n]] for j in range(4))))) for k in range(n)]


def _flip_pose(top, ligands: int = 1):
    from docking.engines.torch_engine.batch import LigandBatch
    from docking.engines.torch_engine.kinematics import forward, pose_consts

    batch = LigandBatch.build([top], dtype=torch.float64)
    c = pose_consts(batch, torch.zeros(2 * ligands, dtype=torch.long), {}, 0)
    tors = torch.zeros(2 * ligands, batch.tors_mask.shape[1], dtype=torch.float64)
    tors[1::2] = c.ring_flip[0]
    pos = torch.zeros(2 * ligands, 3, dtype=torch.float64)
    quat = torch.tensor([[1.0, 0.0, 0.0, 0.0]], dtype=torch.float64).repeat(2 * ligands, 1)
    x, _r, _o = forward(c, pos, quat, tors)
    return c, x.numpy()


@pytest.mark.parametrize("smiles", [CLOBAZAM, CLOMIPRAMINE])
def test_ring_flip_mirrors_the_ring_and_keeps_it_closed(smiles) -> None:
    top = build_topology(parse_ligand_pdbqt(_prepared(smiles, "m").variants[0].pdbqt))
    c, x = _flip_pose(top)
    ring = c.ring_tors[0] > 0
    assert bool(ring.any()) and torch.equal(c.ring_flip[0] != 0, ring)  # every ring torsion, nothing else
    a, b = top.pairs[top.pair_glue].T
    assert np.linalg.norm(x[0][a] - x[0][b], axis=1).max() < 1e-3  # as prepared: closed
    assert np.linalg.norm(x[1][a] - x[1][b], axis=1).max() < 0.2  # inverted: closed again
    before, after = np.array(_ring_dihedrals(top, x[0])), np.array(_ring_dihedrals(top, x[1]))
    puckered = np.abs(before) > 20
    assert puckered.sum() >= 3
    assert np.all(np.sign(after[puckered]) == -np.sign(before[puckered]))  # the mirror pucker
    assert np.abs(after + before).max() < 25  # each dihedral about its negative
    assert np.abs(x[1] - x[0]).max() > 1.0  # the ligand's shape changed
    # a ligand without a broken ring has nothing to flip
    plain = build_topology(parse_ligand_pdbqt(_prepared("CC(C)Cc1ccc(cc1)C(C)C(=O)O", "p").variants[0].pdbqt))
    assert not plain.ring_flip.any()


def test_flip_mutation_inverts_the_whole_ring_where_vina_would_turn_one_ring_torsion(oxazepam) -> None:
    from docking.engines.torch_engine.batch import LigandBatch
    from docking.engines.torch_engine.kinematics import pose_consts
    from docking.engines.torch_engine.moves import mutate, random_start
    from docking.engines.torch_engine.search import Chains

    top = build_topology(parse_ligand_pdbqt(oxazepam.variants[0].pdbqt))
    batch = LigandBatch.build([top], dtype=torch.float64)
    p = 256
    c = pose_consts(batch, torch.zeros(p, dtype=torch.long), {}, 0)
    gen = torch.Generator().manual_seed(1)
    tors = (torch.rand(p, c.tors_mask.shape[1], generator=gen, dtype=torch.float64) - 0.5) * c.tors_mask
    ones = torch.ones(p, dtype=torch.long)
    ch = Chains(torch.randn(p, 3, generator=gen, dtype=torch.float64),
                torch.tensor([[1.0, 0.0, 0.0, 0.0]], dtype=torch.float64).repeat(p, 1), tors,
                torch.zeros(p, dtype=torch.float64), torch.zeros(p, dtype=torch.float64), ones * 5,
                torch.arange(p, dtype=torch.long) * 7919, ones * 100, ones * 0)
    ring = c.ring_tors > 0
    vina = mutate(c, ch, 2.0)
    flip = mutate(c, ch, 2.0, flip=True)
    ring_move = ((vina[2] != ch.tors) & ring).any(-1)
    assert 10 < int(ring_move.sum()) < p - 10
    # where Vina turns one ring torsion to a random angle, every ring torsion t becomes ring_flip - t
    expect = torch.where(ring, c.ring_flip - ch.tors, ch.tors)
    assert torch.allclose(flip[2][ring_move], expect[ring_move])
    assert torch.equal(flip[0][ring_move], ch.pos[ring_move]) and torch.equal(flip[1][ring_move], ch.quat[ring_move])
    # every other mutation is Vina's
    for mine, theirs in zip(flip, vina, strict=True):
        assert torch.equal(mine[~ring_move], theirs[~ring_move])
    # random starts: about half the chains set out with the ring inverted, the others as prepared
    box = torch.zeros(3, dtype=torch.float64), torch.full((3,), 10.0, dtype=torch.float64)
    plain = random_start(c, *box, ch.seed)
    start = random_start(c, *box, ch.seed, flip=True)
    inverted = (start[2] != plain[2]).any(-1)
    assert 0.35 * p < int(inverted.sum()) < 0.65 * p
    assert torch.allclose((start[2] - plain[2])[inverted], c.ring_flip[inverted])  # the ring's torsions only
    assert torch.equal(start[0], plain[0]) and torch.equal(start[1], plain[1])
