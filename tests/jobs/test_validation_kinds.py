"""The registry of validation kinds is the one list every part reads."""

from __future__ import annotations

import click

from jobs.validation.kinds import KINDS, kind_names, load


def test_every_kind_has_a_loadable_command_and_runner() -> None:
    assert kind_names() == ("redock", "agreement", "enrichment", "plausibility")
    for name, kind in KINDS.items():
        command = load(kind.command)
        assert isinstance(command, click.Command) and command.name == name
        assert callable(load(kind.runner))
        assert kind.title and kind.what


def test_store_portal_and_cli_follow_the_registry() -> None:
    from dockdb.cli.validate import validate
    from dockdb.cli.validate.show import show
    from jobs.validation import store
    from webapp.queries import validation as portal

    assert store.KINDS == kind_names() == portal.KINDS
    assert list(portal.KIND_TITLES) == list(kind_names())
    ctx = click.Context(validate)
    assert set(validate.list_commands(ctx)) == {*kind_names(), "show"}
    kind_option = next(p for p in show.params if p.name == "kind")
    assert list(kind_option.type.choices) == list(kind_names())  # type: ignore[attr-defined]
