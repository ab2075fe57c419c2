"""The target registry (data/targets.yaml) with its pockets, and loading it into the database.

Pocket numbers are never copied into the registry: the focused pocket of each target is
read from its row of ``pockets.tsv`` (source ``targets-pockets``) and the blind pocket from
DockCoV2's Vina ``.conf`` file (source ``blind_source``).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from dockdb.config import Config
from dockdb.errors import ConfigError, NotFoundError, SourceError, UnknownNameError
from dockdb.models import Pocket, Target
from dockdb.sources import DATA_DIR, get_source
from docking.pocket import Box, parse_vina_conf
from ingest.common import SourceReport, read_table, source_text, sync_rows

REGISTRY_PATH = DATA_DIR / "targets.yaml"
_RESIDUE = re.compile(r"\b[A-Z][a-z]{2}(-?\d+)\*?")
_CHAIN_PREFIX = re.compile(r"^\s*chain\s+([A-Za-z0-9])\s*:\s*", re.IGNORECASE)
SPEC_KEYS = ("structure_source", "keep_chains", "remove_chains", "keep_hetero", "pocket_row", "blind_source",
             "dockcov2_protein")


@dataclass(frozen=True)
class PocketSpec:
    """A docking box of a target (focused or blind) with its residues, basis and literature."""
    kind: str  # "focused" or "blind"
    center: tuple[float, float, float]
    size: tuple[float, float, float]
    residues: list[str] = field(default_factory=list)
    basis: str | None = None
    literature: str | None = None

    @property
    def box(self) -> Box:
        """The pocket as a docking Box."""
        return Box(self.center, self.size)


@dataclass(frozen=True)
class TargetSpec:
    """One target of the registry: identity, structure source, chain/hetero selection and pockets."""
    key: str
    name: str
    organism: str | None
    uniprot: str | None
    gene: str | None
    structure: str | None
    structure_source: str
    keep_chains: list[str]
    remove_chains: dict[str, str]
    keep_hetero: list[str]
    pocket_row: str | None
    blind_source: str | None
    dockcov2_protein: str | None
    pockets: list[PocketSpec] = field(default_factory=list)

    def pocket(self, kind: str) -> PocketSpec:
        """The pocket of *kind*; NotFoundError listing the kinds the target has."""
        for p in self.pockets:
            if p.kind == kind:
                return p
        raise NotFoundError(f"target {self.key} has no {kind} pocket; known: {', '.join(p.kind for p in self.pockets)}")

    @property
    def spec(self) -> dict[str, Any]:
        """The preparation spec stored on Target.spec."""
        d = asdict(self)
        return {k: d[k] for k in SPEC_KEYS}


def parse_residues(text: str, default_chain: str | None = None) -> list[str]:
    """``'Thr24 Leu27* (<=4.5 A; *lit)'`` -> ``['A:24', 'A:27']`` (bare numbers without a chain).

    A leading ``chain B:`` names the chain; otherwise ``default_chain`` (the single kept chain).
    """
    body = re.sub(r"\([^)]*\)", " ", text or "")
    chain = default_chain
    m = _CHAIN_PREFIX.match(body)
    if m:
        chain = m.group(1)
        body = body[m.end():]
    nums = _RESIDUE.findall(body)
    return [f"{chain}:{n}" if chain else n for n in nums]


def _xyz(text: str, what: str) -> tuple[float, float, float]:
    try:
        parts = [float(v) for v in text.replace(" ", "").split(",")]
    except ValueError:
        parts = []
    if len(parts) != 3:
        raise SourceError(f"source targets-pockets: {what} {text!r} is not three comma-separated numbers")
    return (parts[0], parts[1], parts[2])


def registry_entries(path: Path = REGISTRY_PATH) -> list[dict[str, Any]]:
    """The raw entries of the target registry YAML; ConfigError when it cannot be read."""
    try:
        raw = yaml.safe_load(path.read_text())
        entries = raw["targets"]
    except (OSError, yaml.YAMLError, KeyError, TypeError) as e:
        raise ConfigError(f"cannot read the target registry {path}: {e}; restore it from git") from e
    return list(entries)


def load_registry(config: Config, path: Path = REGISTRY_PATH) -> list[TargetSpec]:
    """The registered targets with their focused (pockets.tsv) and blind (.conf) pockets."""
    rows = {r["target_key"]: r for r in read_table(
        "targets-pockets", config,
        required=("target_key", "pocket_residues_file_numbering", "box_basis", "box_center_xyz", "box_size_xyz",
                  "literature_source"))}
    specs: list[TargetSpec] = []
    for e in registry_entries(path):
        keep = [str(c) for c in e.get("keep_chains") or []]
        pockets: list[PocketSpec] = []
        row_key = e.get("pocket_row")
        if row_key:
            row = rows.get(row_key)
            if row is None:
                raise SourceError(f"source targets-pockets: no row {row_key!r} for target {e['key']}")
            pockets.append(PocketSpec(
                kind="focused",
                center=_xyz(row["box_center_xyz"], "box_center_xyz"),
                size=_xyz(row["box_size_xyz"], "box_size_xyz"),
                residues=parse_residues(row["pocket_residues_file_numbering"], keep[0] if len(keep) == 1 else None),
                basis=row["box_basis"] or None,
                literature=row["literature_source"] or None,
            ))
        if e.get("blind_source"):
            _, conf = source_text(e["blind_source"], config)
            box = parse_vina_conf(conf)
            exh = re.search(r"exhaustiveness\s*=\s*(\d+)", conf)
            basis = "DockCoV2 whole-protein (blind) box from its Vina .conf"
            if exh:
                basis += f" (exhaustiveness {exh.group(1)})"
            pockets.append(PocketSpec("blind", box.center, box.size, [], basis,
                                      "Chen T-F et al. Nucleic Acids Res 2021;49:D1152 (doi 10.1093/nar/gkaa861)"))
        specs.append(TargetSpec(
            key=str(e["key"]), name=str(e["name"]), organism=e.get("organism"), uniprot=e.get("uniprot"),
            gene=e.get("gene"), structure=None if e.get("structure") is None else str(e["structure"]),
            structure_source=str(e["structure_source"]), keep_chains=keep,
            remove_chains={str(k): str(v) for k, v in (e.get("remove_chains") or {}).items()},
            keep_hetero=[str(h) for h in e.get("keep_hetero") or []],
            pocket_row=row_key, blind_source=e.get("blind_source"), dockcov2_protein=e.get("dockcov2_protein"),
            pockets=pockets,
        ))
    return specs


def get_target_spec(config: Config, key: str) -> TargetSpec:
    """The registry entry *key*; UnknownNameError when it is not registered."""
    for spec in load_registry(config):
        if spec.key == key:
            return spec
    raise UnknownNameError(f"unknown target {key!r}; run `dockdb target list` to see the registered targets")


def pocket_row(target_id: int, p: PocketSpec) -> dict[str, Any]:
    """The ``pockets`` table row of pocket *p* of target *target_id*."""
    return {
        "target_id": target_id, "kind": p.kind, "basis": p.basis, "residues": list(p.residues),
        "center_x": p.center[0], "center_y": p.center[1], "center_z": p.center[2],
        "size_x": p.size[0], "size_y": p.size[1], "size_z": p.size[2], "literature": p.literature,
    }


def store_target(
    session: Session,
    row: dict[str, Any],
    pockets: list[PocketSpec],
    pdb_text: str,
) -> tuple[int, int]:
    """Insert or update one target (with its source PDB and sha256) and its pockets."""
    row = {**row, "source_pdb": pdb_text, "source_hash": hashlib.sha256(pdb_text.encode()).hexdigest()}
    counts = sync_rows(session, Target, ("key",), [row])
    tid = session.scalar(select(Target.id).where(Target.key == row["key"]))
    assert tid is not None
    pc = sync_rows(session, Pocket, ("target_id", "kind"), [pocket_row(tid, p) for p in pockets],
                   where=Pocket.target_id == tid)
    return (counts[0] + pc[0], counts[1] + pc[1])


def ingest_targets(session: Session, config: Config, report: SourceReport) -> None:
    """Load every registry target with its structure text and pockets."""
    specs = load_registry(config)
    report.read = len(specs)
    for spec in specs:
        _, pdb_text = source_text(spec.structure_source, config)
        row = {
            "key": spec.key, "name": spec.name, "organism": spec.organism, "uniprot": spec.uniprot,
            "gene": spec.gene, "structure_id": spec.structure, "source_url": get_source(spec.structure_source).url,
            "spec": spec.spec,
        }
        report.add(store_target(session, row, spec.pockets, pdb_text), "target+pocket")
    report.details["targets"] = len(specs)
