"""The finish's choice of stored minima: distinct poses first, so that chains that all found the
same minimum do not crowd every other pose out of the refinement (and out of the final poses)."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from docking.engines.torch_engine.finish import _distinct_best  # noqa: E402


def test_copies_of_one_minimum_do_not_crowd_out_distinct_poses() -> None:
    g = torch.Generator().manual_seed(0)
    atoms = 6
    base = torch.randn(atoms, 3, generator=g, dtype=torch.float64) * 2
    # ligand 0: 12 near-copies of the best pose (about 0.1 A apart), then 4 distinct poses, worse
    copies = base + 0.05 * torch.randn(12, atoms, 3, generator=g, dtype=torch.float64)
    others = base + torch.arange(1, 5, dtype=torch.float64)[:, None, None] * 3.0
    x0 = torch.cat([copies, others])
    e0 = torch.cat([torch.linspace(-10.0, -9.0, 12, dtype=torch.float64), torch.tensor([-5.0, -4.0, -3.0, -2.0],
                                                                                          dtype=torch.float64)])
    # ligand 1: all distinct, so the choice is simply the best
    x1 = base + torch.arange(16, dtype=torch.float64)[:, None, None] * 3.0
    e1 = torch.linspace(-8.0, -1.0, 16, dtype=torch.float64).flip(0)
    x, e = torch.stack([x0, x1]), torch.stack([e0, e1])
    heavy = torch.ones(2, atoms, dtype=torch.float64)
    got_e, got_i = _distinct_best(x, e, heavy, 5, min_rmsd=1.0)
    # ligand 0: the best copy, then the four distinct poses (the other copies only if room is left)
    assert got_i[0].tolist() == [0, 12, 13, 14, 15]
    assert torch.equal(got_e[0], e0[[0, 12, 13, 14, 15]])
    # ligand 1: its five best, best first
    assert got_i[1].tolist() == [15, 14, 13, 12, 11]
    # room for more than the distinct ones: the best remaining copies fill it
    _e, more = _distinct_best(x, e, heavy, 7, min_rmsd=1.0)
    assert more[0].tolist() == [0, 12, 13, 14, 15, 1, 2]
    # only the 4 r best stored minima are looked at: with r = 2 the distinct poses lie beyond them
    _e, few = _distinct_best(x, e, heavy, 2, min_rmsd=1.0)
    assert few[0].tolist() == [0, 1]


def test_energy_window_is_on_the_reported_score_as_vina_s() -> None:
    """Vina keeps the poses whose *reported* score (the sums divided by 1 + 0.05846 N_rot) lies within
    ``energy_range`` of the best's; a window on the raw sums would drop poses of a flexible ligand that
    Vina keeps."""
    import numpy as np
    from torch_inputs import prepared

    from docking.engines.torch_engine.batch import LigandBatch
    from docking.engines.torch_engine.finish import _poses
    from docking.engines.torch_engine.pdbqt import parse_ligand_pdbqt
    from docking.engines.torch_engine.scoring import W_ROT
    from docking.engines.torch_engine.search import SearchParams
    from docking.engines.torch_engine.topology import build_topology

    amlodipine = "CCOC(=O)C1=C(COCCN)NC(C)=C(C1c1ccccc1Cl)C(=O)OC"
    top = build_topology(parse_ligand_pdbqt(prepared(amlodipine, "amlodipine").variants[0].pdbqt))
    assert top.num_tors >= 6
    batch = LigandBatch.build([top], dtype=torch.float64)
    scale = 1.0 + W_ROT * float(top.num_tors)  # raw gap per reported-score gap
    params = SearchParams(n_poses=9, energy_range=3.0)
    raw_gaps = np.array([0.0, 1.0, 2.0, 0.9 * 3.0 * scale, 0.99 * 3.0 * scale, 1.01 * 3.0 * scale, 4.0 * scale])
    n = len(raw_gaps)
    atoms = batch.xs.shape[1]
    x = np.zeros((n, atoms, 3)) + (np.arange(n) * 5.0)[:, None, None]  # every pose far from the others
    inter = -12.0 + raw_gaps
    intra = np.full(n, -1.0)
    poses = _poses(batch, 0, x, inter, intra, inter + intra, np.arange(n), np.ones(n, dtype=bool), params)
    assert len(poses) == 5  # the 5 within 3 kcal/mol of the best reported score, raw gaps up to 2.97 x scale
    gaps = [p.total - poses[0].total for p in poses]
    assert max(gaps) <= 3.0 and max(gaps) > 2.9
    assert raw_gaps[4] > 3.0  # a window on the raw sums would have stopped at the third pose
    # the window still ends the list, and n_poses still caps it
    assert len(_poses(batch, 0, x, inter, intra, inter + intra, np.arange(n), np.ones(n, dtype=bool),
                      SearchParams(n_poses=2, energy_range=3.0))) == 2
