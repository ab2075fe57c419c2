"""The search tick, eager or compiled with ``torch.compile(fullgraph=True)``.

Compiled graphs are kept on disk by PyTorch inductor's cache; its directory defaults to
``<DOCKDB_HOME>/torch_inductor`` (``TORCHINDUCTOR_CACHE_DIR`` wins when set), so a second
process of the same bucket loads kernels instead of compiling them.

A process that compiles a batch shape also leaves a marker for it (:func:`mark_compiled`), so
that ``compile=auto`` can tell a shape a later process would load from the cache in seconds
from one it would compile for a minute or more (:func:`compiled_before`).
"""

from __future__ import annotations

import functools
import hashlib
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["CPU_OPTIONS", "NARROW_SIMD", "between_function", "compile_options", "compile_seconds", "compiled_before",
           "exchange_function", "mark_compiled", "narrow_simd", "shape_key", "tick_function", "ticks_agree",
           "use_cache_dir"]

# inductor's C++ (CPU) code generation: no masked vector loops for the tails.  The tick's
# tensors mostly end in dimensions of 3 (x, y, z) or 2 x 2 x 2 (grid cell corners), which the
# default vectorises as one 16-lane loop with 13 lanes masked off; scalar tails run those
# loops plainly and keep the long dimensions (pairs, atoms) vectorised.  Measured on the
# compiled energy evaluation: 1.9x faster (docs/benchmarks.md, "Engine 1.5: scalar loop tails").
# Triton (CUDA) code generation ignores these settings.
# The generated wrapper also checks every input's size, stride and alignment on every call: the
# guards already pin the shapes, and on a one-ligand CPU run, where the wrapper's Python is most
# of a tick, leaving the checks out took 8.5 % off the tick (docs/benchmarks.md, "Engine 1.7.1").
CPU_OPTIONS: tuple[tuple[str, Any], ...] = (
    ("cpp.enable_loop_tail_vec", False), ("size_asserts", False), ("alignment_asserts", False),
    ("scalar_asserts", False),
)

# a search batch evaluates with the chain innermost (chainmajor.py), so a CPU loop is one
# vector of chains per atom: with 8 chains per ligand (``fast``) a 16-lane AVX-512 vector would
# be all tail (scalar code), so such batches compile for 8 lanes (measured: docs/benchmarks.md,
# "Engine 1.7")
NARROW_SIMD: tuple[tuple[str, Any], ...] = (("cpp.simdlen", 256),)

_COMPILED: dict[tuple[str, bool], Callable[..., Any]] = {}
_COMPILE_SECONDS: list[float] = []


def _cache_dir() -> Path:
    from dockdb.config import Config

    try:
        home = Config.load().home
    except Exception:  # a broken DOCKDB_* setting is reported by the CLI, not here
        home = Path.home() / ".cache" / "dockdb"
    return Path(home) / "torch_inductor"


def _chosen_cache_dir() -> str:
    """The directory :func:`use_cache_dir` points inductor at, without setting it."""
    from torch._inductor.runtime.cache_dir_utils import default_cache_dir

    current = os.environ.get("TORCHINDUCTOR_CACHE_DIR")
    if current is None or os.path.abspath(current) == os.path.abspath(default_cache_dir()):
        return str(_cache_dir())
    return current


def use_cache_dir() -> str:
    """Point inductor's on-disk cache at ``<DOCKDB_HOME>/torch_inductor`` unless the user chose
    a directory.  Importing ``torch._dynamo`` already sets ``TORCHINDUCTOR_CACHE_DIR`` to
    PyTorch's default (a per-user directory under /tmp), so that value counts as not chosen."""
    os.environ["TORCHINDUCTOR_CACHE_DIR"] = _chosen_cache_dir()
    return os.environ["TORCHINDUCTOR_CACHE_DIR"]


@functools.cache
def _source_digest() -> str:
    """Digest of this engine's source: a changed search compiles new graphs."""
    h = hashlib.sha256()
    for f in sorted(Path(__file__).parent.glob("*.py")):
        h.update(f.name.encode() + b"\0" + f.read_bytes())
    return h.hexdigest()


def shape_key(*parts: object) -> str:
    """Name of a compiled batch shape: ``parts`` (device, dtype, padded sizes, search
    constants), the engine's source and the PyTorch version."""
    import torch

    text = repr((torch.__version__, _source_digest(), *parts))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _marker(key: str) -> Path:
    return Path(_chosen_cache_dir()) / "dockdb_shapes" / key


