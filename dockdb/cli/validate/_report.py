"""Printing shared by the validate sub-commands that store one run per campaign."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import click

from dockdb.cli.common import EXIT_NOTHING, EXIT_OK, EXIT_PARTIAL, echo_json


def report_runs(results: Sequence[Any], as_json: bool, header: Callable[[Any], str],
                print_table: Callable[[Any], None], print_extra: Callable[[Any], None] | None = None) -> int:
    """Print each result (its header and table, or JSON), then its summary line; the exit code.

    Each result has ``error`` (None when stored), ``targets``, ``line()`` and ``as_dict()``.
    Exit 0 when every run was stored, 3 when none was, 4 when some were.
    """
    if as_json:
        echo_json([r.as_dict() for r in results])
    for r in results:
        if r.error is not None:
            click.echo(f"error: {r.error}", err=True)
            continue
        if not as_json:
            click.echo(header(r))
            print_table(r.targets)
            if print_extra is not None:
                print_extra(r)
        click.echo(r.line(), err=as_json)
    stored = sum(1 for r in results if r.error is None)
    if stored == 0:
        return EXIT_NOTHING
    return EXIT_OK if stored == len(results) else EXIT_PARTIAL
