"""The docking-engine interface and its result records."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

from docking.ligand import PreparedLigand
from docking.pocket import Box

__all__ = ["DockingEngine", "EnginePose", "LigandDockResult", "ScoredPose"]


@dataclass(frozen=True)
class EnginePose:
    """One docked pose as an engine returns it (campaigns store it as a ``dockdb.models.Pose`` row).

    ``score`` in kcal/mol (lower is better); ``terms`` engine energy terms.
    """

    rank: int
    score: float
    terms: dict[str, float]
    pdbqt: str
    sdf: str
    variant_smiles: str


@dataclass(frozen=True)
class ScoredPose:
    """Score of a given pose without search."""

    score: float
    terms: dict[str, float]


@dataclass(frozen=True)
class LigandDockResult:
    """Result of docking one ligand: poses merged over its variants, best first, or an error."""

    name: str
    input_hash: str
    poses: list[EnginePose] = field(default_factory=list)
    error: str | None = None
    runtime_s: float = 0.0
    engine: str = ""
    engine_version: str = ""
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when docking produced at least one pose."""
        return self.error is None and bool(self.poses)

    @property
    def best_score(self) -> float | None:
        """The lowest (best) score over the poses, or None without poses -- the one meaning of
        "best score" (as ``DockingResult.best_score``), whatever order the poses come in."""
        return min((p.score for p in self.poses), default=None)


class DockingEngine(ABC):
    """A docking program behind one interface. Subclasses set ``name`` and ``version``, and may
    declare how campaigns should feed them (:attr:`preferred_batch`, :attr:`uses_gpu`)."""

    name: ClassVar[str] = ""

    def __init__(self, **params: Any) -> None:
        self.params: dict[str, Any] = dict(params)

    @property
    def preferred_batch(self) -> int:
        """Ligands per campaign task: a few by default (one receptor set-up serves them, and small
        tasks keep every worker busy); batched GPU engines ask for hundreds."""
        return 4

    @property
    def uses_gpu(self) -> bool:
        """True when dock() runs on a GPU: campaign tasks then request the Dask resource ``GPU``."""
        return False

    @property
    @abstractmethod
    def version(self) -> str:
        """Version string of the underlying program."""

    @abstractmethod
    def dock(
        self, receptor_pdbqt: str, box: Box, ligands: list[PreparedLigand], *, seed: int = 42
    ) -> list[LigandDockResult]:
        """Dock each ligand into ``box``; one result per ligand, errors captured per ligand."""

    @abstractmethod
    def score(self, receptor_pdbqt: str, box: Box, pose_pdbqt: str) -> ScoredPose:
        """Score a pose in place (no search, no optimisation)."""
