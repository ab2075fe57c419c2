"""Torch engine 1.0 search on CPU: analytic gradients against autograd, a line search that
never goes uphill, search ticks with no host synchronisation and no host->device copy, a
tick that traces as one graph (no graph break) and does not recompile for a second batch of
the same bucket, chains that finish Monte Carlo steps at their own pace, Vina's hunt cap, and
budgets that grow with the ligand."""

from __future__ import annotations

import math
import os

import pytest

torch = pytest.importorskip("torch")

from torch_inputs import prepared as _prepared  # noqa: E402

from bench.torch_syncs import SyncCounter  # noqa: E402
from docking.engines.torch_engine import search  # noqa: E402
from docking.engines.torch_engine.batch import LigandBatch  # noqa: E402
from docking.engines.torch_engine.docker import batch_bucket  # noqa: E402
from docking.engines.torch_engine.energy import energy_grad, exact_energy_grad, near_pairs  # noqa: E402
from docking.engines.torch_engine.grids import ReceptorGrid  # noqa: E402
from docking.engines.torch_engine.kinematics import pose_consts  # noqa: E402
from docking.engines.torch_engine.modes import MODES, bucket, steps_for, vina_steps  # noqa: E402
from docking.engines.torch_engine.pdbqt import parse_ligand_pdbqt, parse_receptor_pdbqt  # noqa: E402
from docking.engines.torch_engine.search import SearchParams, apply_change, mc_tick, new_search  # noqa: E402
from docking.engines.torch_engine.topology import build_topology  # noqa: E402

CENTER, SIZE = (-10.7, 12.4, 68.8), (16.0, 16.0, 16.0)
# DOCKDB_TORCH_DEVICE=cuda runs these tests on a GPU
DEV = torch.device(os.environ.get("DOCKDB_TORCH_DEVICE", "cpu"))
ABACAVIR = "Nc1nc(NC2CC2)c2ncn([C@@H]3C=C[C@H](CO)C3)c2n1"  # three-membered ring
AMLODIPINE = "CCOC(=O)C1=C(COCCN)NC(C)=C(C1c1ccccc1Cl)C(=O)OC"  # 10+ torsions
IBUPROFEN = "CC(C)Cc1ccc(cc1)C(C)C(=O)O"
CAFFEINE = "CN1C=NC2=C1C(=O)N(C(=O)N2C)C"
TRIPHENYLENE = "c1ccc2c(c1)c1ccccc1c1ccccc21"  # rigid
OXAZEPAM = "OC1N=C(c2ccccc2)c2cc(Cl)ccc2NC1=O"  # Meeko breaks its 7-ring: glue pairs
ARACHIDIC_ACID = "CCCCCCCCCCCCCCCCCCCC(=O)O"  # more than 16 torsions


def _tops(smiles: list[str]):
    return [build_topology(parse_ligand_pdbqt(_prepared(s, f"l{i}").variants[0].pdbqt)) for i, s in enumerate(smiles)]


@pytest.fixture(scope="module")
def tops():
    return _tops([ABACAVIR, AMLODIPINE, IBUPROFEN, CAFFEINE])


def _grid(receptor, dtype):
    return ReceptorGrid(parse_receptor_pdbqt(receptor.pdbqt), CENTER, SIZE, device=DEV, dtype=dtype)


@pytest.fixture(scope="module")
def grid64(protease_receptor):
    return _grid(protease_receptor, torch.float64)


@pytest.fixture(scope="module")
def grid32(protease_receptor):
    return _grid(protease_receptor, torch.float32)


def _setup(grid, tops, per_ligand: int, dtype, chain_major: bool = False, gather_pairs: bool | None = None):
    batch = LigandBatch.build(tops, dtype=dtype, device=DEV)
    grid.ensure(batch.types())
    gc, slots = grid.consts(batch.types(), 10.0)
    lig = torch.arange(len(tops), device=DEV).repeat_interleave(per_ligand)
    return batch, gc, slots, pose_consts(batch, lig, slots, grid.n_points, chains=per_ligand if chain_major else 0,
                                         gather_pairs=gather_pairs)


def _random_poses(c, n_tors: int, dtype, seed: int = 0, spread: float = 10.0):
    g = torch.Generator().manual_seed(seed)
    p = c.lig.shape[0]
    pos = torch.tensor(CENTER, dtype=dtype) + (torch.rand(p, 3, generator=g, dtype=dtype) - 0.5) * spread
    q = torch.randn(p, 4, generator=g, dtype=dtype)
    tors = (torch.rand(p, n_tors, generator=g, dtype=dtype) * 2 - 1) * math.pi
    return pos.to(DEV), (q / q.norm(dim=-1, keepdim=True)).to(DEV), tors.to(DEV) * c.tors_mask


def _autograd(efn, c, pos, q, tors):
    d = torch.zeros(pos.shape[0], 6 + tors.shape[1], dtype=pos.dtype, device=DEV, requires_grad=True)
    e, _ = efn(*apply_change(pos, q, tors, d))
    (g,) = torch.autograd.grad(e.sum(), d)
    return g * c.dim_mask


def test_tops_cover_what_the_gradient_test_needs(tops) -> None:
    assert max(t.n_torsions for t in tops) >= 8
    assert tops[0].pdbqt.n_atoms > 0 and len(tops[0].pairs) > 0


@pytest.mark.parametrize("chain_major", [False, True], ids=["per-pose", "chain-major"])
@pytest.mark.parametrize("cap", [search.HUNT_CAP, search.AUTHENTIC_CAP])
def test_analytic_gradient_matches_autograd_on_the_grid(grid64, tops, cap, chain_major) -> None:
    batch, gc, _slots, c = _setup(grid64, tops[:3], 6, torch.float64, chain_major)
    assert c.chains == (6 if chain_major else 0)
    pos, q, tors = _random_poses(c, batch.n_torsions_max, torch.float64, spread=14.0)  # some atoms off the grid

    def efn(p, qq, t):
        return energy_grad(c, gc, p, qq, t, cap, cap)

    e, g = efn(pos, q, tors)
    ref = _autograd(efn, c, pos, q, tors)
    assert torch.isfinite(e).all()
    assert float((g * c.dim_mask - ref).abs().max()) <= 1e-6
    assert float(ref.abs().max()) > 1.0  # not a vacuous comparison


def test_hydrogens_off_the_grid_cost_nothing_as_in_vina(grid64, tops) -> None:
    """Vina's grid evaluation and its in-grid check skip hydrogens, so a polar hydrogen may lie
    off the grid at no cost; heavy atoms off it pay the slope (both layouts)."""
    from docking.engines.torch_engine.chainmajor import forward_chains, grid_chains
    from docking.engines.torch_engine.energy import grid_inter_grad
    from docking.engines.torch_engine.kinematics import forward

    batch, gc, _slots, c = _setup(grid64, tops[:2], 6, torch.float64, chain_major=True)
    pos, q, tors = _random_poses(c, batch.n_torsions_max, torch.float64, seed=5, spread=6.0)
    pos[::3] += 12.0  # partly off the grid
    x, _r, _o = forward(c, pos, q, tors)
    off = ((x - gc.origin) < 0).any(-1) | ((x - gc.origin) * gc.inv_spacing > gc.upper).any(-1)
    hyd = (c.real > 0) & (c.typed == 0)
    assert int((off & hyd).sum()) > 0 and int((off & (c.typed > 0)).sum()) > 0
    e, g = grid_inter_grad(c, gc, x, search.HUNT_CAP)
    assert bool((e[hyd] == 0).all()) and bool((g[hyd] == 0).all())
    # heavy atoms off the grid pay the slope per Å off (L1), on top of the clamped grid value
    e0, _ = grid_inter_grad(c, gc._replace(slope=0.0), x, search.HUNT_CAP)
    heavy_off = off & (c.typed > 0)
    lo, hi = gc.origin, gc.origin + gc.upper / gc.inv_spacing
    miss = ((lo - x).clamp(min=0) + (x - hi).clamp(min=0)).sum(-1)
    assert torch.allclose((e - e0)[heavy_off], gc.slope * miss[heavy_off], rtol=1e-9, atol=1e-9)
    assert float(miss[heavy_off].min()) > 0 and float(gc.slope) > 0
    ec, gcs = grid_chains(c, gc, forward_chains(c, pos, q, tors), search.HUNT_CAP)
    assert torch.allclose(ec.permute(0, 2, 1).reshape(e.shape), e, rtol=1e-12, atol=1e-6)
    assert torch.allclose(gcs.permute(0, 3, 1, 2).reshape(g.shape), g, rtol=1e-12, atol=1e-6)


