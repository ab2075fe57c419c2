"""The one check of engine parameters that every engine's constructor calls.

The search parameters engines share (exhaustiveness, n_poses, energy_range, min_rmsd, spacing)
are bounded here once; an engine adds its own numeric parameters with their minimum and its word
parameters with their choices.  Every violation is collected into a single :class:`EngineError` line, so a user who
passes ``--param chains=-1 --param mode=bogus`` learns about both at once.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from dockdb.errors import EngineError

__all__ = ["SHARED_ABOVE", "SHARED_AT_LEAST", "check_params", "param_value"]

SHARED_AT_LEAST: dict[str, float] = {"exhaustiveness": 1, "n_poses": 1, "energy_range": 0, "min_rmsd": 0}
SHARED_ABOVE: dict[str, float] = {"spacing": 0}


def check_params(
    engine: str,
    values: Mapping[str, Any],
    *,
    at_least: Mapping[str, float] | None = None,
    above: Mapping[str, float] | None = None,
    choices: Mapping[str, Collection[str]] | None = None,
) -> None:
    """Raise one EngineError naming each value of *values* below its ``at_least`` minimum, not above its
    ``above`` bound, not a number, or outside its ``choices``; ``None`` values (optional parameters) pass.

    The shared bounds (``SHARED_AT_LEAST``, ``SHARED_ABOVE``) apply to those of their names in *values*.
    """
    problems = []
    for name, allowed in (choices or {}).items():
        value = values.get(name)
        if value not in allowed:
            problems.append(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
    bounds = [(name, low, True) for name, low in {**SHARED_AT_LEAST, **(at_least or {})}.items() if name in values]
    bounds += [(name, low, False) for name, low in {**SHARED_ABOVE, **(above or {})}.items() if name in values]
    for name, low, inclusive in bounds:
        value = values.get(name)
        if value is None:
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            problems.append(f"{name} must be a number, not {value!r}")
            continue
        if number != number:  # NaN passes every comparison below
            problems.append(f"{name} must be a number, not {value!r}")
        elif number < low or (number == low and not inclusive):
            problems.append(f"{name} must be {'>=' if inclusive else '>'} {low:g}, not {value!r}")
    if problems:
        raise EngineError(f"bad {engine} engine parameters: {'; '.join(problems)}")


def param_value(text: str) -> int | float | bool | str:
    """A parameter value written as text (``--param chains=64``, ``torch:mode=detail``): true/false,
    an int, a float, else the stripped text."""
    low = text.strip().lower()
    if low in ("true", "false"):
        return low == "true"
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text.strip()
