from __future__ import annotations

import numpy as np
import pytest

from dockdb.errors import PocketError
from docking.pocket import Box, blind_box, box_from_ligand, box_from_residues, parse_vina_conf, validate_box


def test_box_volume_and_contains() -> None:
    box = Box((0.0, 0.0, 0.0), (10.0, 20.0, 30.0))
    assert box.volume == 6000.0
    assert box.contains([[4.9, 9.9, 14.9], [5.1, 0, 0]]).tolist() == [True, False]


def test_parse_vina_conf(mirror) -> None:
    box = parse_vina_conf((mirror / "targets" / "dockcov2" / "protease.conf").read_text())
    assert box.center == (-25.9343118971, 12.5509807074, 59.1055819936)  # the file's six values
    assert box.size == (50.719, 66.768, 59.612)
    text = "center_x = 1  # c\ncenter_y=2\n center_z = 3\nSIZE_X = 4\nsize_y = 5\nsize_z = 6\nexhaustiveness = 8\n"
    assert parse_vina_conf(text) == Box((1.0, 2.0, 3.0), (4.0, 5.0, 6.0))
    with pytest.raises(PocketError, match="lacks"):
        parse_vina_conf("center_x = 1\n")


def _expected_box(pdb: str, keep, padding: float) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Centre and size around the heavy atoms of the PDB lines ``keep(line)`` selects, by hand."""
    xyz = np.array([[float(ln[30:38]), float(ln[38:46]), float(ln[46:54])] for ln in pdb.splitlines()
                    if ln.startswith(("ATOM  ", "HETATM")) and ln[76:78].strip() != "H" and ln[17:20] != "HOH"
                    and keep(ln)])
    lo, hi = xyz.min(axis=0), xyz.max(axis=0)
    return tuple(((lo + hi) / 2).round(3)), tuple((hi - lo + 2 * padding).round(3))


def test_box_from_ligand_n3(protease_pdb: str) -> None:
    box = box_from_ligand(protease_pdb, chain="C", resname="PJE", padding=5.0)
    center, size = _expected_box(protease_pdb, lambda ln: ln[21] == "C" and ln[17:20] == "PJE", 5.0)
    assert box.center == pytest.approx(center, abs=1e-3) and box.size == pytest.approx(size, abs=1e-3)


def test_box_from_residues_and_blind(protease_pdb: str) -> None:
    box = box_from_residues(protease_pdb, ["A:41", "A:145", ("A", 166)], padding=4.0)
    center, size = _expected_box(protease_pdb, lambda ln: ln[21] == "A" and ln[22:26].strip() in {"41", "145", "166"},
                                 4.0)
    assert box.center == pytest.approx(center, abs=1e-3) and box.size == pytest.approx(size, abs=1e-3)
    assert validate_box(box, protease_pdb) is box
    blind = blind_box(protease_pdb)
    center, size = _expected_box(protease_pdb, lambda ln: True, 5.0)
    assert blind.center == pytest.approx(center, abs=1e-3) and blind.size == pytest.approx(size, abs=1e-3)
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