@pytest.mark.parametrize("gather", [False, True], ids=["scatter", "gather"])
def test_chain_major_evaluation_is_the_per_pose_one(grid64, tops, gather) -> None:
    """The search batch's evaluation with the chain innermost (coordinates by turning atoms about
    input-frame bonds, grid, intramolecular term, one subtree product per ligand) against the
    general per-pose one, on ligands with deep trees, a three-membered ring and a glued
    macrocycle ring; pair forces summed per atom by scattering (CPU) or gathering (CUDA)."""
    from docking.engines.torch_engine.chainmajor import energy_grad_chains, forward_chains, intra_chains
    from docking.engines.torch_engine.energy import energy_grad_x, intra_grad
    from docking.engines.torch_engine.kinematics import forward

    group = [*tops[:3], *_tops([OXAZEPAM])]
    batch, gc, _slots, c = _setup(grid64, group, 5, torch.float64, chain_major=True, gather_pairs=gather)
    assert c.has_glue and c.chains == 5 and (c.pair_gather.numel() > 0) == gather
    pos, q, tors = _random_poses(c, batch.n_torsions_max, torch.float64, seed=3, spread=6.0)
    pos[::4] += 14.0  # some poses partly off the grid: clamped axes and the out-of-grid slope
    x, _r, _o = forward(c, pos, q, tors)
    off = ((x - gc.origin) / (gc.upper / gc.inv_spacing) > 1.0).any(-1) & (c.real > 0)
    assert 0 < int(off.sum()) < int((c.real > 0).sum()) // 2
    xc = forward_chains(c, pos, q, tors)
    assert torch.allclose(xc.permute(0, 3, 1, 2).reshape(x.shape), x, rtol=0, atol=1e-9)
    for cap in (search.HUNT_CAP, search.AUTHENTIC_CAP):
        e, g = intra_chains(c, xc, cap)
        e0, g0 = intra_grad(c, x, cap)
        assert float(e0.abs().max()) > 0.1 and float(g0.abs().max()) > 0.1  # not vacuous
        assert torch.allclose(e.reshape(-1), e0, rtol=0, atol=1e-9)
        assert torch.allclose(g.permute(0, 3, 1, 2).reshape(g0.shape), g0, rtol=0, atol=1e-9)
        # and the whole evaluation: grid term and the pose gradient included
        e, g, xs = energy_grad_chains(c, gc, pos, q, tors, cap, cap)
        e0, g0, x0 = energy_grad_x(c, gc, pos, q, tors, cap, cap)
        assert float(g0[:, 6:].abs().max()) > 0.1
        assert torch.allclose(xs, x0, rtol=0, atol=1e-9)
        assert torch.allclose(e, e0, rtol=0, atol=1e-9) and torch.allclose(g, g0, rtol=0, atol=1e-9)


def test_pair_gather_table_lists_each_pair_once_per_atom_with_its_sign(tops) -> None:
    from docking.engines.torch_engine.kinematics import pair_gather

    batch = LigandBatch.build([*tops[:2], *_tops([OXAZEPAM])], dtype=torch.float64)
    n_lig, m = batch.pair_mask.shape
    a = batch.xs.shape[1]
    index, sign = pair_gather(batch.pairs, batch.pair_mask, a)
    assert index.shape == sign.shape == (n_lig, a, a)
    for li in range(n_lig):
        want = sorted([(int(i), k, 1.0) for k, (i, _j) in enumerate(batch.pairs[li].tolist()) if batch.pair_mask[li, k]]
                      + [(int(j), k, -1.0) for k, (_i, j) in enumerate(batch.pairs[li].tolist())
                         if batch.pair_mask[li, k]])
        got = sorted((at, int(index[li, at, r]), float(sign[li, at, r]))
                     for at in range(a) for r in range(a) if int(index[li, at, r]) != m)
        assert got == want and len(want) > 20
        assert bool((sign[li][index[li] == m] == 0).all())


def test_analytic_gradient_matches_autograd_exact_pairs(grid64, tops) -> None:
    batch, gc, _slots, c = _setup(grid64, tops[:3], 2, torch.float64)
    pos, q, tors = _random_poses(c, batch.n_torsions_max, torch.float64, seed=1, spread=6.0)
    from docking.engines.torch_engine.kinematics import forward

    x, _r, _o = forward(c, pos, q, tors)
    lists = grid64.pair_lists(x, c.typed, margin=6.0)
    pairs = near_pairs(grid64.receptor(), grid64.ligand_types(batch.xs[c.lig]), *lists)

    def efn(p, qq, t):
        return exact_energy_grad(c, gc, pairs, p, qq, t, 1000.0, 10.0)

    _e, g = efn(pos, q, tors)
    assert float((g * c.dim_mask - _autograd(efn, c, pos, q, tors)).abs().max()) <= 1e-6


def test_pair_lists_give_the_all_pairs_energy(grid64, tops) -> None:
    """Each pose's list holds every (typed atom, receptor atom) pair within the cutoff: the exact
    energy and its gradient equal those summed over all pairs (no margin needed at the poses' own
    coordinates), and the lists are far shorter than all pairs.  Padding a list with more empty
    pairs changes no bit of any atom's energy or force."""
    from docking.engines.torch_engine.energy import exact_inter_grad
    from docking.engines.torch_engine.kinematics import forward

    batch, gc, _slots, c = _setup(grid64, tops[:3], 2, torch.float64)
    pos, q, tors = _random_poses(c, batch.n_torsions_max, torch.float64, seed=3, spread=4.0)
    x, _r, _o = forward(c, pos, q, tors)
    rec, lt = grid64.receptor(), grid64.ligand_types(batch.xs[c.lig])
    atom, near, mask = grid64.pair_lists(x, c.typed, margin=0.0)
    n_rec, n_at = rec.xyz.shape[0], x.shape[1]
    every_atom = torch.arange(n_at).repeat_interleave(n_rec).expand(x.shape[0], -1)
    every_rec = torch.arange(n_rec).repeat(n_at).expand(x.shape[0], -1)
    e_lists, g_lists = exact_inter_grad(c, near_pairs(rec, lt, atom, near, mask), gc, x, 1000.0, 10.0)
    e_all, g_all = exact_inter_grad(c, near_pairs(rec, lt, every_atom, every_rec, torch.ones(every_atom.shape,
                                                                                             dtype=x.dtype)),
                                    gc, x, 1000.0, 10.0)
    assert float((e_lists - e_all).abs().max()) <= 1e-9 and float((g_lists - g_all).abs().max()) <= 1e-9
    assert float(e_all.abs().sum()) > 1.0  # poses touch the receptor: not a vacuous comparison
    assert atom.shape[1] < n_at * n_rec / 10
    assert bool(((mask > 0) <= (c.typed.gather(1, atom) > 0)).all())  # no pair of a hydrogen or padding
    pad = [torch.nn.functional.pad(v, (0, 37)) for v in (atom, near, mask)]
    e_pad, g_pad = exact_inter_grad(c, near_pairs(rec, lt, *pad), gc, x, 1000.0, 10.0)
    assert torch.equal(e_pad, e_lists) and torch.equal(g_pad, g_lists)


def test_exact_refinement_in_chunks_equals_one_chunk(grid64, tops) -> None:
    """The final refinement splits its poses into chunks, each with receptor lists of its own
    (their lengths differ): one pose per chunk gives what all poses in one chunk give."""
    from docking.engines.torch_engine.finish import exact_refine

    batch, _gc, slots, c = _setup(grid64, tops[:3], 2, torch.float64)
    start = list(_random_poses(c, batch.n_torsions_max, torch.float64, seed=4, spread=3.0))
    depth = max(max(t.pdbqt.depth()) for t in tops[:3])
    whole = exact_refine(grid64, batch, slots, depth, c.lig, start, SearchParams(), 12)
    parts = exact_refine(grid64, batch, slots, depth, c.lig, start, SearchParams(), 12, max_pairs=1)
    for a, b in zip(whole[:3] + tuple(whole[3]), parts[:3] + tuple(parts[3]), strict=True):
        assert float((a - b).abs().max()) <= 1e-9
    assert float(whole[1].min()) < 0.0  # poses in contact with the receptor


@pytest.mark.parametrize("interpolate", [False, True], ids=["halving", "interpolating"])
def test_line_search_never_raises_the_energy(grid32, tops, interpolate) -> None:
    batch, gc, _slots, c = _setup(grid32, tops, 8, torch.float32)
    pos, q, tors = _random_poses(c, batch.n_torsions_max, torch.float32, seed=2, spread=8.0)
    efn = search.grid_energy(c, gc, search.HUNT_CAP)
    opt = search.lbfgs_init(c, efn, pos, q, tors)
    start = opt.f.clone()
    for _ in range(40):
        before = opt.f
        if interpolate:
            step, pos_t, quat_t, tors_t = search._trial(opt)
            ft, gt = efn(pos_t, quat_t, tors_t)
            opt = search._line_search(c, opt, step, pos_t, quat_t, tors_t, ft, gt * c.dim_mask, interpolate=True)[0]
        else:  # the finish's local optimiser, Vina's halving
            opt = search.lbfgs_micro_with(c, efn, opt)
        assert bool((opt.f <= before).all())
        # the reported energy is the energy of the reported pose
        e_now, _ = efn(opt.pos, opt.quat, opt.tors)
        assert torch.allclose(e_now, opt.f, rtol=1e-5, atol=1e-4)
    assert float((start - opt.f).mean()) > 1.0  # it minimised
    assert int(opt.iters.max()) > 5


