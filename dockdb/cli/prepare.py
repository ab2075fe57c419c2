"""`dockdb target prepare KEY | --all`: prepare receptors (reused when inputs are unchanged)."""

from __future__ import annotations

import click

from dockdb.cli.common import AppContext, pass_app


@click.command("prepare")
@click.argument("key", required=False)
@click.option("--all", "all_", is_flag=True, help="Prepare every registered target.")
@click.option("--force", is_flag=True, help="Prepare again even when a stored receptor matches.")
@pass_app
def prepare(app: AppContext, key: str | None, all_: bool, force: bool) -> None:
    """Prepare the docking receptor of target KEY (or of all targets)."""
    from dockdb.errors import InputError
    from jobs.receptors import ensure_receptor, prepare_targets

    if key and not all_:
        choices = [ensure_receptor(app.db, key, force=force)]
    elif all_ and not key:
        choices = prepare_targets(app.db, None, force=force)
    else:
        raise InputError("give a target KEY or --all (not both)")
    for c in choices:
        how = "reused" if c.reused else "prepared"
        click.echo(f"{c.target_key}: {how} receptor {c.receptor_id} ({c.protocol_version}, "
                   f"input {c.input_hash[:12]})")
