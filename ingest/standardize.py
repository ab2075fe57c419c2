"""Structure standardisation with RDKit: one parent structure per input SMILES.

Pipeline (RDKit ``rdMolStandardize``): parse -> disconnect metals -> largest organic
fragment -> normalise functional groups -> neutralise (uncharge) -> canonical SMILES, with
the InChIKey recomputed from that parent, and descriptors computed on it.  Salts, hydrates
and charge states of one drug therefore share one InChIKey, which is what drugs are
merged on across sources.

Standardising ~10k molecules is the cost of ingestion, so :func:`standardize_many`
dedupes inputs, spreads large batches over worker processes and keeps a small on-disk
cache (keyed by RDKit version and :data:`PIPELINE_VERSION`) so repeated ingests are cheap.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass
from multiprocessing import get_all_start_methods, get_context
from pathlib import Path

PIPELINE_VERSION = "2"
PARALLEL_THRESHOLD = 800
CHUNK = 250


@dataclass(frozen=True)
class Standardized:
    """A standardised parent structure and its RDKit descriptors."""

    smiles: str
    inchikey: str
    mw: float
    clogp: float
    hbd: int
    hba: int
    tpsa: float
    rotatable_bonds: int
    heavy_atoms: int

    def descriptors(self) -> dict[str, float | int]:
        """The computed descriptors (every field except SMILES and InChIKey) as a dict."""
        d = asdict(self)
        d.pop("smiles")
        d.pop("inchikey")
        return d


class StandardizeError(ValueError):
    """An input structure cannot be parsed or standardised (message = the reason)."""


_TOOLS: dict[str, object] = {}


def _tools() -> dict[str, object]:
    if not _TOOLS:
        from rdkit import RDLogger
        from rdkit.Chem.MolStandardize import rdMolStandardize

        RDLogger.DisableLog("rdApp.*")
        _TOOLS.update(
            metal=rdMolStandardize.MetalDisconnector(),
            fragment=rdMolStandardize.LargestFragmentChooser(preferOrganic=True),
            normalizer=rdMolStandardize.Normalizer(),
            uncharger=rdMolStandardize.Uncharger(),
        )
    return _TOOLS


def parent_mol(mol: object) -> object:
    """The standardised parent of an RDKit molecule (a new molecule)."""
    from rdkit import Chem

    tools = _tools()
    m = Chem.Mol(mol)
    m = tools["metal"].Disconnect(m)  # type: ignore[attr-defined]
    m = tools["fragment"].choose(m)  # type: ignore[attr-defined]
    m = tools["normalizer"].normalize(m)  # type: ignore[attr-defined]
    m = tools["uncharger"].uncharge(m)  # type: ignore[attr-defined]
    Chem.SanitizeMol(m)
    return m


def standardize_mol(mol: object) -> Standardized:
    """Standardise an RDKit molecule; raise :class:`StandardizeError` with the reason."""
    from rdkit import Chem
    from rdkit.Chem import Crippen, Descriptors, Lipinski, rdMolDescriptors

    if mol is None:
        raise StandardizeError("unparsable structure")
    try:
        m = parent_mol(mol)
    except Exception as e:  # RDKit raises several unrelated types
        raise StandardizeError(f"standardisation failed: {e}") from None
    if m.GetNumHeavyAtoms() == 0:  # type: ignore[attr-defined]
        raise StandardizeError("no heavy atoms after standardisation")
    smiles = Chem.MolToSmiles(m)
    inchikey = Chem.MolToInchiKey(m)
    if not inchikey:
        raise StandardizeError("no InChIKey can be computed")
    return Standardized(
        smiles=smiles,
        inchikey=inchikey,
        mw=round(Descriptors.MolWt(m), 3),
        clogp=round(Crippen.MolLogP(m), 3),
        hbd=int(Lipinski.NumHDonors(m)),
        hba=int(Lipinski.NumHAcceptors(m)),
        tpsa=round(rdMolDescriptors.CalcTPSA(m), 3),
        rotatable_bonds=int(rdMolDescriptors.CalcNumRotatableBonds(m)),
        heavy_atoms=int(m.GetNumHeavyAtoms()),  # type: ignore[attr-defined]
    )


def standardize_smiles(smiles: str) -> Standardized:
    """Standardise one SMILES; raise :class:`StandardizeError` with the reason."""
    from rdkit import Chem

    text = (smiles or "").strip()
    if not text:
        raise StandardizeError("empty SMILES")
    _tools()
    mol = Chem.MolFromSmiles(text)
    if mol is None and " |" in text:  # a damaged CXSMILES extension: use the plain SMILES part
        mol = Chem.MolFromSmiles(text.split(" |", 1)[0])
    if mol is None and "\\\\" in text:  # doubly escaped bond directions
        mol = Chem.MolFromSmiles(text.replace("\\\\", "\\"))
    if mol is None:
        raise StandardizeError(f"unparsable SMILES {text[:60]!r}")
    return standardize_mol(mol)


Outcome = Standardized | str  # a result, or the reason it failed


def _one(smiles: str) -> tuple[str, dict | str]:
    try:
        return smiles, asdict(standardize_smiles(smiles))
    except StandardizeError as e:
        return smiles, str(e)


def _batch(smiles: list[str]) -> list[tuple[str, dict | str]]:
    return [_one(s) for s in smiles]


def _usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _parallel(todo: list[str], workers: int) -> list[tuple[str, dict | str]]:
    # fork: workers need only RDKit and must not re-import the caller's __main__ (spawn would)
    method = "fork" if "fork" in get_all_start_methods() else "spawn"
    chunks = [todo[i : i + CHUNK] for i in range(0, len(todo), CHUNK)]
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=get_context(method)) as pool:
            return [r for part in pool.map(_batch, chunks) for r in part]
    except (BrokenProcessPool, OSError):
        return _batch(todo)  # no worker processes available: do it here


def _cache_path(cache_dir: Path) -> Path:
    from rdkit import rdBase

    return cache_dir / f"standardize-rdkit{rdBase.rdkitVersion}-p{PIPELINE_VERSION}.json"


def _load_cache(path: Path | None) -> dict[str, dict | str]:
    if path is None or not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}  # a damaged cache is only a slower run
    return data if isinstance(data, dict) else {}


def _save_cache(path: Path, data: dict[str, dict | str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".std.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh)
        os.replace(tmp, path)
    except OSError:
        Path(tmp).unlink(missing_ok=True)


def standardize_many(
    smiles: Iterable[str], *, cache_dir: Path | None = None, workers: int | None = None
) -> dict[str, Outcome]:
    """Standardise distinct SMILES: ``{input: Standardized | reason}``.

    Batches above :data:`PARALLEL_THRESHOLD` new molecules run on ``workers`` processes
    (default: every CPU).  With ``cache_dir`` results persist between runs.
    """
    wanted = {s for s in smiles if s is not None}
    path = _cache_path(cache_dir) if cache_dir is not None else None
    cache = _load_cache(path)
    todo = sorted(s for s in wanted if s not in cache)
    if todo:
        n = workers if workers is not None else _usable_cpus()
        if len(todo) < PARALLEL_THRESHOLD or n < 2:
            results = _batch(todo)
        else:
            results = _parallel(todo, n)
        cache.update(results)
        if path is not None:
            _save_cache(path, cache)
    out: dict[str, Outcome] = {}
    for s in wanted:
        value = cache[s]
        out[s] = Standardized(**value) if isinstance(value, dict) else value
    return out