def test_polish_never_raises_the_energy_and_finds_lower_minima(grid32, tops) -> None:
    from docking.engines.torch_engine.finish import polish, refine

    batch, gc, _slots, c = _setup(grid32, tops, 8, torch.float32)
    pos, q, tors = _random_poses(c, batch.n_torsions_max, torch.float32, seed=3, spread=6.0)
    efn = search.grid_energy(c, gc, search.AUTHENTIC_CAP)
    # minimised well past Vina's iteration cap, with BFGS restarted until a restart gains nothing,
    # so what is left below is other minima, not slope
    o = refine(c, efn, pos, q, tors, evals=300)
    for _ in range(4):
        o = refine(c, efn, o.pos, o.quat, o.tors, evals=300)
    start = (o.pos, o.quat, o.tors, o.f)
    keys = torch.arange(1, c.lig.shape[0] + 1, dtype=torch.long, device=DEV) * 104729
    out = polish(c, efn, start, keys, rounds=6, evals=60)
    finite = torch.isfinite(o.f)
    assert bool(finite.all())
    assert bool((out[3] <= o.f).all())  # never uphill
    e_now, _ = efn(*out[:3])
    assert torch.allclose(e_now, out[3], rtol=1e-5, atol=1e-4)  # the energy of the returned pose
    lower = o.f - out[3] > 1e-3
    assert int(lower.sum()) >= c.lig.shape[0] // 4  # a converged minimum is often not its basin's lowest
    # the same keys give the same result; other keys other jiggles
    again = polish(c, efn, start, keys, rounds=6, evals=60)
    assert all(torch.equal(a, b) for a, b in zip(out, again, strict=True))
    other = polish(c, efn, start, keys + 1, rounds=6, evals=60)
    assert not torch.equal(other[0], out[0])
    # no rounds: the poses as they were
    assert all(torch.equal(a, b) for a, b in zip(polish(c, efn, start, keys, rounds=0, evals=60), start, strict=True))


def test_rotamer_sweep_undoes_a_wrong_rotamer_that_minimising_keeps(grid32, tops) -> None:
    """Each candidate of the sweep turns one free torsion by one of the fixed turns (padding gives
    unchanged copies, marked invalid); a converged pose with one torsion turned a third of a turn
    the wrong way comes back to its minimum's energy through the sweep, which plain minimisation from
    it does not always reach."""
    from docking.engines.torch_engine.finish import ROTAMER_TURNS, refine, rotamer_candidates, rotamer_sweep

    batch, gc, slots, c = _setup(grid32, tops, 4, torch.float32)
    free = c.tors_mask * (1.0 - c.ring_tors)
    pos, q, tors = _random_poses(c, batch.n_torsions_max, torch.float32, seed=5, spread=4.0)
    cand, valid = rotamer_candidates(c, tors)
    k = len(ROTAMER_TURNS) * tors.shape[1]
    assert cand.shape == (tors.shape[0] * k, tors.shape[1])
    moved = (cand.reshape(-1, k, tors.shape[1]) - tors[:, None]).abs() > 1e-6
    assert bool((moved.sum(-1) == valid.reshape(-1, k).long()).all())  # one torsion each, or none
    assert int(valid.reshape(-1, k).sum(1)[0]) == len(ROTAMER_TURNS) * int(free[0].sum())
    efn = search.grid_energy(c, gc, search.AUTHENTIC_CAP)
    o = refine(c, efn, pos, q, tors, evals=300)
    for _ in range(3):
        o = refine(c, efn, o.pos, o.quat, o.tors, evals=300)
    # the first free torsion of each pose turned by -120 degrees: a wrong rotamer
    first = torch.zeros_like(free)
    first.scatter_(1, free.argmax(1, keepdim=True), 1.0)
    first = first * free
    wrong = o.tors - ROTAMER_TURNS[0] * first
    has = first.sum(1) > 0
    assert int(has.sum()) >= c.lig.shape[0] // 2
    stays = refine(c, efn, o.pos, o.quat, wrong, evals=300)

    def make(lig: torch.Tensor):
        return pose_consts(batch, lig, slots, grid32.n_points)

    out = rotamer_sweep(gc, (o.pos, o.quat, wrong, stays.f), c.lig, make, evals=300)
    assert bool(torch.isfinite(out[3][has]).all())
    assert bool((out[3][has] <= o.f[has] + 2e-2).all())  # back in the right rotamer's basin
    assert bool((stays.f[has] > o.f[has] + 0.1).any())  # which minimising alone missed for some
    e_now, _ = efn(*out[:3])
    assert torch.allclose(e_now[has], out[3][has], rtol=1e-5, atol=1e-4)  # the energy of the returned pose
    # in chunks of one pose's copies each: the same result
    chunked = rotamer_sweep(gc, (o.pos, o.quat, wrong, stays.f), c.lig, make, evals=300, max_copies=1)
    for a, b in zip(out, chunked, strict=True):
        assert torch.allclose(a[has], b[has], rtol=1e-5, atol=1e-5)


def test_rotamer_sweep_in_the_finish_only_ever_lowers_a_ligands_poses(grid32) -> None:
    """The same search finished with and without the sweep of the 2 best poses: every ligand's best
    pose (inter + intra) is as low or lower with it, and lower for some after a short search."""
    from docking.engines.torch_engine.docker import TorchDocker
    from docking.engines.torch_engine.modes import Budget

    items = [(f"l{i}", _prepared(s, f"l{i}").variants[0].pdbqt) for i, s in enumerate([AMLODIPINE, IBUPROFEN])]
    best = {}
    for n in (0, 2):
        d = TorchDocker(grid32, budget=Budget(chains=8, steps=6), params=SearchParams(rotamer_poses=n), compile="off")
        out = d.dock(items, seed=3)
        best[n] = [min(p.inter + p.intra for p in out[k]) for k, _ in items]  # type: ignore[union-attr]
    assert all(b <= a + 1e-4 for a, b in zip(best[0], best[2], strict=True))
    assert any(b < a - 1e-3 for a, b in zip(best[0], best[2], strict=True)), best


def test_hunt_cap_is_vinas() -> None:
    # Vina 1.2's vina.cpp sets mc.hunt_cap = vec(10, 10, 10) for the Monte Carlo search
    assert search.HUNT_CAP == 10.0 and search.AUTHENTIC_CAP == 1000.0


def _search(grid, tops, chains: int, ticks: int, dtype=torch.float32, chain_major: bool = False,
            gather_pairs: bool | None = None):
    _batch, gc, _slots, c = _setup(grid, tops, chains, dtype, chain_major, gather_pairs)
    p = c.lig.shape[0]
    seeds = torch.arange(1, p + 1, dtype=torch.long, device=DEV) * 7919
    state = new_search(c, torch.tensor(CENTER, dtype=dtype, device=DEV), torch.tensor(SIZE, dtype=dtype, device=DEV),
                       seeds, torch.full((p,), ticks, device=DEV), 4)
    return c, gc, state


@pytest.mark.parametrize("chain_major", [False, True, "gather"], ids=["per-pose", "chain-major", "gathered-pairs"])
def test_search_ticks_have_no_sync_and_no_host_copy(grid32, tops, chain_major) -> None:
    c, gc, state = _search(grid32, tops, 4, 10**6, chain_major=bool(chain_major),  # 4 different ligands
                           gather_pairs=chain_major == "gather")
    # short local optimisations (several steps per chain); the temperature schedule's, the
    # random starts', the tempering swaps' and the shortened line search's paths too
    params = SearchParams(micro_per_iter=0.25, final_temperature=0.6, starts=3, ladder=2, swap_every=2, first_step=1.0,
                          min_step=1e-3, interpolate=True, stall=0.01)
    with SyncCounter() as counter:
        # the run loop: full ticks and bookkeeping-free ones, as an eager run alternates them, with
        # the ladders' swaps called on swap ticks; then ticks that run their swaps themselves
        state = search.advance(mc_tick, c, gc, state, params, 0, 30, period=2)
        for _ in range(4):
            state = mc_tick(c, gc, state, params)
    assert counter.calls == []
    assert int(state.tick) == 34
    assert int(state.ch.step.min()) >= 3 and bool(torch.isfinite(state.st.e).any())
    # the counter does catch a synchronisation
    with SyncCounter() as counter:
        bool(state.ch.e.sum() > 0)
    assert counter.calls == ["__bool__"]


def test_chains_advance_at_their_own_pace(grid32, tops) -> None:
    c, gc, state = _search(grid32, tops, 4, 10**6)
    params = SearchParams()
    for _ in range(120):
        state = mc_tick(c, gc, state, params)
    steps = state.ch.step
    # a chain starts its next Monte Carlo step as soon as its local optimisation ends ...
    assert int(steps.max()) > int(steps.min())
    # ... which is never later than its evaluation cap (one start + micro_per_iter x iterations)
    per_step = 1 + torch.ceil(params.micro_per_iter * c.iter_cap)
    assert bool((steps >= torch.floor(120 / (per_step + 1)).long()).all())
    # and the local optimisation in progress is the one the evaluations count
    assert bool((state.opt.evals <= torch.ceil(params.micro_per_iter * c.iter_cap)).all())


