"""``dockdb validate redock``: redock the co-crystal ligands of the validation sets with each
engine and store one :class:`~dockdb.models.ValidationRun` per (set, engine).

The sets come from the source manifest (``data/sources.yaml``), so they are read from
``DOCKDB_MIRROR`` (``validation/redock/``) or the download cache:

* ``posebusters`` — the 4 PoseBusters example complexes (SMILES from the crystal SDF, all chains);
* ``xchem`` — the first ``xchem_limit`` non-covalent Mpro XChem fragment complexes (chain A);
* ``heldout`` — crystal complexes that are not in the shared mirror (``data/redock_heldout.yaml``,
  :mod:`jobs.validation.heldout`), downloaded from PyPI; ``all`` is the first two.

Each complex is prepared once (receptor, ligand from SMILES, crystal-ligand box) and docked
by every engine asked for.  A complex that fails is recorded with its error and the run
carries on; the stored summary counts it as a failure.
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dockdb.config import Config
from dockdb.db import Database
from dockdb.errors import EngineError, InputError
from docking.redock import SUCCESS_RMSD, RedockRecord, success_summary

if TYPE_CHECKING:
    from docking.engines.base import DockingEngine

__all__ = [
    "SETS",
    "RedockComplex",
    "RedockOptions",
    "RedockOutcome",
    "SetResult",
    "load_set",
    "parse_engines",
    "parse_sets",
    "rmsd_ecdf_png",
    "run_redock",
]

SETS = ("posebusters", "xchem", "heldout")
ALL_SETS = ("posebusters", "xchem")  # `all`: the sets of the shared mirror (heldout is downloaded)
DEFAULT_XCHEM_LIMIT = 24
_POSEBUSTERS_KEY = re.compile(r"^redock-posebusters-([A-Za-z0-9]+)-ligand$")
XCHEM_SOURCE = "redock-mpro-xchem"


@dataclass(frozen=True)
class RedockComplex:
    """One crystal complex of a validation set."""

    id: str
    protein_pdb: str
    ligand: Any  # RDKit molecule with the crystal coordinates
    smiles: str | None = None  # None: taken from the crystal ligand
    keep_chains: tuple[str, ...] = ()  # empty: all chains


@dataclass(frozen=True)
class RedockOptions:
    """What to redock and how (the CLI's options, validated by :func:`parse_sets`/:func:`parse_engines`)."""

    sets: tuple[str, ...] = SETS
    engines: tuple[str, ...] = ("vina",)
    exhaustiveness: int = 8
    n_poses: int = 9
    xchem_limit: int | None = DEFAULT_XCHEM_LIMIT
    seed: int = 42
    cpu: int = 0
    complexes: tuple[str, ...] = ()  # only these complex ids (empty: every complex of the sets)

    def as_params(self) -> dict[str, Any]:
        """The options as the ``params`` stored with the validation run."""
        return {
            "sets": list(self.sets),
            "engines": list(self.engines),
            "exhaustiveness": self.exhaustiveness,
            "n_poses": self.n_poses,
            "xchem_limit": self.xchem_limit,
            "seed": self.seed,
            "cpu": self.cpu,
            "complexes": list(self.complexes),
            "success_rmsd": SUCCESS_RMSD,
            "box": "crystal ligand heavy atoms + 6 A each side, sides >= 20 A",
        }


@dataclass
class SetResult:
    """The stored run of one (set, engine)."""

    set: str
    engine: str
    run_id: int
    summary: dict[str, Any]
    records: list[RedockRecord]


@dataclass
class RedockOutcome:
    """The redocking results of every (set, engine) asked for."""
    results: list[SetResult] = field(default_factory=list)

    @property
    def n_records(self) -> int:
        """Number of complexes redocked over all sets and engines."""
        return sum(len(r.records) for r in self.results)

    @property
    def errors(self) -> list[tuple[str, str, RedockRecord]]:
        """(set, engine, record) of every complex that produced no pose."""
        return [(r.set, r.engine, rec) for r in self.results for rec in r.records if rec.error is not None]

    @property
    def exit_code(self) -> int:
        """0 all docked, 4 some complexes failed, 3 nothing docked."""
        if self.n_records == 0 or len(self.errors) == self.n_records:
            return 3
        return 4 if self.errors else 0


# ----------------------------------------------------------------------------- options


def parse_sets(value: str) -> tuple[str, ...]:
    """``posebusters``, ``xchem``, ``all`` or a comma-separated list of sets."""
    names = [v.strip().lower() for v in str(value).split(",") if v.strip()]
    if not names:
        raise InputError("--set is empty; choose posebusters, xchem, heldout or all")
    out: list[str] = []
    for name in names:
        if name == "all":
            chosen: Sequence[str] = ALL_SETS
        elif name in SETS:
            chosen = (name,)
        else:
            raise InputError(f"unknown redocking set {name[:40]!r}; choose posebusters, xchem, heldout or all")
        out.extend(s for s in chosen if s not in out)
    return tuple(out)


def parse_engines(value: str) -> tuple[str, ...]:
    """A comma-separated list of engine specs: a registered engine name with optional
    ``:KEY=VALUE`` parameters (``vina``, ``vina,torch,torch:mode=detail``)."""
    names = [v.strip().lower() for v in str(value).split(",") if v.strip()]
    if not names:
        raise InputError("--engine is empty; give one or more engines, e.g. vina or vina,torch")
    for name in names:
        engine_spec(name)
    return tuple(dict.fromkeys(names))


def engine_spec(spec: str) -> tuple[str, dict[str, Any]]:
    """``torch:mode=detail:chains=32`` -> (``torch``, {mode: detail, chains: 32}); an unknown
    engine or a parameter that is not KEY=VALUE is an InputError."""
    from docking.engines import available_engines
    from docking.engines.params import param_value

    name, *pairs = spec.split(":")
    known = available_engines()
    if name not in known:
        raise InputError(f"unknown docking engine {name[:40]!r}; choose from: {', '.join(known)}")
    params: dict[str, Any] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key.strip() or not text.strip():
            raise InputError(f"engine parameter {pair[:40]!r} in {spec[:60]!r} is not KEY=VALUE; "
                             "write it like torch:mode=detail")
        params[key.strip()] = param_value(text)
    return name, params


def _check_numbers(options: RedockOptions) -> None:
    if options.exhaustiveness < 1:
        raise InputError(f"--exhaustiveness must be at least 1 (got {options.exhaustiveness})")
    if options.n_poses < 1:
        raise InputError(f"--poses must be at least 1 (got {options.n_poses})")
    if options.xchem_limit is not None and options.xchem_limit < 1:
        raise InputError(f"--xchem-limit must be at least 1, or 0 for every complex (got {options.xchem_limit})")
    if options.cpu < 0:
        raise InputError(f"--cpu must be 0 (all cores) or more (got {options.cpu})")


# ----------------------------------------------------------------------------- data


def _posebusters(config: Config, only: set[str] | None) -> list[RedockComplex]:
    from rdkit import Chem

    from dockdb.errors import SourceError
    from dockdb.sources import fetch, manifest

    ids = sorted(m.group(1) for key in manifest() if (m := _POSEBUSTERS_KEY.match(key)))
    out = []
    for pdb_id in ids:
        if only is not None and pdb_id not in only:
            continue
        sdf = fetch(f"redock-posebusters-{pdb_id}-ligand", config)
        pdb = fetch(f"redock-posebusters-{pdb_id}-protein-one-lig-removed", config)
        ligand = Chem.MolFromMolFile(str(sdf), removeHs=False)
        if ligand is None:
            raise SourceError(f"RDKit cannot read the crystal ligand {sdf}; restore the mirror copy")
        out.append(RedockComplex(pdb_id, pdb.read_text(), ligand))
    return out


def _xchem(config: Config, limit: int | None, only: set[str] | None) -> list[RedockComplex]:
    from dockdb.sources import fetch
    from docking.redock import load_xchem_complexes

    tarball = fetch(XCHEM_SOURCE, config)
    complexes = load_xchem_complexes(tarball, limit=None if only is not None else limit)
    if only is not None:
        complexes = [c for c in complexes if c.id in only]
    return [RedockComplex(c.id, c.protein_pdb, c.ligand, c.smiles, ("A",)) for c in complexes]


def load_set(config: Config, name: str, *, xchem_limit: int | None = DEFAULT_XCHEM_LIMIT,
             only: Sequence[str] = ()) -> list[RedockComplex]:
    """The complexes of set ``name`` (``only``: keep just these ids)."""
    wanted = set(only) if only else None
    if name == "posebusters":
        return _posebusters(config, wanted)
    if name == "xchem":
        return _xchem(config, xchem_limit, wanted)
    if name == "heldout":
        from jobs.validation.heldout import load_heldout

        return load_heldout(config, wanted)
    raise InputError(f"unknown redocking set {name!r}; choose posebusters, xchem, heldout or all")


# ----------------------------------------------------------------------------- plot


def rmsd_ecdf_png(set_name: str, records_by_engine: dict[str, list[RedockRecord]]) -> str:
    """ECDF of top-pose RMSD, one step line per engine, with the 2 Å success line (base64 PNG).

    The fraction is over every complex of the set, so a complex that failed to dock keeps
    the curve below 1."""
    from jobs.validation.store import png

    def draw(ax: Any) -> None:
        xmax = 10.0
        for engine, records in records_by_engine.items():
            n = len(records)
            values = sorted(r.top_rmsd for r in records if r.top_rmsd is not None)
            if not n:
                continue
            xmax = max([xmax, *(v * 1.05 for v in values)])
            xs = [0.0, *values, 1000.0]  # the tail runs past any x limit
            ys = [0.0, *((i + 1) / n for i in range(len(values))), len(values) / n]
            ok = sum(1 for v in values if v < SUCCESS_RMSD)
            ax.step(xs, ys, where="post", linewidth=1.8, label=f"{engine}: {ok}/{n} < {SUCCESS_RMSD:g} Å")
        ax.axvline(SUCCESS_RMSD, color="grey", linestyle="--", linewidth=1)
        ax.set_xlim(0, xmax)
        ax.set_ylim(0, 1.02)
        ax.set_xlabel("top-pose heavy-atom RMSD to the crystal ligand (Å)")
        ax.set_ylabel("fraction of complexes")
        ax.set_title(f"Redocking, {set_name}: top-pose RMSD")
        ax.legend(loc="lower right")
        ax.grid(alpha=0.3)

    return png(draw)


# ----------------------------------------------------------------------------- run


def _progress(total: int, desc: str, enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="dock", file=sys.stderr, disable=not enabled, dynamic_ncols=True,
                mininterval=0.5)


def redock_engine(spec: str, options: RedockOptions) -> DockingEngine:
    """The engine of ``spec`` (``torch:mode=detail:exhaustiveness=32``) with the command's
    exhaustiveness, poses and threads, except where the spec sets them for that engine."""
    from docking.redock import engine_for_redock

    base, extra = engine_spec(spec)
    settings = {"exhaustiveness": options.exhaustiveness, "n_poses": options.n_poses, "cpu": options.cpu, **extra}
    try:
        return engine_for_redock(base, **settings)
    except EngineError as e:
        raise InputError(str(e)) from e


def run_redock(db: Database, config: Config, options: RedockOptions, *, command: str,
               progress: bool = True, echo: Callable[[str], None] | None = None) -> RedockOutcome:
    """Redock every complex of ``options.sets`` with each engine; store one run per (set, engine).

    Each set's runs are stored (committed) as soon as that set is finished.  ``echo`` gets a
    line per complex that failed.
    """
    from docking.redock import dock_complex, prepare_complex
    from jobs.validation.store import save_run

    _check_numbers(options)
    engines = {name: redock_engine(name, options) for name in options.engines}
    db.require_head()
    loaded = {name: load_set(config, name, xchem_limit=options.xchem_limit, only=options.complexes)
              for name in options.sets}
    if options.complexes:
        found = {c.id for cs in loaded.values() for c in cs}
        missing = [c for c in options.complexes if c not in found]
        if missing:
            raise InputError(f"no complex {', '.join(missing)[:120]} in set(s) {', '.join(options.sets)}; "
                             "ids are like 1ia1 (posebusters), Mpro-x0072 (xchem) or 1hvr (heldout)")
    outcome = RedockOutcome()
    for set_name, complexes in loaded.items():
        if not complexes:
            continue
        records: dict[str, list[RedockRecord]] = {name: [] for name in engines}
        t0 = time.perf_counter()
        with _progress(len(complexes) * len(engines), f"redock {set_name}", progress) as bar:
            for c in complexes:
                bar.set_postfix_str(c.id)
                prepared = prepare_complex(c.id, c.protein_pdb, c.ligand, smiles=c.smiles,
                                           keep_chains=list(c.keep_chains), seed=options.seed)
                for name, engine in engines.items():
                    rec = dock_complex(prepared, engine, seed=options.seed)
                    records[name].append(rec)
                    if rec.error is not None and echo is not None:
                        echo(f"  {set_name} {c.id} ({name}): {rec.error}")
                    bar.update(1)
        runtime = time.perf_counter() - t0
        plot = rmsd_ecdf_png(set_name, records)
        with db.session() as s:
            for name, engine in engines.items():
                summary = success_summary(records[name])
                params = {**options.as_params(), "set": set_name, "engine_params": _jsonable(engine.params),
                          "engine_version": engine.version, "complexes_in_set": [c.id for c in complexes]}
                run = save_run(
                    s, kind="redock", label=set_name, engine=name, params=params, summary=summary,
                    rows=[_row(r) for r in records[name]], command=command, plots={"rmsd_ecdf": plot},
                    runtime_s=round(runtime, 1),
                )
                outcome.results.append(SetResult(set_name, name, run.id, summary, records[name]))
    return outcome


def _row(r: RedockRecord) -> dict[str, Any]:
    return {
        "id": r.id,
        "heavy_atoms": r.n_heavy,
        "top_score": r.top_score,
        "top_rmsd": r.top_rmsd,
        "best_rmsd": r.best_rmsd,
        "success": r.success,
        "n_poses": r.n_poses,
        "seconds": r.runtime_s,
        "error": r.error,
    }


def _jsonable(params: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if v is None or isinstance(v, str | int | float | bool)}
