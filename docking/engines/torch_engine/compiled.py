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

__all__ = ["CPU_OPTIONS", "NARROW_SIMD", "compile_options", "compile_seconds", "narrow_simd", "tick_function",
           "use_cache_dir"]

# inductor's C++ (CPU) code generation: no masked vector loops for the tails.  The tick's
# tensors mostly end in dimensions of 3 (x, y, z) or 2 x 2 x 2 (grid cell corners), which the
# default vectorises as one 16-lane loop with 13 lanes masked off; scalar tails run those
# loops plainly and keep the long dimensions (pairs, atoms) vectorised.  Measured on the
# compiled energy evaluation: 1.9x faster (docs/benchmarks.md, "Engine 1.5: scalar loop tails").
# Triton (CUDA) code generation ignores these settings.
CPU_OPTIONS: tuple[tuple[str, Any], ...] = (("cpp.enable_loop_tail_vec", False),)

# a search batch evaluates with the chain innermost (chainmajor.py), so a CPU loop is one
# vector of chains per atom: with 8 chains per ligand (``fast``) a 16-lane AVX-512 vector would
# be all tail (scalar code), so such batches compile for 8 lanes (measured: docs/benchmarks.md,
# "Engine 1.7")
NARROW_SIMD: tuple[tuple[str, Any], ...] = (("cpp.simdlen", 256),)

_COMPILED: dict[bool, Callable[..., Any]] = {}
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


def narrow_simd(chains: int) -> bool:
    """Whether a batch of ``chains`` chains per ligand compiles for 8-lane vectors: chain
    counts that 16 lanes do not divide (8, 24, ...)."""
    return chains % 16 != 0 and chains % 8 == 0


def compile_options(chains: int = 16) -> dict[str, Any]:
    """The :data:`CPU_OPTIONS` (and :data:`NARROW_SIMD` where :func:`narrow_simd` says so for
    ``chains`` chains per ligand) this PyTorch's inductor knows (``torch.compile`` rejects an
    unknown option, and the engine supports PyTorch versions from before some of them)."""
    import torch._inductor.config as inductor_config

    known: dict[str, Any] = {}
    for key, value in CPU_OPTIONS + (NARROW_SIMD if narrow_simd(chains) else ()):
        section, _, name = key.partition(".")
        if hasattr(getattr(inductor_config, section, None), name):
            known[key] = value
    return known


def tick_function(compiled: bool, chains: int = 16) -> Callable[..., Any]:
    """:func:`.search.mc_tick`, eager or compiled for batches of ``chains`` chains per ligand;
    a compiled one is made once per process and vector width (each new bucket shape compiles
    on its first call)."""
    from .search import mc_tick

    if not compiled:
        return mc_tick
    narrow = narrow_simd(chains)
    if narrow not in _COMPILED:
        use_cache_dir()
        import torch
        import torch._dynamo

        torch._dynamo.config.cache_size_limit = max(torch._dynamo.config.cache_size_limit, 64)

        def tick(*args: Any) -> Any:  # a function of its own per width: its own Dynamo cache
            return mc_tick(*args)

        options = compile_options(chains)
        _COMPILED[narrow] = _timed(torch.compile(tick, fullgraph=True, dynamic=False, options=options))
    return _COMPILED[narrow]


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