def test_stale_counts_the_steps_since_a_chain_last_improved_its_best(grid32, tops) -> None:
    c, gc, state = _search(grid32, tops, 2, 10**6)
    params = SearchParams(micro_per_iter=0.25)
    improved_seen = kept_seen = False
    for _ in range(60):
        before = state.ch
        state = mc_tick(c, gc, state, params)
        improved = state.ch.best < before.best
        steps = state.ch.step - before.step
        assert bool((state.ch.stale[improved] == 0).all())
        kept = ~improved
        assert torch.equal(state.ch.stale[kept], before.stale[kept] + steps[kept])
        improved_seen |= bool(improved.any())
        kept_seen |= bool((kept & (steps > 0)).any())
    assert improved_seen and kept_seen
    assert bool((state.ch.stale <= state.ch.step).all())


def test_ticks_agree_tells_a_wrong_gradient_from_rounding(grid32, tops) -> None:
    """The check of a compiled shape's first tick (``TorchDocker.verify``): the same tick in
    float32 and float64 agrees; a tick whose gradient misses the intramolecular forces while
    its energy keeps them (what inductor's CUDA code computed, docs/benchmarks.md "GPU") does not."""
    from docking.engines.torch_engine.compiled import ticks_agree
    from docking.engines.torch_engine.docker import TorchDocker

    c, gc, state = _search(grid32, tops, 4, 10**6, chain_major=True)
    params = SearchParams()
    ref = mc_tick(c, gc, state, params)
    to64 = lambda v: v.double() if v.is_floating_point() else v  # noqa: E731
    c64 = c._replace(**{k: to64(v) for k, v in c._asdict().items() if isinstance(v, torch.Tensor)})
    gc64 = gc._replace(**{k: to64(v) for k, v in gc._asdict().items() if isinstance(v, torch.Tensor)})
    s64 = search.Search(*(type(x)(*map(to64, x)) if isinstance(x, tuple) else to64(x) for x in state))
    assert ticks_agree(ref, mc_tick(c64, gc64, s64, params))
    # the intramolecular forces left out of the gradient only
    no_intra = mc_tick(c._replace(pair_mask=torch.zeros_like(c.pair_mask)), gc, state, params)
    wrong = ref._replace(opt=ref.opt._replace(g=no_intra.opt.g))
    assert not ticks_agree(wrong, ref)
    with pytest.raises(Exception, match="verify must be auto, on or off"):
        TorchDocker(grid32, verify="sometimes")._verifies()


def test_graph_buffers_advance_as_plain_ticks(grid32, tops) -> None:
    """What a CUDA graph replays (graphs.py): k ticks written back into fixed buffers equal k
    plain ticks, and the replay check tells a differing state; too short a search runs plainly."""
    from docking.engines.torch_engine import graphs

    c, gc, state = _search(grid32, tops, 4, 10**6, chain_major=True)
    params = SearchParams(micro_per_iter=0.25)
    plain = state
    for _ in range(6):
        plain = mc_tick(c, gc, plain, params)
    buf = graphs._clone(state)
    graphs._advance(mc_tick, c, gc, buf, params, 6)
    assert graphs._same(buf, plain) and not graphs._same(buf, state)
    assert int(buf.ch.step.max()) >= 1 and buf.opt.f.data_ptr() != plain.opt.f.data_ptr()
    out, graphed = graphs.run_ticks(mc_tick, c, gc, state, params, 6, k=4)  # < 2 k ticks: no graph
    assert not graphed and graphs._same(out, plain)
    # bookkeeping every 4th tick, line searches between (engine 1.10's schedule), from tick 1 as the
    # docker starts after its checked first tick: buffers and plain calls alike follow the tick numbers
    one = mc_tick(c, gc, state, params)
    every4 = search.advance(mc_tick, c, gc, one, params, 1, 13, period=4)
    assert not graphs._same(every4, search.advance(mc_tick, c, gc, one, params, 1, 13))
    buf = graphs._clone(one)
    graphs._advance(mc_tick, c, gc, buf, params, 12, start=1, period=4)
    assert graphs._same(buf, every4)
    out, graphed = graphs.run_ticks(mc_tick, c, gc, one, params, 12, k=6, start=1, period=4)  # 6 % 4: plain
    assert not graphed and graphs._same(out, every4)


def test_swaps_run_on_swap_ticks_only_and_give_the_same_search(grid32, tops) -> None:
    """Run loops (search.advance, and so the docker and the CUDA graph path) call the ladders'
    swaps only on swap ticks, outside the tick: the same search as ticks that gather through the
    identity every tick, swaps, local optimisations and stores alike."""
    from docking.engines.torch_engine import graphs

    c, gc, state = _search(grid32, tops, 4, 10**6, chain_major=True)
    params = SearchParams(micro_per_iter=0.25, ladder=2, swap_every=2)
    calls: list[int] = []

    def counted(s: search.Search, p: SearchParams) -> search.Search:
        calls.append(int(s.tick))
        return search.exchange(s, p)

    plain = state
    for _ in range(40):
        plain = mc_tick(c, gc, plain, params)
    split = search.advance(mc_tick, c, gc, state, params, 0, 40, swap=counted)
    assert calls == list(range(0, 40, 2))
    assert graphs._same(split, plain)
    no_swaps = search.advance(mc_tick, c, gc, state, params, 0, 40, swap=lambda s, p: s)
    assert not graphs._same(no_swaps, plain)  # the swaps happened, and mattered
    # the CUDA graph path's plain calls, from a later tick: the swap ticks follow the tick numbers
    half = search.advance(mc_tick, c, gc, state, params, 0, 17)
    out, graphed = graphs.run_ticks(mc_tick, c, gc, half, params, 23, k=16, start=17)
    assert not graphed and graphs._same(out, plain)


def test_temperature_is_vinas_constant_unless_a_schedule_is_asked_for() -> None:
    cap = torch.tensor([100, 200])
    assert search.chain_temperature(SearchParams(), torch.tensor(50), cap) == 1.2
    sched = SearchParams(temperature=1.2, final_temperature=0.3)
    t0 = search.chain_temperature(sched, torch.tensor(0), cap)
    mid = search.chain_temperature(sched, torch.tensor(100), cap)
    end = search.chain_temperature(sched, torch.tensor(400), cap)
    assert torch.allclose(t0, torch.tensor([1.2, 1.2], dtype=t0.dtype))
    assert torch.allclose(mid, torch.tensor([0.3, 0.6], dtype=t0.dtype))  # geometric: 1.2 * 0.25 ** 0.5
    assert torch.allclose(end, torch.tensor([0.3, 0.3], dtype=t0.dtype))


