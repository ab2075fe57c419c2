from __future__ import annotations

import pytest

from dockdb.errors import PocketError
from docking.pocket import Box, blind_box, box_from_ligand, box_from_residues, parse_vina_conf, validate_box


def test_box_volume_and_contains() -> None:
    box = Box((0.0, 0.0, 0.0), (10.0, 20.0, 30.0))
    assert box.volume == 6000.0
    assert box.contains([[4.9, 9.9, 14.9], [5.1, 0, 0]]).tolist() == [True, False]


def test_parse_vina_conf(mirror) -> None:
    box = parse_vina_conf((mirror / "targets" / "dockcov2" / "protease.conf").read_text())
    assert max(box.size) > 30
    with pytest.raises(PocketError, match="lacks"):
        parse_vina_conf("center_x = 1\n")


def test_box_from_ligand_n3(protease_pdb: str) -> None:
    box = box_from_ligand(protease_pdb, chain="C", resname="PJE", padding=5.0)
    assert 5 < box.center[1] < 25
    assert min(box.size) >= 10


def test_box_from_residues_and_blind(protease_pdb: str) -> None:
    box = box_from_residues(protease_pdb, ["A:41", "A:145", ("A", 166)], padding=4.0)
    assert all(s < 30 for s in box.size)
    assert validate_box(box, protease_pdb) is box
    blind = blind_box(protease_pdb)
    assert max(blind.size) > 40
    with pytest.raises(PocketError, match="A:999"):
        box_from_residues(protease_pdb, ["A:999"])


def test_validate_box_refuses_large_and_empty(protease_pdb: str, protease_box: Box) -> None:
    big = blind_box(protease_pdb)
    with pytest.raises(PocketError, match="allow-large-box"):
        validate_box(big, protease_pdb)
    assert validate_box(big, protease_pdb, allow_large=True) is big
    far = Box((500.0, 500.0, 500.0), (20.0, 20.0, 20.0))
    with pytest.raises(PocketError, match="misses the protein"):
        validate_box(far, protease_pdb)
    assert validate_box(protease_box, protease_pdb) is protease_box
