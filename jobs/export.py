"""Exporting a campaign: results as CSV or Parquet, every pose as SDF, the manifest as JSON."""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from sqlalchemy import func, select

from dockdb.db import Database
from dockdb.errors import CampaignError, InputError
from dockdb.models import DockingResult, Drug, Pose, Receptor, Target
from docking.poses import pose_tags, pose_title, sdf_record
from jobs.campaign import get_campaign

__all__ = ["EXPORT_FORMATS", "RESULT_COLUMNS", "export_campaign", "manifest_json", "result_rows"]

EXPORT_FORMATS = ("csv", "sdf", "parquet")
RESULT_COLUMNS = (
    "campaign_id", "campaign", "target", "receptor_id", "drug_id", "drug", "inchikey", "status",
    "best_score", "n_poses", "runtime_s", "attempts", "ligand_smiles", "error",
)


def result_rows(db: Database, campaign_id: int | str) -> Iterator[dict[str, Any]]:
    """One dict per stored docking result, ordered by target then score."""
    with db.session() as s:
        c = get_campaign(s, campaign_id)
        n_poses = (
            select(Pose.result_id, func.count().label("n")).group_by(Pose.result_id).subquery()
        )
        q = (
            select(DockingResult, Target.key, Drug.name, Drug.inchikey, n_poses.c.n)
            .join(Receptor, Receptor.id == DockingResult.receptor_id)
            .join(Target, Target.id == Receptor.target_id)
            .join(Drug, Drug.id == DockingResult.drug_id)
            .outerjoin(n_poses, n_poses.c.result_id == DockingResult.id)
            .where(DockingResult.campaign_id == c.id)
            .order_by(Target.id, DockingResult.best_score.is_(None), DockingResult.best_score, Drug.id)
        )
        for r, key, name, inchikey, n in s.execute(q):
            yield {
                "campaign_id": c.id, "campaign": c.name, "target": key, "receptor_id": r.receptor_id,
                "drug_id": r.drug_id, "drug": name, "inchikey": inchikey, "status": r.status,
                "best_score": r.best_score, "n_poses": int(n or 0), "runtime_s": r.runtime_s,
                "attempts": r.attempts, "ligand_smiles": r.ligand_smiles, "error": r.error,
            }


def _write_csv(rows: Iterator[dict[str, Any]], fh: IO[str]) -> int:
    w = csv.DictWriter(fh, fieldnames=list(RESULT_COLUMNS), lineterminator="\n")
    w.writeheader()
    n = 0
    for row in rows:
        w.writerow(row)
        n += 1
    return n


def _write_parquet(rows: Iterator[dict[str, Any]], path: Path) -> int:
    import pandas as pd

    df = pd.DataFrame(list(rows), columns=list(RESULT_COLUMNS))
    df.to_parquet(path, index=False)
    return len(df)


def _write_sdf(db: Database, campaign_id: int, fh: IO[str]) -> int:
    """Every pose with an SDF block, titled and tagged like every pose SDF DockDB writes (docking.poses)."""
    n = 0
    with db.session() as s:
        q = (
            select(Pose, Target.key, Drug.name, Drug.inchikey, DockingResult.id, Drug.id)
            .join(DockingResult, DockingResult.id == Pose.result_id)
            .join(Receptor, Receptor.id == DockingResult.receptor_id)
            .join(Target, Target.id == Receptor.target_id)
            .join(Drug, Drug.id == DockingResult.drug_id)
            .where(DockingResult.campaign_id == campaign_id, Pose.sdf.is_not(None))
            .order_by(Target.id, Drug.id, Pose.rank)
        )
        for pose, key, name, inchikey, result_id, drug_id in s.execute(q).yield_per(200):
            assert pose.sdf is not None  # the query keeps only poses with an SDF
            tags = pose_tags(name, key, pose.rank, pose.score, inchikey=inchikey, drug_id=drug_id,
                             campaign_id=campaign_id, result_id=result_id, pose_id=pose.id)
            fh.write(sdf_record(pose.sdf, pose_title(name, key, pose.rank), tags))
            n += 1
    return n


def manifest_json(db: Database, campaign_id: int | str) -> str:
    """The campaign's manifest and its hash as sorted, indented JSON."""
    with db.session() as s:
        c = get_campaign(s, campaign_id)
        return json.dumps({"manifest_hash": c.manifest_hash, **(c.manifest or {})}, indent=2, sort_keys=True)


def export_campaign(db: Database, campaign_id: int | str, fmt: str, out: str | Path | None = None) -> tuple[int, str]:
    """Write the export; returns (records written, where).  ``out='-'`` writes CSV/SDF to stdout."""
    if fmt not in EXPORT_FORMATS:
        raise InputError(f"--format must be one of {', '.join(EXPORT_FORMATS)} (got {fmt!r})")
    with db.session() as s:
        cid = get_campaign(s, campaign_id).id
    target = out if out is not None else f"campaign-{cid}.{fmt}"
    if fmt == "parquet":
        if str(target) == "-":
            raise InputError("parquet cannot go to stdout; give --out FILE")
        path = Path(target)
        _check_parent(path)
        return _write_parquet(result_rows(db, cid), path), str(path)
    if str(target) == "-":
        buf = io.StringIO()
        n = _write_csv(result_rows(db, cid), buf) if fmt == "csv" else _write_sdf(db, cid, buf)
        sys.stdout.write(buf.getvalue())
        return n, "stdout"
    path = Path(target)
    _check_parent(path)
    with path.open("w", newline="") as fh:
        n = _write_csv(result_rows(db, cid), fh) if fmt == "csv" else _write_sdf(db, cid, fh)
    return n, str(path)


def _check_parent(path: Path) -> None:
    if not path.parent.exists():
        raise CampaignError(f"cannot write {path}: directory {path.parent} does not exist")
