"""Options and printing shared by the validate sub-commands that store one run per campaign."""

from __future__ import annotations

import shlex
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import click

from dockdb.cli.common import EXIT_NOTHING, EXIT_OK, EXIT_PARTIAL, echo_json
from jobs.validation.defaults import DEFAULT_BOOTSTRAP, DEFAULT_SEED

F = TypeVar("F", bound=Callable[..., Any])


def bootstrap_options(bootstrap_help: str) -> Callable[[F], F]:
    """Add ``--bootstrap`` (described by *bootstrap_help*), ``--seed``, ``--quiet`` and ``--json`` to a command."""
    options = [
        click.option("--bootstrap", "n_boot", type=click.IntRange(min=0), default=DEFAULT_BOOTSTRAP,
                     show_default=True, help=bootstrap_help),
        click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True, help="Seed of the bootstrap."),
        click.option("--quiet", is_flag=True, help="No progress bar."),
        click.option("--json", "as_json", is_flag=True, help="Print the results as JSON."),
    ]

    def decorate(f: F) -> F:
        for option in reversed(options):
            f = option(f)
        return f

    return decorate


def command_line(args: list[str], n_boot: int, seed: int) -> str:
    """*args* with ``--bootstrap`` and ``--seed`` spelled out, quoted as one shell command."""
    return shlex.join([*args, "--bootstrap", str(n_boot), "--seed", str(seed)])


def number(v: Any, spec: str = ".2f") -> str:
    """*v* formatted with *spec*, or a dash when it is None."""
    return "–" if v is None else format(v, spec)


def interval(v: Sequence[float] | None) -> str:
    """A confidence interval as '[lo, hi]' with two decimals, or empty when there is none."""
    return "" if not v else f"[{v[0]:.2f}, {v[1]:.2f}]"


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
