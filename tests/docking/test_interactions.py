from __future__ import annotations

import pytest

from dockdb.errors import InputError
from docking.interactions import INTERACTION_TYPES, interactions


def test_interactions_of_docked_pose(aspirin_docked, protease_receptor) -> None:
    _engine, _lig, result = aspirin_docked
    rows = interactions(protease_receptor.pdb, result.poses[0].sdf)
    assert rows
    assert all(set(r) == {"chain", "resnum", "resname", "type"} for r in rows)
    assert all(r["chain"] == "A" and r["type"] in INTERACTION_TYPES for r in rows)
    # the focused box is the substrate site: contacts are with site residues
    assert {r["resnum"] for r in rows} & {41, 49, 140, 141, 142, 143, 144, 145, 163, 164, 165, 166, 189}


def test_interactions_need_hydrogens(aspirin_docked, protease_pdb) -> None:
    _engine, _lig, result = aspirin_docked
    no_h = "\n".join(ln for ln in protease_pdb.splitlines() if ln.startswith("ATOM"))
    with pytest.raises(InputError, match="hydrogens"):
        interactions(no_h, result.poses[0].sdf)
