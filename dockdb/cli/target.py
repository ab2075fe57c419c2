"""`dockdb target ...`: list the targets and register another structure.

Other modules add sub-commands to this group (e.g. ``prepare``): import it as
``from dockdb.cli.target import target``.
"""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path

import click

from dockdb.cli.common import AppContext, echo_json, pass_app

# Sub-commands living in other modules, loaded only when that module exists and is used.
EXTRA_COMMANDS = {"prepare": "dockdb.cli.prepare:prepare"}


class _TargetGroup(click.Group):
    def _extra(self) -> dict[str, str]:
        return {n: t for n, t in EXTRA_COMMANDS.items() if importlib.util.find_spec(t.split(":")[0]) is not None}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self._extra()))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        cmd = super().get_command(ctx, cmd_name)
        spec = self._extra().get(cmd_name) if cmd is None else None
        if spec is None:
            return cmd
        module, attr = spec.split(":")
        return getattr(importlib.import_module(module), attr)


@click.group(cls=_TargetGroup)
def target() -> None:
    """Docking targets: list them, register another structure, prepare receptors."""


def _split(text: str | None) -> list[str]:
    return [t.strip() for t in (text or "").split(",") if t.strip()]


@target.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_app
def list_cmd(app: AppContext, as_json: bool) -> None:
    """Show every target: key, name, organism, structure and its pockets with box sizes."""
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from dockdb.models import Target

    rows = [("key", "name", "organism", "structure", "pockets (Å)")]
    with app.db.session() as s:
        targets = s.scalars(select(Target).options(selectinload(Target.pockets)).order_by(Target.id)).all()
        for t in targets:
            pockets = sorted(t.pockets, key=lambda p: p.kind != "focused")
            size = "; ".join(f"{p.kind} {'x'.join(f'{v:.1f}' for v in p.size)}" for p in pockets)
            rows.append((t.key, t.name, t.organism or "", t.structure_id or "", size))
        data = [{
            "key": t.key, "name": t.name, "organism": t.organism, "structure": t.structure_id,
            "source_hash": t.source_hash, "spec": t.spec,
            "pockets": [{"kind": p.kind, "center": list(p.center), "size": list(p.size), "residues": p.residues,
                         "basis": p.basis, "literature": p.literature}
                        for p in sorted(t.pockets, key=lambda p: p.kind != "focused")],
        } for t in targets]
    if as_json:
        echo_json(data)
        return
    if not data:
        click.echo("no targets loaded; run `dockdb ingest targets`")
        return
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for r in rows:
        click.echo("  ".join([*(r[i].ljust(widths[i]) for i in range(4)), r[4]]))


@target.command("reference")
@click.argument("target_key")
@click.argument("campaign", required=False)
@click.option("--default", "use_default", is_flag=True,
              help="Forget the choice: the newest finished focused-pocket campaign on the target.")
@pass_app
def reference_cmd(app: AppContext, target_key: str, campaign: str | None, use_default: bool) -> None:
    """Show or set the campaign (id or name) whose scores the target's table, CSV and API show."""
    from dockdb.errors import InputError, NotFoundError
    from dockdb.reference import reference_campaign
    from jobs.reference import set_reference

    if campaign and use_default:
        raise InputError("give a CAMPAIGN or --default, not both")
    if campaign or use_default:
        ref = set_reference(app.db, target_key, campaign)
    else:
        from sqlalchemy import select

        from dockdb.models import Target

        with app.db.session() as s:
            tid = s.scalar(select(Target.id).where(Target.key == target_key))
            if tid is None:
                raise NotFoundError(f"no target {target_key!r}; `dockdb target list` shows the keys")
            ref = reference_campaign(s, tid)
    if ref is None:
        click.echo(f"{target_key}: no campaign has docked into it yet")
        return
    exh = f", exhaustiveness {ref['exhaustiveness']}" if ref["exhaustiveness"] else ""
    click.echo(f"{target_key}: reference campaign {ref['id']} ({ref['name']}): engine {ref['engine']}, "
               f"{ref['pocket']} pocket{exh} ({ref['chosen_by']})")


@target.command("add")
@click.option("--key", required=True, help="Registry key (lower-case, e.g. 'mpro-7si9').")
@click.option("--name", default=None, help="Display name (default: the key).")
@click.option("--pdb-id", default=None, help="RCSB entry to download (cached under DOCKDB_HOME/structures).")
@click.option("--file", "file", type=click.Path(path_type=Path, dir_okay=False), default=None, help="Local PDB file.")
@click.option("--organism", default=None)
@click.option("--residues", default=None, help="Pocket residues, e.g. A:41,A:145.")
@click.option("--ligand", default=None, help="Co-crystal ligand residue name: box around it (read before stripping).")
@click.option("--box", "box_text", default=None, help="Explicit box cx,cy,cz,sx,sy,sz (Å).")
@click.option("--padding", default=8.0, show_default=True, help="Å added around residues or ligand.")
@click.option("--keep-chains", default=None, help="Chains kept, e.g. A,B (default: all).")
@click.option("--remove-chains", default=None, help="Chains removed (co-crystal inhibitors), e.g. C.")
@click.option("--keep-hetero", default=None, help="Hetero groups kept (e.g. ZN).")
@click.option("--allow-large-box", is_flag=True, help="Accept a box side over 30 Å.")
@pass_app
def add_cmd(app: AppContext, key: str, name: str | None, pdb_id: str | None, file: Path | None,
            organism: str | None, residues: str | None, ligand: str | None, box_text: str | None, padding: float,
            keep_chains: str | None, remove_chains: str | None, keep_hetero: str | None,
            allow_large_box: bool) -> None:
    """Register another target structure with a focused pocket (and a whole-protein blind box)."""
    from dockdb.errors import InputError
    from ingest.structures import add_target, fetch_pdb, parse_box, read_pdb_file

    if (pdb_id is None) == (file is None):
        raise InputError("give exactly one structure: --pdb-id ID or --file PATH")
    if pdb_id is not None:
        text, url = fetch_pdb(pdb_id, app.config)
        source, structure = f"rcsb:{pdb_id.upper()}", pdb_id.upper()
    else:
        assert file is not None
        text, url = read_pdb_file(file), None
        source, structure = f"file:{file.name}", file.name
    result = add_target(
        app.db, key=key, name=name or key, pdb_text=text, source=source, source_url=url, structure_id=structure,
        residues=_split(residues), ligand=ligand, box=parse_box(box_text) if box_text else None,
        keep_chains=_split(keep_chains), remove_chains=_split(remove_chains), keep_hetero=_split(keep_hetero),
        organism=organism, padding=padding, allow_large_box=allow_large_box,
    )
    f = result.focused
    click.echo(f"target {result.key} {result.status}: focused box centre "
               f"{', '.join(f'{v:.1f}' for v in f.center)} size {'x'.join(f'{v:.1f}' for v in f.size)} Å "
               f"({f.basis}); blind box {'x'.join(f'{v:.1f}' for v in result.blind.size)} Å")
