"""The search tick, eager or compiled with ``torch.compile(fullgraph=True)``.

Compiled graphs are kept on disk by PyTorch inductor's cache; its directory defaults to
``<DOCKDB_HOME>/torch_inductor`` (``TORCHINDUCTOR_CACHE_DIR`` wins when set), so a second
process of the same bucket loads kernels instead of compiling them.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["CPU_OPTIONS", "compile_options", "compile_seconds", "tick_function", "use_cache_dir"]

# inductor's C++ (CPU) code generation: no masked vector loops for the tails.  The tick's
# tensors mostly end in dimensions of 3 (x, y, z) or 2 x 2 x 2 (grid cell corners), which the
# default vectorises as one 16-lane loop with 13 lanes masked off; scalar tails run those
# loops plainly and keep the long dimensions (pairs, atoms) vectorised.  Measured on the
# compiled energy evaluation: 1.9x faster (docs/benchmarks.md, "Engine 1.5: scalar loop tails").
# Triton (CUDA) code generation ignores these settings.
CPU_OPTIONS: tuple[tuple[str, Any], ...] = (("cpp.enable_loop_tail_vec", False),)

_COMPILED: Callable[..., Any] | None = None
_COMPILE_SECONDS: list[float] = []


def _cache_dir() -> Path:
    from dockdb.config import Config

    try:
        home = Config.load().home
    except Exception:  # a broken DOCKDB_* setting is reported by the CLI, not here
        home = Path.home() / ".cache" / "dockdb"
    return Path(home) / "torch_inductor"


def use_cache_dir() -> str:
    """Point inductor's on-disk cache at ``<DOCKDB_HOME>/torch_inductor`` unless the user chose
    a directory.  Importing ``torch._dynamo`` already sets ``TORCHINDUCTOR_CACHE_DIR`` to
    PyTorch's default (a per-user directory under /tmp), so that value counts as not chosen."""
    from torch._inductor.runtime.cache_dir_utils import default_cache_dir

    current = os.environ.get("TORCHINDUCTOR_CACHE_DIR")
    if current is None or os.path.abspath(current) == os.path.abspath(default_cache_dir()):
        os.environ["TORCHINDUCTOR_CACHE_DIR"] = str(_cache_dir())
    return os.environ["TORCHINDUCTOR_CACHE_DIR"]


def compile_options() -> dict[str, Any]:
    """The :data:`CPU_OPTIONS` this PyTorch's inductor knows (``torch.compile`` rejects an
    unknown option, and the engine supports PyTorch versions from before some of them)."""
    import torch._inductor.config as inductor_config

    known: dict[str, Any] = {}
    for key, value in CPU_OPTIONS:
        section, _, name = key.partition(".")
        if hasattr(getattr(inductor_config, section, None), name):
            known[key] = value
    return known


def tick_function(compiled: bool) -> Callable[..., Any]:
    """:func:`.search.mc_tick`, eager or compiled; the compiled one is made once per process
    (each new bucket shape compiles on its first call)."""
    from .search import mc_tick

    if not compiled:
        return mc_tick
    global _COMPILED
    if _COMPILED is None:
        use_cache_dir()
        import torch
        import torch._dynamo

        torch._dynamo.config.cache_size_limit = max(torch._dynamo.config.cache_size_limit, 64)
        _COMPILED = _timed(torch.compile(mc_tick, fullgraph=True, dynamic=False, options=compile_options()))
    return _COMPILED


def _timed(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Record the wall time of calls that compiled (the first of each shape)."""
    import torch._dynamo.utils as du

    def call(*args: Any, **kwargs: Any) -> Any:
        before = du.counters["stats"]["unique_graphs"]
        t0 = time.perf_counter()
        out = fn(*args, **kwargs)
        if du.counters["stats"]["unique_graphs"] != before:
            _COMPILE_SECONDS.append(time.perf_counter() - t0)
        return out

    return call


def compile_seconds() -> float:
    """Seconds this process spent in calls that compiled a graph."""
    return float(sum(_COMPILE_SECONDS))
