"""`dockdb dock`: dock one SMILES into one target, print scores and interacting residues."""

from __future__ import annotations

import click

from dockdb.cli.common import AppContext, echo_json, pass_app
from dockdb.cli.engine_opts import engine_options, extra_engine_params


@click.command()
@click.option("--target", "target_key", required=True, help="Target key (see `dockdb target list`).")
@click.option("--smiles", required=True, help="The ligand as SMILES.")
@click.option("--name", default=None, help="Ligand name for SDF titles and file names (default: the SMILES).")
@click.option("--engine", default="vina", show_default=True, help="Docking engine.")
@click.option("--pocket", type=click.Choice(["focused", "blind"]), default="focused", show_default=True)
@click.option("--exhaustiveness", type=int, default=None, help="Search effort (engine default 8).")
@click.option("--seed", type=int, default=None, help="Random seed (default 42).")
@click.option("--poses", type=int, default=None, help="Number of poses (engine default).")
@click.option("--out", "out_dir", default=None, type=click.Path(file_okay=False),
              help="Write each pose's SDF, PDBQT and receptor complex PDB here.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@engine_options
@pass_app
def dock(app: AppContext, target_key: str, smiles: str, name: str | None, engine: str, pocket: str,
         exhaustiveness: int | None, seed: int | None, poses: int | None, out_dir: str | None, as_json: bool,
         device: str | None, engine_param: tuple[str, ...]) -> None:
    """Dock a SMILES into a target's pocket (the receptor is prepared once and reused)."""
    from jobs.quickdock import quick_dock

    result = quick_dock(app.db, target_key, smiles, engine=engine, pocket=pocket, exhaustiveness=exhaustiveness,
                        seed=seed, n_poses=poses, out_dir=out_dir,
                        extra_params=extra_engine_params(device, engine_param), name=name)
    if as_json:
        echo_json(result.as_dict())
        return
    click.echo(f"{target_key} ({pocket} pocket), {engine} exhaustiveness {result.params.get('exhaustiveness')}, "
               f"seed {result.seed}: {len(result.poses)} poses in {result.runtime_s:.1f} s")
    for p in result.poses:
        residues = sorted({f"{i['resname']}{i['resnum']}{(':' + i['chain']) if i['chain'] else ''}"
                           for i in p.interactions})
        click.echo(f"  pose {p.rank}: {p.score:7.2f} kcal/mol  {', '.join(residues) or '-'}")
    if result.files:
        click.echo(f"wrote {len(result.files)} files to {out_dir}")
