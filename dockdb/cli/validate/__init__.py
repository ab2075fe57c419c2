"""`dockdb validate …`: redocking, agreement with DockCoV2, enrichment, pose plausibility.

Each sub-command lives in its own module and is imported only when used.
"""

from __future__ import annotations

import importlib

import click

from jobs.validation.kinds import KINDS

_COMMANDS: dict[str, str] = {
    **{name: kind.command for name, kind in KINDS.items()},  # one per validation kind (the registry)
    "show": "dockdb.cli.validate.show:show",
}


class _LazyValidateGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = _COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError:
            return None
        return getattr(module, attr)


@click.group(cls=_LazyValidateGroup)
def validate() -> None:
    """Measure docking quality and store the numbers (shown on the portal's Validation page)."""
