from __future__ import annotations

import subprocess
import sys

import pytest

from dockdb.errors import InputError
from docking.interactions import INTERACTION_TYPES, interactions
from tests.conftest import REPO


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


def test_no_mdanalysis_deprecation_flood() -> None:
    """MDAnalysis installs its own 'once' filter for its DeprecationWarnings at import, past any 'ignore' a
    program sets first; computing interactions in a fresh process prints nothing."""
    code = ("import warnings; warnings.filterwarnings('ignore', category=DeprecationWarning)\n"
            "from docking.interactions import interactions_many\n"
            "assert interactions_many('', []) == []\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert r.returncode == 0, r.stderr
    assert "Warning" not in r.stderr, r.stderr
