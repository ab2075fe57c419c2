"""Parallel tempering between a ligand's chains (``tempering.py``): who swaps with whom, when,
with what probability, and what a swap carries."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from docking.engines.torch_engine.tempering import exchange_partner, ladder_factor, ladder_level  # noqa: E402

CPU = torch.device("cpu")
INF = float("inf")


def _partner(e: list[float], tick: int, u: float = 0.0, levels: int = 4, every: int = 8, top: float = 2.0):
    lev = ladder_level(len(e), levels, CPU)
    temps = 1.2 * ladder_factor(lev, levels, top, torch.float64)
    et = torch.tensor(e, dtype=torch.float64)
    return exchange_partner(lev, levels, torch.tensor(tick), every, et, temps, torch.full((len(e),), u)).tolist()


def test_ladder_runs_from_the_search_temperature_to_the_top_geometrically() -> None:
    lev = ladder_level(8, 4, CPU)
    assert lev.tolist() == [0, 1, 2, 3, 0, 1, 2, 3]
    f = ladder_factor(lev, 4, 8.0, torch.float64)
    assert torch.allclose(f, torch.tensor([1.0, 2.0, 4.0, 8.0] * 2, dtype=torch.float64))


def test_neighbours_swap_alternately_and_only_inside_a_ladder() -> None:
    e = [-5.0, -9.0, -3.0, -4.0, 0.0, -1.0, -2.0, -2.5]  # two ladders of four (one ligand's 8 chains)
    assert _partner(e, 0) == [1, 0, 3, 2, 5, 4, 7, 6]  # even rounds: (0, 1), (2, 3)
    assert _partner(e, 8) == [0, 2, 1, 3, 4, 6, 5, 7]  # odd rounds: (1, 2); never 3 with 4 (next ladder)
    assert _partner(e, 3) == list(range(8))  # between swap ticks: nobody
    for tick in (0, 8, 16, 24):
        p = _partner(e, tick, u=0.5)
        assert [p[i] for i in p] == list(range(8))  # an involution: both members of a pair agree
        assert all(i // 4 == j // 4 for i, j in enumerate(p))


def test_a_lower_energy_always_moves_down_the_ladder_a_higher_one_by_metropolis() -> None:
    # cold chain 0 at -5, hot chain 1 at -9: swapping lowers the cold chain's energy, so it always swaps
    assert _partner([-5.0, -9.0, 0.0, 0.0], 0, u=0.999)[:2] == [1, 0]
    # cold at -9, hot at -5: probability exp((1/1.2 - 1/1.2 / 2^(1/3)) * (-4)) ~ 0.50
    t0, t1 = 1.2, 1.2 * 2.0 ** (1 / 3)
    prob = float(torch.exp(torch.tensor((1 / t0 - 1 / t1) * (-9.0 + 5.0))))
    assert 0.45 < prob < 0.55
    assert _partner([-9.0, -5.0, 0.0, 0.0], 0, u=prob - 0.01)[:2] == [1, 0]
    assert _partner([-9.0, -5.0, 0.0, 0.0], 0, u=prob + 0.01)[:2] == [0, 1]
    # a chain without a first step (+inf) never swaps
    assert _partner([INF, -9.0, -1.0, INF], 0) == [0, 1, 2, 3]
