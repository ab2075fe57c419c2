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
