"""docking/engines/torch_engine/ordered.py: sums that zero padding does not change, eager and compiled."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from docking.engines.torch_engine.ordered import WIDTH, ordered_dot, ordered_sum  # noqa: E402


def _rows(n: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(64, n, generator=g) * torch.logspace(-3, 3, n)  # magnitudes that round


@pytest.mark.parametrize("n", [5, 14, WIDTH, 17, 38, 300])
def test_eager_sum_is_the_same_under_any_zero_padding(n: int) -> None:
    v = _rows(n)
    want = ordered_sum(v)
    for extra in (1, 2, WIDTH - 1, WIDTH, 3 * WIDTH + 5, WIDTH * WIDTH):
        assert torch.equal(ordered_sum(torch.nn.functional.pad(v, (0, extra))), want), extra
    assert torch.allclose(want.double(), v.double().sum(-1), rtol=1e-5, atol=1e-3)
    assert torch.equal(ordered_dot(v, torch.ones_like(v)), want)


def test_plain_sum_is_not_the_same_under_padding() -> None:
    # what ordered_sum is for: Tensor.sum of a search vector rounds differently once padded
    v = _rows(14)
    assert not torch.equal(torch.nn.functional.pad(v, (0, 6)).sum(-1), v.sum(-1))


def test_compiled_sum_is_the_same_under_zero_padding() -> None:
    # with the engine's code generation options, under which a reduction of 14 entries is scalar
    # code and one of 16 or 24 a vector (and a tail): Tensor.sum rounds the three apart
    import torch._dynamo

    from docking.engines.torch_engine.compiled import compile_options

    torch._dynamo.reset()
    f = torch.compile(lambda a, b: ordered_dot(a, b), fullgraph=True, dynamic=False, options=compile_options())
    v, w = _rows(14), _rows(14, seed=1)
    pad = torch.nn.functional.pad
    got = f(v, w)
    for extra in (2, 10):
        assert torch.equal(f(pad(v, (0, extra)), pad(w, (0, extra))), got), extra
    assert torch.allclose(got.double(), (v.double() * w.double()).sum(-1), rtol=1e-5, atol=1e-3)
    torch._dynamo.reset()
