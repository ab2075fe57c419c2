"""Registry of docking engines: ``register_engine``, ``get_engine``, ``available_engines``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from dockdb.errors import EngineError
from docking.engines.base import DockingEngine, EnginePose, LigandDockResult, ScoredPose

__all__ = [
    "DockingEngine",
    "EnginePose",
    "LigandDockResult",
    "ScoredPose",
    "available_engines",
    "get_engine",
    "register_engine",
    "require_packages",
]

_REGISTRY: dict[str, type[DockingEngine]] = {}
_BUILTINS = {
    "vina": "docking.engines.vina_engine",
    "vinardo": "docking.engines.vina_engine",
    "torch": "docking.engines.torch_engine.engine",
}

# Engines that need an optional package: (module, how to install it). Checked before an engine is built, so
# a missing package is one line naming the install command, not an import traceback from inside a run.
_OPTIONAL_PACKAGES = {
    "torch": (
        "torch",
        "the torch engine needs PyTorch, which is not installed; install the CPU build with "
        "`.venv/bin/pip install torch --index-url https://download.pytorch.org/whl/cpu` "
        "(or `pip install -e '.[gpu]'` for CUDA)",
    ),
}

E = TypeVar("E", bound=type[DockingEngine])


def register_engine(name: str) -> Callable[[E], E]:
    """Class decorator registering a DockingEngine under ``name``."""

    def deco(cls: E) -> E:
        if name in _REGISTRY and _REGISTRY[name] is not cls:
            raise EngineError(f"engine name {name!r} is already registered; choose another name")
        _REGISTRY[name] = cls
        return cls

    return deco


def _load_builtins() -> None:
    import importlib

    for module in set(_BUILTINS.values()):
        importlib.import_module(module)


def available_engines() -> list[str]:
    """Names of all registered engines (built-ins included)."""
    _load_builtins()
    return sorted(_REGISTRY)


def get_engine(name: str, **params: Any) -> DockingEngine:
    """Instantiate the engine registered as ``name`` with ``params``."""
    names = available_engines()
    if name not in _REGISTRY:
        raise EngineError(f"unknown docking engine {name!r}; choose one of: {', '.join(names)}")
    require_packages(name)
    try:
        return _REGISTRY[name](**params)
    except TypeError as exc:
        raise EngineError(f"bad parameters for engine {name!r}: {exc}") from exc


def require_packages(name: str) -> None:
    """Raise a one-line :class:`EngineError` when engine *name* needs a package that is not installed."""
    import importlib.util

    module, message = _OPTIONAL_PACKAGES.get(name, (None, ""))
    if module is not None and importlib.util.find_spec(module) is None:
        raise EngineError(message)
