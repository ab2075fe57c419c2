"""Strict parsing of query-string parameters: a bad value raises :class:`BadParameter`.

Every error names the parameter, so the API answers 400 with a message like
``page_size must be an integer between 1 and 500``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from dockdb.errors import InputError, NotFoundError

MAX_TEXT = 200


class BadParameter(InputError):
    """A query parameter that cannot be used (an :class:`~dockdb.errors.InputError` naming the
    parameter); becomes HTTP 400."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(f"{parameter}: {message}")
        self.parameter = parameter
        self.message = message


class NotFound(NotFoundError):
    """An unknown id or key asked of the portal (a :class:`~dockdb.errors.NotFoundError`); HTTP 404."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Params:
    """Typed accessors over a request's query arguments."""

    def __init__(self, args: Mapping[str, Any], *, empty_is_error: bool = False) -> None:
        """``empty_is_error``: a parameter given with an empty value (``?source=``) is an error for
        the choices, as the API's OpenAPI document says; HTML forms may send empty selects."""
        self.args = args
        self.empty_is_error = empty_is_error

    def _raw(self, name: str) -> str | None:
        value = self.args.get(name)
        if value is None:
            return None
        value = str(value).strip()
        return value or None

    def _typed_raw(self, name: str) -> str | None:
        """As :meth:`_raw` for a typed parameter; with ``empty_is_error`` a parameter given
        empty (``?limit=``) is an error, since an empty string is no integer, number, flag or choice."""
        value = self._raw(name)
        if value is None and self.empty_is_error and name in self.args:
            raise BadParameter(name, f"{name} is empty; give a value or leave the parameter out")
        return value

    def text(self, name: str, default: str | None = None, max_len: int = MAX_TEXT) -> str | None:
        """The text parameter *name* (or *default*); BadParameter when too long or containing NUL."""
        value = self._raw(name)
        if value is None:
            return default
        if len(value) > max_len:
            raise BadParameter(name, f"{name} is longer than {max_len} characters")
        if "\x00" in value:
            raise BadParameter(name, f"{name} contains a NUL character")
        return value

    def integer(
        self, name: str, default: int | None = None, lo: int | None = None, hi: int | None = None
    ) -> int | None:
        """The integer parameter *name* (or *default*); BadParameter when not an integer or outside [lo, hi]."""
        value = self._typed_raw(name)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            raise BadParameter(name, f"{name} must be an integer, not {value[:40]!r}") from None
        if (lo is not None and number < lo) or (hi is not None and number > hi):
            raise BadParameter(name, f"{name} must be an integer between {lo} and {hi}")
        return number

    def number(self, name: str, default: float | None = None, lo: float = -1e9, hi: float = 1e9) -> float | None:
        """The numeric parameter *name* (or *default*); BadParameter unless a finite number within [lo, hi]."""
        value = self._typed_raw(name)
        if value is None:
            return default
        try:
            number = float(value)
        except ValueError:
            raise BadParameter(name, f"{name} must be a number, not {value[:40]!r}") from None
        if not math.isfinite(number) or number < lo or number > hi:
            raise BadParameter(name, f"{name} must be a finite number between {lo:g} and {hi:g}")
        return number

    def choice(self, name: str, choices: Sequence[str], default: str | None = None) -> str | None:
        """The parameter *name* (or *default*); BadParameter when not one of *choices*."""
        value = self._typed_raw(name)
        if value is None:
            return default
        if value not in choices:
            raise BadParameter(name, f"{name} must be one of: {', '.join(choices)}")
        return value

    def flag(self, name: str, default: bool = False) -> bool:
        """The boolean parameter *name* (1/true/yes/on or 0/false/no/off); BadParameter otherwise."""
        value = self._typed_raw(name)
        if value is None:
            return default
        low = value.lower()
        if low in {"1", "true", "yes", "on"}:
            return True
        if low in {"0", "false", "no", "off"}:
            return False
        raise BadParameter(name, f"{name} must be true or false")

    def page(self, max_page_size: int, default_size: int = 50) -> tuple[int, int]:
        """Page number and page size from ``page``/``page_size``, the size capped at *max_page_size*."""
        page = self.integer("page", 1, lo=1, hi=1_000_000) or 1
        size = self.integer("page_size", min(default_size, max_page_size), lo=1, hi=max_page_size)
        return page, size or default_size


def path_id(value: str, name: str = "id") -> int:
    """A positive integer id from a URL segment (404 when it is not one)."""
    if not value.isdigit() or len(value) > 12:
        raise NotFound(f"no {name} {value[:40]!r}")
    return int(value)
