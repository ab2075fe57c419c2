"""AutoDock Vina 1.2 engine (Python API), scoring functions ``vina`` and ``vinardo``.

Affinity maps are computed once per receptor + box + seed for all ligand atom types and
kept in a small per-process, per-thread cache, so consecutive batches against the same
receptor (a campaign worker's usual life) do not recompute them.  Vina re-seeds its random
generator on every ``dock()``, so reusing the maps does not change any score.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from dockdb.errors import EngineError, one_line
from docking.engines import register_engine
from docking.engines.base import DockingEngine, EnginePose, LigandDockResult, ScoredPose
from docking.engines.params import check_params
from docking.ligand import PreparedLigand
from docking.pocket import Box
from docking.poses import pdbqt_to_sdf_blocks, split_pdbqt_models

__all__ = ["VinaEngine", "VinardoEngine"]

_DOCK_TERMS = ("total", "inter", "intra", "torsions", "intra_best_pose")
_SCORE_TERMS = (
    "total", "lig_inter", "flex_inter", "other_inter", "flex_intra", "lig_intra", "torsions",
    "lig_intra_best_pose",
)


_MAP_CACHE_SIZE = 2
_map_cache: OrderedDict[tuple, Any] = OrderedDict()
_map_cache_lock = threading.Lock()


@contextmanager
def _receptor_file(receptor_pdbqt: str) -> Iterator[str]:
    """Vina reads receptors only from files: write the text to a temporary one."""
    if "ATOM" not in receptor_pdbqt and "HETATM" not in receptor_pdbqt:
        raise EngineError("receptor PDBQT has no atoms; pass PreparedReceptor.pdbqt")
    fd, path = tempfile.mkstemp(suffix=".pdbqt", prefix="dockdb_rec_")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(receptor_pdbqt)
        yield path
    finally:
        os.unlink(path)


@register_engine("vina")
class VinaEngine(DockingEngine):
    """Vina via its Python API. Params: sf_name, exhaustiveness, n_poses, energy_range,
    min_rmsd, max_evals, cpu (0 = all), spacing."""

    name = "vina"
    _default_sf = "vina"

    def __init__(
        self,
        *,
        sf_name: str | None = None,
        exhaustiveness: int = 8,
        n_poses: int = 9,
        energy_range: float = 3.0,
        min_rmsd: float = 1.0,
        max_evals: int = 0,
        cpu: int = 0,
        spacing: float = 0.375,
    ) -> None:
        sf = sf_name or self._default_sf
        check_params(
            self.name,
            {"sf_name": sf, "exhaustiveness": exhaustiveness, "n_poses": n_poses, "energy_range": energy_range,
             "min_rmsd": min_rmsd, "max_evals": max_evals, "cpu": cpu, "spacing": spacing},
            at_least={"max_evals": 0, "cpu": 0},
            choices={"sf_name": ("vina", "vinardo")},
        )  # fmt: skip
        super().__init__(
            sf_name=sf, exhaustiveness=int(exhaustiveness), n_poses=int(n_poses),
            energy_range=float(energy_range), min_rmsd=float(min_rmsd), max_evals=int(max_evals),
            cpu=int(cpu), spacing=float(spacing),
        )

    @property
    def version(self) -> str:
        """Version of the installed ``vina`` package."""
        from importlib import metadata

        return metadata.version("vina")

    def _new_vina(self, receptor_path: str, box: Box, seed: int) -> Any:
        from vina import Vina

        v = Vina(sf_name=self.params["sf_name"], cpu=self.params["cpu"], seed=seed, verbosity=0)
        try:
            v.set_receptor(receptor_path)
            v.compute_vina_maps(center=list(box.center), box_size=list(box.size), spacing=self.params["spacing"])
        except Exception as exc:
            raise EngineError(f"Vina could not load the receptor/box ({exc}); check receptor PDBQT and box") from exc
        return v

    def _cached_vina(self, receptor_pdbqt: str, box: Box, seed: int) -> Any:
        """A Vina object with maps for this receptor/box/seed, from the cache or new."""
        p = self.params
        key = (
            hashlib.sha256(receptor_pdbqt.encode()).hexdigest(), tuple(box.center), tuple(box.size),
            p["sf_name"], p["spacing"], p["cpu"], seed, threading.get_ident(),
        )
        with _map_cache_lock:
            v = _map_cache.get(key)
            if v is not None:
                _map_cache.move_to_end(key)
                return v
        with _receptor_file(receptor_pdbqt) as path:
            v = self._new_vina(path, box, seed)
        with _map_cache_lock:
            _map_cache[key] = v
            while len(_map_cache) > _MAP_CACHE_SIZE:
                _map_cache.popitem(last=False)
        return v

    def _dock_variant(self, v: Any, pdbqt: str) -> list[tuple[float, dict[str, float], str]]:
        p = self.params
        v.set_ligand_from_string(pdbqt)
        v.dock(exhaustiveness=p["exhaustiveness"], n_poses=p["n_poses"], min_rmsd=p["min_rmsd"],
               max_evals=p["max_evals"])
        energies = v.energies(n_poses=p["n_poses"], energy_range=p["energy_range"])
        models = split_pdbqt_models(v.poses(n_poses=p["n_poses"], energy_range=p["energy_range"]))
        out = []
        for row, model in zip(energies, models, strict=False):
            terms = {k: round(float(x), 4) for k, x in zip(_DOCK_TERMS, row, strict=False)}
            out.append((terms["total"], terms, model))
        return out

    def dock(
        self, receptor_pdbqt: str, box: Box, ligands: list[PreparedLigand], *, seed: int = 42
    ) -> list[LigandDockResult]:
        """Dock each ligand's variants with Vina into *box* (maps reused per receptor/box/seed), best pose first."""
        results: list[LigandDockResult] = []
        v = self._cached_vina(receptor_pdbqt, box, seed)
        for lig in ligands:
            t0 = time.perf_counter()
            try:
                raw: list[tuple[float, dict[str, float], str, str]] = []
                for variant in lig.variants:
                    for score, terms, model in self._dock_variant(v, variant.pdbqt):
                        raw.append((score, terms, model, variant.smiles))
                raw.sort(key=lambda r: r[0])
                raw = raw[: self.params["n_poses"]]
                poses = []
                for rank, (score, terms, model, smi) in enumerate(raw, 1):
                    sdf = pdbqt_to_sdf_blocks(model)[0]
                    poses.append(EnginePose(rank=rank, score=score, terms=terms, pdbqt=model, sdf=sdf,
                                      variant_smiles=smi))
                if not poses:
                    raise EngineError("Vina returned no pose; enlarge the box or check the ligand")
                error = None
            except Exception as exc:
                poses, error = [], one_line(exc, 1000, with_type=True)
            results.append(LigandDockResult(
                name=lig.name, input_hash=lig.input_hash, poses=poses, error=error,
                runtime_s=round(time.perf_counter() - t0, 3), engine=self.name,
                engine_version=self.version, params={**self.params, "seed": seed},
            ))
        return results

    def score(self, receptor_pdbqt: str, box: Box, pose_pdbqt: str) -> ScoredPose:
        """Vina's score and energy terms of the first model of *pose_pdbqt*, in place."""
        model = split_pdbqt_models(pose_pdbqt)[0]
        with _receptor_file(receptor_pdbqt) as path:
            v = self._new_vina(path, box, seed=1)
            try:
                v.set_ligand_from_string(model)
                row = v.score()
            except Exception as exc:
                raise EngineError(f"Vina could not score the pose ({exc}); is the pose inside the box?") from exc
        terms = {k: round(float(x), 4) for k, x in zip(_SCORE_TERMS, row, strict=False)}
        return ScoredPose(score=terms["total"], terms=terms)


@register_engine("vinardo")
class VinardoEngine(VinaEngine):
    """Vina with the Vinardo scoring function."""

    name = "vinardo"
    _default_sf = "vinardo"
