"""Count host synchronisations and host->device tensor creations while code runs (CPU is
enough: the calls are counted, not timed).  Used by the torch engine's tests and benchmarks."""

from __future__ import annotations

from typing import Any

__all__ = ["COPY", "SYNC", "SyncCounter"]

# Tensor methods that make the host wait for the device, and torch functions that copy host data
SYNC = ("item", "tolist", "cpu", "numpy", "nonzero", "__bool__", "__int__", "__float__", "__index__")
COPY = ("tensor", "as_tensor", "from_numpy")


class SyncCounter:
    """Context manager: ``calls`` lists every such call made inside it, by name."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self._saved: list[tuple[Any, str, Any]] = []

    @property
    def syncs(self) -> int:
        return sum(name in SYNC for name in self.calls)

    @property
    def copies(self) -> int:
        return sum(name in COPY for name in self.calls)

    def _wrap(self, owner: Any, name: str) -> None:
        orig = getattr(owner, name)
        self._saved.append((owner, name, orig))

        def wrapped(*a: Any, **k: Any) -> Any:
            self.calls.append(name)
            return orig(*a, **k)

        setattr(owner, name, wrapped)

    def __enter__(self) -> SyncCounter:
        import torch

        for name in SYNC:
            self._wrap(torch.Tensor, name)
        for name in COPY:
            self._wrap(torch, name)
        return self

    def __exit__(self, *exc: object) -> None:
        for owner, name, orig in reversed(self._saved):
            setattr(owner, name, orig)
        self._saved.clear()
