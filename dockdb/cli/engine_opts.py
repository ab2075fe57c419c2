"""Engine options shared by `dockdb dock` and `dockdb campaign create`: --device and --param."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import click

from dockdb.errors import InputError


def engine_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--device`` and repeatable ``--param KEY=VALUE`` to a command."""
    func = click.option(
        "--param", "engine_param", multiple=True, metavar="KEY=VALUE",
        help="Extra engine parameter, repeatable (e.g. torch: mode=fast|balanced|detail, chains=16, steps=300).",
    )(func)
    return click.option(
        "--device", default=None, metavar="cuda|cpu|auto",
        help="Device for GPU-capable engines (torch); default auto: CUDA when present.",
    )(func)


def extra_engine_params(device: str | None, pairs: Iterable[str]) -> dict[str, Any]:
    """``--device``/``--param`` values as engine parameters; malformed pairs are an InputError."""
    from docking.engines.params import param_value  # not at import: every CLI command loads this module

    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise InputError(f"--param {pair!r} is not KEY=VALUE; write it like --param chains=64")
        out[key.strip()] = param_value(value)
    if device is not None:
        out["device"] = device
    return out
