"""Sanity dock: nafamostat reaches <= -6 kcal/mol in each of the 7 focused boxes (slow)."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from docking.engines import get_engine
from docking.ligand import prepare_ligand
from docking.pocket import Box, validate_box
from docking.poses import sdf_to_mol
from docking.receptor import prepare_receptor

# chains per target from data/targets.yaml (keep_chains / remove_chains / keep_hetero)
SPECS = {
    "spike_rbd": (["E"], [], []),
    "protease": (["A"], ["C"], []),
    "papainlike": (["D"], ["I"], ["ZN"]),
    "polymerase": (["A"], [], []),
    "6m3m_N": (["A", "B", "C", "D"], [], []),
    "ace2": (["A"], [], []),
    "TMPRSS2": (["A"], [], []),
}


def _triple(text: str) -> tuple[float, float, float]:
    x, y, z = (float(v) for v in text.split(","))
    return (x, y, z)


def nafamostat_smiles(mirror) -> str:
    with open(mirror / "drugs" / "drugcentral_structures.smiles.tsv", newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            if (row.get("INN") or "").strip().lower() == "nafamostat":
                return row["SMILES"]
    raise AssertionError("nafamostat not in DrugCentral structures")


def focused_boxes(mirror) -> dict[str, Box]:
    with open(mirror / "targets" / "pockets.tsv", newline="") as fh:
        return {
            row["target_key"]: Box(_triple(row["box_center_xyz"]), _triple(row["box_size_xyz"]))
            for row in csv.DictReader(fh, delimiter="\t")
        }


@pytest.mark.slow
@pytest.mark.parametrize("key", list(SPECS))
def test_nafamostat_docks_in_focused_box(mirror, key: str) -> None:
    keep, drop, het = SPECS[key]
    pdb = (mirror / "targets" / "dockcov2" / f"{key}.pdb").read_text()
    receptor = prepare_receptor(pdb, keep_chains=keep, remove_chains=drop, keep_hetero=het)
    box = validate_box(focused_boxes(mirror)[key], receptor.pdb)
    ligand = prepare_ligand(nafamostat_smiles(mirror), name="nafamostat")
    result = get_engine("vina", exhaustiveness=4, n_poses=5).dock(receptor.pdbqt, box, [ligand], seed=42)[0]
    assert result.ok, result.error
    assert result.best_score <= -6.0
    xyz = sdf_to_mol(result.poses[0].sdf).GetConformer().GetPositions()
    assert bool(np.all(box.contains(xyz, margin=0.5)))
