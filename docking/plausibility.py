"""Pose plausibility with PoseBusters (Buttenschoen et al., Chem. Sci. 2024), docking mode.

The pose is PoseBusters' ``mol_pred`` (the stored SDF, read exactly as PoseBusters reads an
SDF: not sanitised, hydrogens kept) and the prepared receptor its ``mol_cond`` (read as
PoseBusters reads a PDB file: no proximity bonding). One :class:`PlausibilityChecker` holds
one receptor, so a batch of poses on the same receptor parses the protein once.
Pure science: no database.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from dockdb.errors import InputError, ReceptorError

__all__ = ["CONFIG", "PlausibilityChecker", "PoseCheck", "check_names", "posebusters_version"]

# PoseBusters' own configuration for docked poses with a known protein
CONFIG = "dock"
# PoseBusters' protein checks look at receptor atoms within 6 Å of the ligand (its ``search_distance``);
# handing it only the atoms within this radius gives the same results several times faster.
CROP_RADIUS = 8.0


@dataclass
class PoseCheck:
    """The outcome of every PoseBusters check on one pose."""

    checks: dict[str, bool | None] = field(default_factory=dict)

    @property
    def failed(self) -> list[str]:
        """Names of the checks that did not pass (a check that could not be computed counts as failed)."""
        return [name for name, ok in self.checks.items() if ok is not True]

    @property
    def passed(self) -> bool:
        """True when PoseBusters ran at least one check and none failed."""
        return bool(self.checks) and not self.failed


def posebusters_version() -> str:
    """Version of the installed ``posebusters`` package."""
    from importlib import metadata

    try:
        return metadata.version("posebusters")
    except metadata.PackageNotFoundError:  # pragma: no cover - a declared dependency
        return "absent"


@cache
def _config() -> dict[str, Any]:
    from pathlib import Path

    import posebusters
    import yaml

    path = Path(posebusters.__file__).parent / "config" / f"{CONFIG}.yml"
    with open(path, encoding="utf-8") as fh:
        return dict(yaml.safe_load(fh))


@cache
def check_names() -> tuple[str, ...]:
    """Every check of the configuration, named as PoseBusters names its result columns."""
    names = []
    for module in _config()["modules"]:
        renames = module.get("rename_outputs", {})
        suffix = module.get("rename_suffix", "")
        for output in module.get("chosen_binary_test_output", []):
            label = renames.get(output, output + suffix)
            names.append(label.lower().replace(" ", "_"))
    return tuple(names)


@contextmanager
def _quiet() -> Iterator[None]:
    """PoseBusters and RDKit log a warning for every odd pose; the result already says it."""
    from rdkit import rdBase

    log = logging.getLogger("posebusters")
    level = log.level
    log.setLevel(logging.ERROR)
    rdBase.DisableLog("rdApp.*")
    try:
        yield
    finally:
        rdBase.EnableLog("rdApp.*")
        log.setLevel(level)


def _as_flag(value: Any) -> bool | None:
    if value is True or value is False:
        return bool(value)
    try:
        import numpy as np

        if isinstance(value, np.bool_):
            return bool(value)
    except ImportError:  # pragma: no cover
        pass
    return None


class PlausibilityChecker:
    """PoseBusters' docking checks of poses against one receptor."""

    def __init__(self, receptor_pdb: str) -> None:
        from posebusters import PoseBusters
        from rdkit import Chem

        with _quiet():
            protein = Chem.MolFromPDBBlock(receptor_pdb, sanitize=False, removeHs=False, proximityBonding=False)
        if protein is None or protein.GetNumAtoms() == 0:
            raise ReceptorError("the receptor PDB cannot be read by RDKit; prepare it again (`dockdb target prepare`)")
        self.protein = protein
        self._xyz = protein.GetConformer().GetPositions()
        self._buster = PoseBusters(config=copy.deepcopy(_config()), max_workers=0)

    def near(self, ligand_xyz: Any, radius: float = CROP_RADIUS) -> Any:
        """The receptor atoms within *radius* Å of any ligand atom (bonds dropped: no check uses them),
        or the whole receptor when none is that close (a pose far from the protein)."""
        import numpy as np
        from rdkit import Chem

        lo, hi = ligand_xyz.min(axis=0) - radius, ligand_xyz.max(axis=0) + radius
        box = np.nonzero(np.all((self._xyz >= lo) & (self._xyz <= hi), axis=1))[0]
        if box.size:
            d2 = ((self._xyz[box, None, :] - ligand_xyz[None, :, :]) ** 2).sum(axis=-1).min(axis=1)
            box = box[d2 <= radius * radius]
        if not box.size:
            return self.protein
        sub = Chem.RWMol()
        conf = Chem.Conformer(int(box.size))
        for k, idx in enumerate(box.tolist()):
            sub.AddAtom(Chem.Atom(self.protein.GetAtomWithIdx(idx)))
            conf.SetAtomPosition(k, self._xyz[idx].tolist())
        sub.AddConformer(conf, assignId=True)
        return sub.GetMol()

    def check(self, sdf: str) -> PoseCheck:
        """Run every check on the first record of *sdf*; InputError when the SDF is unreadable."""
        from rdkit import Chem

        block = sdf.split("$$$$")[0]
        with _quiet():
            mol = Chem.MolFromMolBlock(block, sanitize=False, removeHs=False)
        if mol is None or mol.GetNumAtoms() == 0 or mol.GetNumConformers() == 0:
            raise InputError("the pose SDF cannot be read by RDKit; re-export the pose from its PDBQT")
        with _quiet():
            table = self._buster.bust([mol], None, self.near(mol.GetConformer().GetPositions()))
        row = table.iloc[0]
        return PoseCheck({name: _as_flag(row.get(name)) for name in check_names()})
