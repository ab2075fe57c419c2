"""The search tick replayed as a CUDA graph.

A compiled tick is one Python call that launches every kernel of its graph; on a GPU at search
batch sizes that launching, not the kernels, is most of a tick (measured on an H200 at 64
ligands x 48 chains: 1.3-2.3 ms a tick called plainly, 0.24 ms replayed as a CUDA graph of 8
ticks; docs/benchmarks.md, "GPU").  So a CUDA search captures :data:`GRAPH_TICKS` ticks once
per batch, state held in fixed buffers, and replays them.  The tick is already written for this
(fixed shapes, no host synchronisation, no host-to-device copy, random numbers hashed on the
device).  The first replay is compared with the same ticks called plainly; where capture fails
or the two differ, the batch goes on with plain calls, so a graph can only make a search
faster, never different.  The eager tick is replayed the same way where a shape's compiled tick
disagreed with it (``TorchDocker.verify``): it launches ~10x the kernels of the compiled one,
so on a GPU it gains more from a graph.

A graph may also hold a Monte Carlo bookkeeping tick every ``period``-th tick and line-search ticks
in between (:func:`.search.advance`, engine 1.10's CPU schedule): with ``k`` a multiple of
``period`` every replay starts at the same phase, so one captured graph serves them all.  Compiled
CUDA batches use it only when asked (``--param period=N``), until a GPU measures whether it pays
(``bench/torch_device_check.py --period``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import torch

from .search import advance, exchange, ls_tick

__all__ = ["GRAPH_TICKS", "run_ticks"]

log = logging.getLogger(__name__)

GRAPH_TICKS = 16  # ticks per replay: launch cost spread over 16 ticks; longer graphs hold more buffers


def _leaves(state: Any) -> list[torch.Tensor]:
    out: list[torch.Tensor] = []
    for v in state:
        out.extend(_leaves(v) if isinstance(v, tuple) else [v])
    return out


def _clone(state: Any) -> Any:
    return type(state)(*(_clone(v) if isinstance(v, tuple) else v.clone() for v in state))


def _advance(tick: Callable[..., Any], c: Any, gc: Any, buf: Any, params: Any, k: int, start: int = 0,
             swap: Callable[..., Any] = exchange, period: int = 1, between: Callable[..., Any] = ls_tick) -> None:
    """``k`` ticks (numbers ``start`` on) from the state in ``buf``, written back into ``buf``."""
    s = advance(tick, c, gc, buf, params, start, start + k, period, swap, between)
    for dst, src in zip(_leaves(buf), _leaves(s), strict=True):
        dst.copy_(src)


def _same(a: Any, b: Any) -> bool:
    for x, y in zip(_leaves(a), _leaves(b), strict=True):
        eq = x == y
        if x.is_floating_point():
            eq = eq | (torch.isnan(x) & torch.isnan(y))
        if not bool(eq.all()):
            return False
    return True


def run_ticks(
    tick: Callable[..., Any], c: Any, gc: Any, state: Any, params: Any, n: int, k: int = GRAPH_TICKS,
    start: int = 0, swap: Callable[..., Any] = exchange, period: int = 1, between: Callable[..., Any] = ls_tick,
) -> tuple[Any, bool]:
    """``n`` ticks of ``tick`` (compiled or eager) from ``state`` (tick number ``start``) on CUDA, with
    the tempering ladders' swaps (``swap``) where due and ``between`` (:func:`.search.ls_tick`) on the
    ticks between two of ``tick``'s every ``period``-th (:func:`.search.advance`): replays of a captured
    graph of ``k`` ticks (plain calls for the remainder), or plain calls throughout where capture
    fails, the first replay differs from plain calls, or swaps or bookkeeping ticks fall at places
    that differ from one replay to the next (``k`` not a multiple of ``swap_every`` or of
    ``period``).  Returns the state and whether graphs ran."""

    def plain(s: Any, first: int, count: int) -> Any:
        return advance(tick, c, gc, s, params, first, first + count, period, swap, between)

    if n < 2 * k or (params.ladder > 1 and k % params.swap_every) or k % period:
        return plain(state, start, n), False
    ref = plain(state, start, k)  # the first k ticks called plainly: what the first replay must give
    try:
        static = _clone(state)
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):  # warm-up outside the capture, on a scratch copy
            _advance(tick, c, gc, _clone(state), params, k, start, swap, period, between)
        torch.cuda.current_stream().wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            _advance(tick, c, gc, static, params, k, start, swap, period, between)
        graph.replay()
        agree = _same(static, ref)
    except RuntimeError as e:
        log.warning("CUDA graph capture of the search tick failed (%s); plain calls instead", e)
        agree = False
    if not agree:
        log.warning("the search tick replayed as a CUDA graph differs from plain calls; plain calls instead")
        return plain(ref, start + k, n - k), False
    rounds, rest = divmod(n - k, k)
    for _ in range(rounds):
        graph.replay()
    return plain(static, start + k * (rounds + 1), rest), True