def compiled_before(key: str) -> bool:
    """Whether a process compiled shape ``key`` into the on-disk cache (:func:`mark_compiled`)."""
    return _marker(key).exists()


def mark_compiled(key: str) -> None:
    """Note that shape ``key`` is in the on-disk cache; a cache that cannot be written is
    only a slower next start, so errors are ignored."""
    try:
        _marker(key).parent.mkdir(parents=True, exist_ok=True)
        _marker(key).touch()
    except OSError:
        pass


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
        *section, name = key.split(".")
        owner = getattr(inductor_config, section[0], None) if section else inductor_config
        if hasattr(owner, name):
            known[key] = value
    return known


def tick_function(compiled: bool, chains: int = 16) -> Callable[..., Any]:
    """:func:`.search.mc_tick`, eager or compiled for batches of ``chains`` chains per ligand;
    a compiled one is made once per process and vector width (each new bucket shape compiles
    on its first call)."""
    from .search import mc_tick

    return _compiled_tick("mc", mc_tick, chains) if compiled else mc_tick


def between_function(compiled: bool, chains: int = 16) -> Callable[..., Any]:
    """:func:`.search.ls_tick` (a tick of line searches alone, run between two Monte Carlo
    bookkeeping ticks, :func:`.search.advance`), eager or compiled as :func:`tick_function`."""
    from .search import ls_tick

    return _compiled_tick("ls", ls_tick, chains) if compiled else ls_tick


def _compiled_tick(kind: str, fn: Callable[..., Any], chains: int) -> Callable[..., Any]:
    narrow = narrow_simd(chains)
    if (kind, narrow) not in _COMPILED:
        use_cache_dir()
        import torch
        import torch._dynamo

        torch._dynamo.config.cache_size_limit = max(torch._dynamo.config.cache_size_limit, 64)

        def tick(*args: Any, **kwargs: Any) -> Any:  # a function of its own per kind and width: its own Dynamo cache
            return fn(*args, **kwargs)

        options = compile_options(chains)
        _COMPILED[kind, narrow] = _timed(torch.compile(tick, fullgraph=True, dynamic=False, options=options))
    return _COMPILED[kind, narrow]


def exchange_function(compiled: bool) -> Callable[..., Any]:
    """:func:`.search.exchange` (the tempering ladders' configuration swaps), eager or compiled: a
    small graph of its own, called on swap ticks only (:func:`.search.advance`)."""
    from .search import exchange

    return _compiled_exchange() if compiled else exchange


@functools.cache
def _compiled_exchange() -> Callable[..., Any]:
    """The compiled :func:`.search.exchange`, made once per process (each shape compiles on its first call)."""
    use_cache_dir()
    import torch

    from .search import exchange

    def swap(*args: Any) -> Any:
        return exchange(*args)

    return _timed(torch.compile(swap, fullgraph=True, dynamic=False, options=compile_options()))


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


def ticks_agree(compiled: Any, eager: Any, rel: float = 1e-3, share: float = 0.01) -> bool:
    """Whether one compiled tick and one eager tick from the same search state computed the
    same energies and gradients (``opt.f``, ``opt.g``): each pose within ``rel`` x (1 + |value|),
    except at most ``share`` of the poses (rounding can tip a coordinate across a grid cell or the
    box edge).  One host synchronisation, once per compiled shape, before the search loop.

    Inductor's code is checked against the eager tick because it has computed wrong results
    where the eager code was right: on CUDA the pair-force scatter gave a wrong gradient with the
    right energy (docs/benchmarks.md, "GPU"), and on CPU an earlier tree scatter did (kinematics)."""
    import torch

    bad = torch.zeros_like(eager.opt.f, dtype=torch.bool)
    for a, b in ((compiled.opt.f, eager.opt.f), (compiled.opt.g, eager.opt.g)):
        a2, b2 = a.reshape(a.shape[0], -1), b.reshape(b.shape[0], -1)
        fin = torch.isfinite(a2) & torch.isfinite(b2)
        off = ~fin & (torch.isfinite(a2) | torch.isfinite(b2))  # finite in one only
        far = fin & ((a2 - b2).abs() > rel * (1.0 + b2.abs()))
        bad |= (off | far).any(1)
    return int(bad.sum()) <= share * bad.numel() + 1