def test_tempering_swaps_whole_configurations_between_a_ligands_chains(grid32, tops) -> None:
    """A swap moves a chain's current pose and energy with its local optimisation in flight
    and its coordinates; stores, best energies and random streams stay with the chain."""
    c, gc, state = _search(grid32, tops, 4, 10**6)
    for _ in range(40):  # every chain through a few Monte Carlo steps: finite current energies
        state = mc_tick(c, gc, state, SearchParams(micro_per_iter=0.25))
    params = SearchParams(ladder=4, ladder_top=4.8)
    swapped = 0
    for tick in range(40, 72):
        state = state._replace(tick=torch.tensor(tick, device=DEV))
        new = search.exchange(state, params)
        temps = search.ladder_temperatures(state, params, 1.2)
        assert torch.allclose(temps, 1.2 * 4.0 ** (torch.arange(16, device=DEV) % 4 / 3))
        # each chain's source, told by its current energy (distinct across chains)
        e_old, e_new = state.ch.e.tolist(), new.ch.e.tolist()
        src = torch.tensor([i if v == e_old[i] else e_old.index(v) for i, v in enumerate(e_new)], device=DEV)
        if tick % params.swap_every:
            assert torch.equal(src, torch.arange(16, device=DEV))
        assert all(i // 4 == j // 4 for i, j in enumerate(src.tolist()))  # inside its ladder
        swapped += int((src != torch.arange(16, device=DEV)).sum())
        for a, b in ((new.ch.pos, state.ch.pos), (new.ch.tors, state.ch.tors), (new.opt.h, state.opt.h),
                     (new.opt.f, state.opt.f), (new.x, state.x), (new.live, state.live),
                     (new.opt.evals, state.opt.evals)):
            assert torch.equal(a, b[src])
        for a, b in ((new.ch.best, state.ch.best), (new.ch.seed, state.ch.seed), (new.st.e, state.st.e),
                     (new.ch.step, state.ch.step)):
            assert torch.equal(a, b)
        state = new
    assert swapped > 0


def test_a_chain_stops_at_its_tick_cap(grid32, tops) -> None:
    c, gc, state = _search(grid32, tops[:2], 2, 10**6)
    state = state._replace(ch=state.ch._replace(tick_cap=torch.tensor([10**6, 10**6, 40, 40], device=DEV)))
    params = SearchParams(micro_per_iter=0.25)
    for _ in range(40):
        state = mc_tick(c, gc, state, params)
    frozen = (state.ch.step.clone(), state.st.e.clone(), state.ch.e.clone())
    for _ in range(40):
        state = mc_tick(c, gc, state, params)
    assert torch.equal(state.ch.step[2:], frozen[0][2:]) and torch.equal(state.st.e[2:], frozen[1][2:])
    assert torch.equal(state.ch.e[2:], frozen[2][2:])
    assert bool((state.ch.step[:2] > frozen[0][:2]).all())


def test_tick_traces_as_one_graph_and_does_not_recompile(grid32, tops) -> None:
    import torch._dynamo
    from torch._dynamo.testing import CompileCounter

    c, gc, state = _search(grid32, tops[2:], 4, 10**6, chain_major=True)  # the compiled search's layout
    assert c.chains == 4
    # chains that cool, tempering ladders, a shortened line search, and Vina's constant
    for params in (SearchParams(temperature=2.4), SearchParams(ladder=2), SearchParams(first_step=1.0, min_step=1e-3),
                   SearchParams(interpolate=True, stall=0.03), SearchParams()):
        explain = torch._dynamo.explain(mc_tick)(c, gc, state, params)
        assert explain.graph_break_count == 0, explain.break_reasons
        assert explain.graph_count == 1
        torch._dynamo.reset()
    explain = torch._dynamo.explain(search.exchange)(state, SearchParams(ladder=2))  # the swaps' own graph
    assert explain.graph_break_count == 0 and explain.graph_count == 1, explain.break_reasons
    torch._dynamo.reset()
    # the line-search tick run between two bookkeeping ticks on a CPU (engine 1.10): a graph too
    explain = torch._dynamo.explain(search.ls_tick)(c, gc, state, params)
    assert explain.graph_break_count == 0 and explain.graph_count == 1, explain.break_reasons
    torch._dynamo.reset()
    counter = CompileCounter()
    tick = torch.compile(mc_tick, backend=counter, fullgraph=True, dynamic=False)
    for _ in range(2):
        state = tick(c, gc, state, params)
    first = counter.frame_count
    assert first == 1
    # a second batch of the same bucket (other ligands and seeds, same padded shapes): no recompile
    other = _tops([IBUPROFEN, "CC(C)Cc1ccc(cc1)C(C)C(=O)N"])
    a, t, m, _d = bucket(max(x.n_atoms for x in tops[2:] + other), max(x.n_torsions for x in tops[2:] + other),
                         max(len(x.pairs) for x in tops[2:] + other), 2)
    after_first = None
    for k, group in enumerate((tops[2:], other)):
        batch = LigandBatch.build(group, atoms=a, torsions=t, pairs=m, device=DEV)
        grid32.ensure(batch.types())
        gc2, slots = grid32.consts(batch.types(), 10.0)
        lig = torch.arange(2, device=DEV).repeat_interleave(4)
        c2 = pose_consts(batch, lig, slots, grid32.n_points, depth=t, chains=4)
        seeds = torch.arange(8, dtype=torch.long, device=DEV) + 99
        state2 = new_search(c2, torch.tensor(CENTER, device=DEV), torch.tensor(SIZE, device=DEV), seeds,
                            torch.full((8,), 5, device=DEV), 4)
        state2 = tick(c2, gc2, state2, params)
        if k == 0:
            after_first = counter.frame_count
    assert after_first == first + 1  # the bucket's shapes compiled once ...
    assert counter.frame_count == after_first  # ... and the second batch reused them
    torch._dynamo.reset()


def test_compiled_gradient_is_the_eager_one(grid64, tops) -> None:
    """The pose gradient (forces -> translation, torque, torsions down the tree) compiled by
    inductor against eager, on ligands with deep trees (amlodipine: 10+ torsions)."""
    import torch._dynamo

    from docking.engines.torch_engine import kinematics

    # the batch as the docker builds it: padded to its bucket, tree depth included
    a, t, m, depth = batch_bucket(tops)
    batch = LigandBatch.build(tops, atoms=a, torsions=t, pairs=m, dtype=torch.float64, device=DEV)
    grid64.ensure(batch.types())
    _gc, slots = grid64.consts(batch.types(), 10.0)
    # a deeper bucket than these ligands need (the old level-by-level sums went wrong from 6 levels)
    c = pose_consts(batch, torch.arange(len(tops), device=DEV).repeat_interleave(4), slots, grid64.n_points,
                    depth=max(depth, 6))
    pos, q, tors = _random_poses(c, c.tors_mask.shape[1], torch.float64, seed=5, spread=8.0)
    x, r_b, o_b = kinematics.forward(c, pos, q, tors)
    g_atoms = torch.randn(x.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(1)).to(DEV)
    g_atoms = g_atoms * c.real[..., None]  # padding atoms have no energy
    torch._dynamo.reset()
    compiled = torch.compile(kinematics.backward, fullgraph=True, dynamic=False)
    got = compiled(c, x, r_b, o_b, pos, g_atoms)
    torch._dynamo.reset()
    want = kinematics.backward(c, x, r_b, o_b, pos, g_atoms)
    assert bool((want[:, 6:].abs() > 1e-3).sum(0).gt(0).sum() >= 8)  # many torsions take part
    assert torch.allclose(got, want, rtol=0, atol=1e-9)


@pytest.mark.slow
@pytest.mark.parametrize("gather", [False, True], ids=["scattered-pairs", "gathered-pairs"])
def test_compiled_tick_computes_what_the_eager_tick_computes(grid64, tops, gather) -> None:
    """The inductor-compiled tick (the engine's GPU and big-batch path) against the eager one, in
    float64 from the same state: a defect of the compiled code shows at once, while rounding alone
    stays far below the tolerance for the first ticks (measured from 1e-13 at tick 1: it grows about
    4x a tick through the BFGS updates)."""
    import torch._dynamo

    from docking.engines.torch_engine.compiled import compile_options

    c, gc, state = _search(grid64, tops[2:], 4, 10**6, torch.float64, chain_major=True,  # as the engine compiles it
                           gather_pairs=gather)  # the pair-force sum of CUDA batches (gathered), or of CPU ones
    params = SearchParams(micro_per_iter=0.25)  # short local optimisations: acceptance and store run too
    torch._dynamo.reset()
    # with the engine's code generation options (docking/engines/torch_engine/compiled.py)
    compiled = torch.compile(mc_tick, fullgraph=True, dynamic=False, options=compile_options())
    eager = state
    for _ in range(16):
        eager = mc_tick(c, gc, eager, params)
        state = compiled(c, gc, state, params)
    torch._dynamo.reset()
    assert int(eager.ch.step.min()) >= 2 and bool(torch.isfinite(eager.st.e).any())
    assert torch.equal(state.ch.step, eager.ch.step) and torch.equal(state.opt.active, eager.opt.active)
    for name in ("pos", "quat", "tors", "f", "g"):
        assert torch.allclose(getattr(state.opt, name), getattr(eager.opt, name), rtol=0, atol=1e-6), name
    assert torch.allclose(state.ch.e, eager.ch.e, rtol=0, atol=1e-6, equal_nan=True)
    assert torch.equal(torch.isinf(state.st.e), torch.isinf(eager.st.e))
    finite = torch.isfinite(eager.st.e)
    assert torch.allclose(state.st.e[finite], eager.st.e[finite], rtol=0, atol=1e-6)


@pytest.mark.slow
def test_compiled_run_loop_with_line_search_ticks_is_the_eager_one(grid64, tops) -> None:
    """A compiled CPU batch's run loop (engine 1.10): the compiled Monte Carlo tick every 4th tick and
    the compiled line-search tick between, against both eager, in float64 from the same state."""
    import torch._dynamo

    from docking.engines.torch_engine.compiled import compile_options

    c, gc, state = _search(grid64, tops[2:], 4, 10**6, torch.float64, chain_major=True)
    params = SearchParams(micro_per_iter=0.25)
    torch._dynamo.reset()
    options = compile_options()
    mc = torch.compile(mc_tick, fullgraph=True, dynamic=False, options=options)
    ls = torch.compile(search.ls_tick, fullgraph=True, dynamic=False, options=options)
    eager = search.advance(mc_tick, c, gc, state, params, 0, 24, period=4)
    state = search.advance(mc, c, gc, state, params, 0, 24, period=4, between=ls)
    torch._dynamo.reset()
    assert int(eager.ch.step.min()) >= 2 and int(eager.tick) == 24
    assert torch.equal(state.ch.step, eager.ch.step) and torch.equal(state.opt.active, eager.opt.active)
    for name in ("pos", "quat", "tors", "f", "g", "iters", "evals"):
        assert torch.allclose(getattr(state.opt, name), getattr(eager.opt, name), rtol=0, atol=1e-6), name
    assert torch.allclose(state.x, eager.x, rtol=0, atol=1e-6)
    finite = torch.isfinite(eager.st.e)
    assert torch.equal(torch.isinf(state.st.e), torch.isinf(eager.st.e))
    assert torch.allclose(state.st.e[finite], eager.st.e[finite], rtol=0, atol=1e-6)


def test_budget_grows_with_the_ligand_like_vinas() -> None:
    # Vina 1.2: 70 * 3 * (50 + movable atoms + 10 * (6 + torsions)) / 2 steps per chain
    assert vina_steps(30, 6) == 105 * (50 + 30 + 120)
    bal = MODES["balanced"]
    small, large = steps_for(bal, bal.chains, 20, 2), steps_for(bal, bal.chains, 60, 20)
    assert large > 2 * small
    assert MODES["fast"].fraction < bal.fraction < MODES["detail"].fraction
    # detail (engine 1.6) spends all of Vina exhaustiveness 8's steps: the PoseBusters redocking goal
    detail = MODES["detail"]
    total = detail.chains * steps_for(detail, detail.chains, 30, 6)
    assert 8 * vina_steps(30, 6) <= total < 8 * vina_steps(30, 6) + detail.chains


def _run_padded(grid, group, shape, ticks: int):
    batch = LigandBatch.build(group, atoms=shape[0], torsions=shape[1], pairs=shape[2], device=DEV)
    grid.ensure(batch.types())
    gc, slots = grid.consts(batch.types(), 10.0)
    c = pose_consts(batch, torch.arange(len(group), device=DEV).repeat_interleave(4), slots, grid.n_points,
                    depth=shape[1])
    p = c.lig.shape[0]
    seeds = (torch.arange(p, dtype=torch.long, device=DEV) % 4) * 7919 + 5  # same chain keys per ligand slot
    state = new_search(c, torch.tensor(CENTER, device=DEV), torch.tensor(SIZE, device=DEV), seeds,
                       torch.full((p,), ticks, device=DEV), 4)
    for _ in range(ticks):
        state = mc_tick(c, gc, state, SearchParams())
    return state


def test_search_is_deterministic_and_batch_independent(grid32, tops) -> None:
    shape = bucket(max(x.n_atoms for x in tops), max(x.n_torsions for x in tops),
                   max(len(x.pairs) for x in tops), 8)
    a = _run_padded(grid32, [tops[2], tops[0]], shape, 60)
    b = _run_padded(grid32, [tops[2], tops[0]], shape, 60)
    assert torch.equal(a.st.e, b.st.e) and torch.equal(a.ch.step, b.ch.step)
    # ibuprofen's chains do not depend on the ligand docked beside it
    c = _run_padded(grid32, [tops[2], tops[3]], shape, 60)
    assert torch.equal(a.st.e[:4], c.st.e[:4]) and torch.equal(a.ch.step[:4], c.ch.step[:4])
    assert not torch.equal(a.st.e[4:], c.st.e[4:])


@pytest.fixture(scope="module")
def floppy():
    (top,) = _tops([ARACHIDIC_ACID])
    assert top.n_torsions > 16
    return top


@pytest.mark.slow
@pytest.mark.parametrize(("chains", "partner"), [(16, "amlodipine"), (8, "amlodipine"), (16, "arachidic acid")])
def test_compiled_search_does_not_depend_on_the_padding_of_its_batch(grid32, tops, floppy, chains, partner) -> None:
    """Engines 1.12 and 1.14: ibuprofen's chains compiled alone (padded to its own bucket) and beside
    a larger ligand (padded to its torsions and atoms) hold the same numbers tick after tick: the
    line search's dot products add in an order the padding does not change (ordered.py), where a
    reduction over the padded search vector rounded them apart from the first tick (1.11), and the
    torsions' cos and sin are taken over rows of chains, where per pose over the padded torsions a
    compiled loop's vector body and scalar tail split them by the padding (1.13: on 8-lane vectors
    beside amlodipine's 12 torsion slots, on 16-lane vectors beside arachidic acid's 20).
    8 chains compile for 8-lane vectors on every CPU (compiled.NARROW_SIMD), 16 for the CPU's widest."""
    import torch._dynamo

    from docking.engines.torch_engine.compiled import compile_options

    ticks = 40
    params = SearchParams(micro_per_iter=0.25)  # short local optimisations: acceptance and store run too
    torch._dynamo.reset()
    tick = torch.compile(mc_tick, fullgraph=True, dynamic=False, options=compile_options(chains))

    def run(group):
        a, t, m, depth = batch_bucket(group)
        batch = LigandBatch.build(group, atoms=a, torsions=t, pairs=m, device=DEV)
        grid32.ensure(batch.types())
        gc, slots = grid32.consts(batch.types(), 10.0)
        lig = torch.arange(len(group), device=DEV).repeat_interleave(chains)
        c = pose_consts(batch, lig, slots, grid32.n_points, depth=depth, chains=chains)
        p = lig.shape[0]
        seeds = (torch.arange(p, dtype=torch.long, device=DEV) % chains) * 7919 + 5
        state = new_search(c, torch.tensor(CENTER, device=DEV), torch.tensor(SIZE, device=DEV), seeds,
                           torch.full((p,), 10**6, device=DEV), 4)
        for _ in range(ticks):
            state = tick(c, gc, state, params)
        return state

    alone, beside = run([tops[2]]), run([tops[2], tops[1] if partner == "amlodipine" else floppy])
    torch._dynamo.reset()
    assert alone.opt.g.shape[1] < beside.opt.g.shape[1]  # padded further beside the larger ligand
    assert int(alone.ch.step.min()) >= 2 and bool(torch.isfinite(alone.st.e).any())
    mine = slice(0, chains)  # ibuprofen's chains, the first ligand of both batches
    for part in ("ch", "opt", "st"):
        for name, want in getattr(alone, part)._asdict().items():
            got = getattr(getattr(beside, part), name)[mine]
            got = got[(slice(None), *(slice(0, n) for n in want.shape[1:]))]  # its own atoms and torsions
            assert torch.equal(got, want), f"{part}.{name}"


def test_compiled_plan_fills_batches_in_order_of_planned_ticks(grid32) -> None:
    from docking.engines.torch_engine.docker import TorchDocker

    tops = _tops([CAFFEINE, AMLODIPINE, IBUPROFEN, ABACAVIR, TRIPHENYLENE])
    keys = [bucket(t.n_atoms, t.n_torsions, len(t.pairs), max(t.pdbqt.depth())) for t in tops]
    assert len(set(keys)) >= 3  # several buckets ...
    docker = TorchDocker(grid32, max_batch=64)
    ticks = [docker.planned_ticks(t) for t in tops]
    # rigid triphenylene has more atoms than ibuprofen (a larger bucket) but fewer ticks to run
    assert keys[4] > keys[2] and ticks[4] < ticks[2]
    # ... but fewer ligands than a batch: one batch, so one graph to compile, not one per bucket
    (only,) = docker._plan(tops, compiled=True)
    assert sorted(only) == [0, 1, 2, 3, 4]
    # compiled on CPU, 20 ligands: batches of at most 8, longest search first (a batch runs until its
    # longest search ends), where a GPU would take them as one wide batch
    plan = docker._plan(tops * 4, compiled=True)
    assert [len(b) for b in plan] == [8, 8, 4]
    order = [ticks[i % 5] for b in plan for i in b]
    assert order == sorted(order, reverse=True)
    assert [{i % 5 for i in b} for b in plan] == [{1, 3}, {2, 4}, {0}]
    # a big run: batches of max_batch, longest first; the same order eager
    docker.max_batch = 2
    for compiled in (True, False):
        plan = docker._plan(tops, compiled=compiled)
        assert [len(b) for b in plan] == [2, 2, 1]
        assert [i for b in plan for i in b] == sorted(range(5), key=lambda i: -ticks[i])


def test_hopeless_local_optimisations_are_abandoned_and_rejected(grid32, tops) -> None:
    c, gc, state = _search(grid32, tops, 4, 10**6)
    for _ in range(3):
        state = mc_tick(c, gc, state, SearchParams())
    # every chain far below anything a mutant reaches: with a margin, each local optimisation is
    # abandoned after abort_after iterations, so the same ticks hold more Monte Carlo steps
    low = state._replace(ch=state.ch._replace(e=torch.full_like(state.ch.e, -1e3)))
    steps = {}
    for margin in (2.0, math.inf):
        s = low
        for _ in range(40):
            s = mc_tick(c, gc, s, SearchParams(abort_margin=margin))
        steps[margin] = int((s.ch.step - low.ch.step).sum())
    assert steps[2.0] > 1.5 * steps[math.inf]
    # an abandoned optimisation is rejected even where Metropolis would (nearly always) accept it
    ch = state.ch._replace(e=state.opt.f - 0.05, step=torch.ones_like(state.ch.step))
    ended = torch.isfinite(state.opt.f)
    assert bool(ended.any())
    kept, _st = search.mc_accept(c, ch, state.st, state.opt, state.x, ended, 1.2, 1.0)
    assert bool((kept.e != ch.e).any())
    rej, rej_st = search.mc_accept(c, ch, state.st, state.opt, state.x, ended, 1.2, 1.0, abandoned=ended)
    assert torch.equal(rej.e, ch.e) and torch.equal(rej.pos, ch.pos) and torch.equal(rej_st.e, state.st.e)


def test_first_trial_of_a_local_optimisation_is_shortened_where_asked(grid32, tops) -> None:
    c, gc, state = _search(grid32, tops, 4, 10**6)
    lengths = {}
    for first_step in (math.inf, 0.5):
        s = mc_tick(c, gc, state, SearchParams(first_step=first_step))
        # the optimisations that this tick started (from the random starts): first trial not yet tried
        new = s.opt.active & (s.opt.iters == 0) & (s.opt.trials == 0)
        assert bool(new.any())
        lengths[first_step] = (s.opt.alpha * s.opt.p.norm(dim=-1))[new]
    assert bool((lengths[math.inf] > 0.5).any())  # Vina's unit step on the raw gradient is longer ...
    assert float(lengths[0.5].max()) <= 0.5 + 1e-6  # ... and is cut to the length asked for
    assert float(lengths[0.5].min()) > 0.0


def test_line_search_gives_up_where_its_next_trial_would_be_shorter_than_min_step(grid32, tops) -> None:
    batch, gc, _slots, c = _setup(grid32, tops, 4, torch.float32)
    pos, q, tors = _random_poses(c, batch.n_torsions_max, torch.float32, seed=3, spread=8.0)
    opt = search.lbfgs_init(c, search.grid_energy(c, gc, search.HUNT_CAP), pos, q, tors)
    assert bool(opt.active.all())
    step, pos_t, quat_t, tors_t = search._trial(opt)
    length = opt.alpha * opt.p.norm(dim=-1)  # the trial's length; the next one is half of it
    cut = float(length.median())
    for ft, took in ((opt.f + 1.0, False), (opt.f - 1e3, True)):  # every trial fails, then holds
        for min_step, live in ((0.0, None), (cut, length / 2 >= cut)):
            out, ok = search._line_search(c, opt, step, pos_t, quat_t, tors_t, ft, opt.g, min_step)
            assert bool((ok == took).all())
            if took or live is None:  # Vina's 10 trials: one failure or a success keeps it going
                assert bool(out.active.all())
            else:
                assert torch.equal(out.active, live) and bool(live.any()) and bool((~live).any())


def test_failed_trial_is_followed_by_the_minimum_of_the_quadratic_where_asked(grid32, tops) -> None:
    batch, gc, _slots, c = _setup(grid32, tops, 4, torch.float32)
    pos, q, tors = _random_poses(c, batch.n_torsions_max, torch.float32, seed=3, spread=8.0)
    opt = search.lbfgs_init(c, search.grid_energy(c, gc, search.HUNT_CAP), pos, q, tors)
    step, pos_t, quat_t, tors_t = search._trial(opt)
    slope = opt.alpha * opt.pg  # the line's slope at its start times the trial step (< 0)
    # energies at the trial (in units of the tangent's drop above the tangent): as at the start (the
    # quadratic's minimum at half the step), as far above it again (a quarter), far above (0.1 at
    # least); then no energy at all
    for rise, shrink in ((1.0, 0.5), (2.0, 0.25), (1e6, 0.1)):
        ft = opt.f + slope + rise * -slope
        for interpolate, expect in ((False, 0.5), (True, shrink)):
            out, ok = search._line_search(c, opt, step, pos_t, quat_t, tors_t, ft, opt.g, interpolate=interpolate)
            assert not bool(ok.any()) and bool(out.active.all())
            assert torch.allclose(out.alpha, opt.alpha * expect, rtol=1e-4)
    out, _ok = search._line_search(c, opt, step, pos_t, quat_t, tors_t, torch.full_like(opt.f, float("inf")),
                                   opt.g, interpolate=True)
    assert torch.allclose(out.alpha, opt.alpha * 0.1)


def _armijo_drop(s: search.LocalOpt) -> torch.Tensor:
    """Twice the least energy drop that Armijo's test accepts for each pose's current trial."""
    return -2 * search.ARMIJO_C * s.alpha * s.pg


def test_optimisation_ends_where_two_accepted_steps_lowered_it_less_than_stall(grid32, tops) -> None:
    batch, gc, _slots, c = _setup(grid32, tops, 4, torch.float32)
    pos, q, tors = _random_poses(c, batch.n_torsions_max, torch.float32, seed=3, spread=8.0)
    opt = search.lbfgs_init(c, search.grid_energy(c, gc, search.HUNT_CAP), pos, q, tors)
    assert bool(opt.active.all()) and bool(torch.isinf(opt.f1).all())
    step, pos_t, quat_t, tors_t = search._trial(opt)
    # a first accepted step, however small its drop, does not stall: there is no step before it
    first, ok = search._line_search(c, opt, step, pos_t, quat_t, tors_t, opt.f - _armijo_drop(opt), opt.g, stall=1e3)
    assert bool(ok.all()) and bool(first.active.all()) and torch.equal(first.f1, opt.f)
    # a second one (a short trial, so that Armijo's test asks for little), after a first that lowered
    # nothing: the two steps' drop against stall = 0.05
    first = first._replace(f1=first.f, alpha=torch.full_like(first.alpha, 1e-6))
    step, pos_t, quat_t, tors_t = search._trial(first)
    p = opt.f.shape[0]
    drop = _armijo_drop(first) + torch.where(torch.arange(p, device=DEV) % 2 == 0, 0.01, 0.2).to(opt.f.dtype)
    ft = first.f - drop
    assert bool((drop > 0.05).any()) and bool((drop < 0.05).any())
    for stall, live in ((0.0, torch.ones(p, dtype=torch.bool, device=DEV)), (0.05, drop > 0.05)):
        out, ok = search._line_search(c, first, step, pos_t, quat_t, tors_t, ft, first.g, stall=stall)
        assert bool(ok.all()) and torch.equal(out.active, live), stall
        assert torch.equal(out.f1, first.f) and torch.equal(out.f, ft)  # the step is taken all the same
    # a failed trial neither stalls the optimisation nor moves its reference energy
    out, ok = search._line_search(c, first, step, pos_t, quat_t, tors_t, first.f + 1.0, first.g, stall=1e3)
    assert not bool(ok.any()) and bool(out.active.all()) and torch.equal(out.f1, first.f1)
    # with stall_after, only optimisations that have taken that many accepted steps (this one included)
    # may stall: here those whose counter stands at 2 or more before this step
    first = first._replace(iters=(torch.arange(p, device=DEV) % 4).to(first.iters.dtype))
    out, ok = search._line_search(c, first, step, pos_t, quat_t, tors_t, ft, first.g, stall=0.05, stall_after=3)
    assert bool(ok.all()) and torch.equal(out.active, (drop > 0.05) | (first.iters + 1 < 3))
    assert bool((first.iters + 1 < 3).any()) and bool(((drop < 0.05) & (first.iters + 1 >= 3)).any())


def test_first_steps_draw_new_random_poses_and_keep_only_lower_minima(grid32, tops) -> None:
    c, gc, state = _search(grid32, tops, 4, 10**6)
    for _ in range(3):
        state = mc_tick(c, gc, state, SearchParams())
    p = c.lig.shape[0]
    ch = state.ch._replace(step=torch.tensor([0, 1, 3, 4], device=DEV).repeat(p // 4))
    phase = (ch.step >= 1) & (ch.step < 4)
    # steps 1..starts-1: a new random pose anywhere on the grid (not a move of the current one),
    # another one at each step; step 0 keeps the random start; later steps mutate as Vina does
    pos, quat, tors = search.mutate(c, ch, 2.0, gc, starts=4)
    span = gc.upper / gc.inv_spacing
    r_pos, r_quat, r_tors = search.random_start(c, gc.origin + 0.5 * span, span, ch.seed, ch.step + (1 << 28))
    assert torch.allclose(pos[phase], r_pos[phase]) and torch.allclose(tors[phase], r_tors[phase])
    assert torch.allclose(quat[phase], r_quat[phase])
    assert bool(((pos >= gc.origin - 1e-4) & (pos <= gc.origin + span + 1e-4)).all())
    assert bool(((pos[phase] - ch.pos[phase]).norm(dim=-1) > 2.0).any())  # beyond a mutation's reach
    vina_like = search.mutate(c, ch, 2.0)
    assert torch.equal(pos[~phase], vina_like[0][~phase]) and torch.equal(tors[~phase], vina_like[2][~phase])
    assert not torch.equal(pos[phase], vina_like[0][phase])
    later = search.mutate(c, ch._replace(step=ch.step + 1), 2.0, gc, starts=4)[0]
    assert bool((later[1::4] != pos[1::4]).any(-1).all())  # step 2 draws another pose than step 1
    # acceptance: a minimum slightly above the chain's energy, which Metropolis nearly always
    # accepts, is kept during the start phase only if it is lower
    ch = ch._replace(e=state.opt.f - 0.05)
    ended = torch.isfinite(state.opt.f)
    assert bool((ended & phase).any())
    metropolis, _st = search.mc_accept(c, ch, state.st, state.opt, state.x, ended, 1.2, 1.0)
    greedy, _st = search.mc_accept(c, ch, state.st, state.opt, state.x, ended, 1.2, 1.0, starts=4)
    assert bool((metropolis.e != ch.e)[phase & ended].any())
    assert torch.equal(greedy.e[phase], ch.e[phase])
    assert torch.equal(greedy.e[~phase], metropolis.e[~phase])


def test_compiled_kernels_are_kept_in_dockdb_home(tmp_path, monkeypatch) -> None:
    from torch._inductor.runtime.cache_dir_utils import default_cache_dir

    from docking.engines.torch_engine.compiled import use_cache_dir

    monkeypatch.setenv("DOCKDB_HOME", str(tmp_path))
    # importing torch._dynamo has already set the variable to PyTorch's per-user default: not a choice
    monkeypatch.setenv("TORCHINDUCTOR_CACHE_DIR", default_cache_dir())
    assert use_cache_dir() == str(tmp_path / "torch_inductor")
    monkeypatch.delenv("TORCHINDUCTOR_CACHE_DIR")
    assert use_cache_dir() == str(tmp_path / "torch_inductor")
    # a directory the user chose wins
    monkeypatch.setenv("TORCHINDUCTOR_CACHE_DIR", str(tmp_path / "mine"))
    assert use_cache_dir() == str(tmp_path / "mine")


def test_compiled_tick_gets_the_cpu_code_generation_options() -> None:
    """The engine's inductor options exist in the installed PyTorch: ``compile_options`` drops
    unknown ones (older PyTorch), so a misspelt or renamed option would silently cost the 1.4-1.6x
    of docs/benchmarks.md ("Engine 1.5") instead of failing."""
    from docking.engines.torch_engine.compiled import CPU_OPTIONS, NARROW_SIMD, compile_options

    assert compile_options() == dict(CPU_OPTIONS)
    assert compile_options()["cpp.enable_loop_tail_vec"] is False
    # the wrapper's per-call input checks are off (engine 1.7.1)
    assert not any(compile_options()[k] for k in ("size_asserts", "alignment_asserts", "scalar_asserts"))
    # chain counts that 16 lanes do not divide compile for 8 lanes (engine 1.7: the chain is the
    # vector), the others for the machine's widest
    assert compile_options(8) == {**dict(CPU_OPTIONS), **dict(NARROW_SIMD)}
    assert compile_options(24)["cpp.simdlen"] == 256
    assert "cpp.simdlen" not in compile_options(16) and "cpp.simdlen" not in compile_options(128)


def test_the_docker_compiles_one_tick_per_vector_width() -> None:
    from docking.engines.torch_engine.compiled import between_function, tick_function

    assert tick_function(True, 8) is tick_function(True, 24)
    assert tick_function(True, 16) is tick_function(True, 128)
    assert tick_function(True, 8) is not tick_function(True, 16)
    # the line-search tick between two bookkeeping ticks: a compiled function of its own per width
    assert between_function(True, 8) is between_function(True, 24)
    assert between_function(True, 8) is not between_function(True, 16)
    assert between_function(True, 16) is not tick_function(True, 16)
    assert between_function(False) is search.ls_tick and tick_function(False) is mc_tick


def test_cpu_searches_keep_their_books_every_fourth_tick(grid32, tops) -> None:
    """Engine 1.10: on a CPU, compiled or eager, a batch runs its Monte Carlo bookkeeping (acceptance,
    store, mutation) every 4th tick and line-search ticks in between; a chain that ends its local
    optimisation waits for the next bookkeeping tick, so its ligand's planned ticks include that wait.
    ``period`` (engine parameter) sets it; 1 is engine 1.9's compiled search."""
    from dockdb.errors import EngineError
    from docking.engines.torch_engine import docker as dk
    from docking.engines.torch_engine.engine import TorchEngine
    from docking.engines.torch_engine.modes import Budget, bfgs_iterations

    d = dk.TorchDocker(grid32, budget=Budget(mode="balanced"))
    assert d.bookkeeping_period(True) == d.bookkeeping_period(False) == dk.CPU_PERIOD == 4
    every = dk.TorchDocker(grid32, budget=Budget(mode="balanced"), period=1)
    assert every.bookkeeping_period(True) == 1
    steps, cap = d.budget.steps_of(tops[0]), bfgs_iterations(tops[0].n_atoms)
    assert every.planned_ticks(tops[0]) == search.ticks_for(steps, cap)
    # the wait: on average 1.5 ticks per Monte Carlo step
    assert d.planned_ticks(tops[0]) == math.ceil(steps * (1 + search.EVALS_PER_ITER * cap + 1.5))
    assert d.planned_ticks(tops[0]) > every.planned_ticks(tops[0]) + steps
    # compiled CUDA batches: every tick unless a period is asked for (graphs.run_ticks replays either)
    assert dk.bookkeeping_period(0, True, True) == 1 and dk.bookkeeping_period(4, True, True) == 4
    assert dk.bookkeeping_period(0, False, True) == dk.bookkeeping_period(0, True, False) == 4
    eng = TorchEngine(device="cpu", period=1)
    assert eng._docker(grid32).period == 1 and TorchEngine(device="cpu")._docker(grid32).period == 0
    with pytest.raises(EngineError, match="period must be >= 0"):
        TorchEngine(device="cpu", period=-1)


def test_auto_compiles_a_cpu_search_only_when_compiling_repays_itself(grid32, tops, tmp_path, monkeypatch) -> None:
    """``compile=auto`` on a CPU: a one-ligand search compiles when it is long enough to repay a
    first compile (drug-sized ligands in every mode), or a later load from the on-disk cache once
    its shape has been compiled (a search of a few thousand ticks); short searches stay eager."""
    from docking.engines.torch_engine import docker as dk
    from docking.engines.torch_engine.compiled import compiled_before, mark_compiled
    from docking.engines.torch_engine.modes import Budget

    if DEV.type != "cpu":
        pytest.skip("a GPU always compiles")
    monkeypatch.setenv("TORCHINDUCTOR_CACHE_DIR", str(tmp_path / "inductor"))
    one = [tops[0]]  # abacavir, drug-sized

    def docker(mode: str, steps: int = 0, compile: str = "auto") -> dk.TorchDocker:
        return dk.TorchDocker(grid32, budget=Budget(mode=mode, steps=steps), compile=compile)

    long, middle, short = docker("balanced"), docker("fast", steps=300), docker("balanced", steps=20)
    assert long.planned_ticks(tops[0]) >= dk.AUTO_COMPILE_TICKS
    assert docker("fast").planned_ticks(tops[0]) >= dk.AUTO_COMPILE_TICKS
    assert dk.AUTO_COMPILE_TICKS_CACHED <= middle.planned_ticks(tops[0]) < dk.AUTO_COMPILE_TICKS
    assert short.planned_ticks(tops[0]) < dk.AUTO_COMPILE_TICKS_CACHED
    assert long._use_compile(one) and not short._use_compile(one)
    assert not docker("balanced", compile="off")._use_compile(one) and docker("fast", compile="on")._use_compile(one)
    # a middling search: eager until its shape is in the cache, then compiled
    key = middle.shape_key(one)
    assert not compiled_before(key) and not middle._use_compile(one)
    mark_compiled(key)
    assert compiled_before(key) and middle._use_compile(one)
    # a shape differs with anything the compiled graph bakes in: batch size, chains, bucket
    assert key != middle.shape_key([tops[0], tops[0]]) and key != long.shape_key(one)
    assert key != middle.shape_key([tops[3]]) and not middle._use_compile([tops[0], tops[3]])
    assert not short._use_compile(one)  # a short search stays eager even from the cache
    mark_compiled(short.shape_key(one))
    assert not short._use_compile(one)


@pytest.mark.slow
def test_a_compiled_run_marks_its_shape_as_cached(grid32, tops, tmp_path, monkeypatch) -> None:
    """What ``compile=auto`` reads back: a process that compiled a batch shape leaves its mark
    in the inductor cache directory, and the same shape asked again is found there."""
    from docking.engines.torch_engine import docker as dk
    from docking.engines.torch_engine.compiled import compiled_before
    from docking.engines.torch_engine.modes import Budget

    if DEV.type != "cpu":
        pytest.skip("CPU compile")
    monkeypatch.setenv("TORCHINDUCTOR_CACHE_DIR", str(tmp_path / "inductor"))
    d = dk.TorchDocker(grid32, budget=Budget(chains=8, steps=4), compile="on",
                       params=SearchParams(refine_candidates=2, n_poses=2), verify="on")
    caffeine = _prepared(CAFFEINE, "caffeine").variants[0].pdbqt
    key = d.shape_key([tops[3]])
    assert not compiled_before(key)
    out = d.dock([("caffeine", caffeine)], seed=1)
    assert d.compiled_batches == 1 and isinstance(out["caffeine"], list) and out["caffeine"]
    assert compiled_before(key)
    # the compiled first tick was checked against the eager one (as on CUDA) and agreed
    assert d.verified_shapes == {key} and not d.mismatched_shapes
    assert not compiled_before(d.shape_key([tops[2]]))  # ibuprofen: another bucket
