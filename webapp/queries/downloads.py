"""Downloads generated from the database: CSV tables and zip archives of CSV + SDF.

Nothing here takes a filesystem path from a request; archives are built in a spooled
temporary file (memory first, disk past 32 MiB) and streamed back.
"""

from __future__ import annotations

import csv
import io
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dockdb import models as m
from docking.poses import pose_tags, pose_title, sdf_record
from webapp.queries.campaigns import campaign_detail, get_campaign_model
from webapp.queries.common import DESCRIPTORS
from webapp.queries.reference import selected_campaign
from webapp.queries.targets import TableFilter, get_target_model, iter_table

TABLE_COLUMNS = (
    "rank",
    "drug_id",
    "name",
    "inchikey",
    "pubchem_cid",
    "drugbank_id",
    "chembl_id",
    "approval_status",
    "clinical_phase",
    "score",
    "score_campaign",
    "score_engine",
    "score_pocket",
    "ligand_efficiency",
    "size_z",
    "selectivity_z",
    "consensus_percentile",
    "engines_agree",
    "dockcov2_score",
    *DESCRIPTORS,
)
SPOOL_BYTES = 32 * 1024 * 1024
_FORMULA_START = ("=", "+", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    """CSV cell; text that a spreadsheet would run as a formula is prefixed with a quote."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return "" if value is None else value


def table_rows(session: Session, key: str, f: TableFilter) -> Iterator[list[Any]]:
    """The CSV rows of the table; the score columns name the one campaign they come from."""
    source = selected_campaign(session, get_target_model(session, key).id, f.campaign_id) or {}
    for i, row in enumerate(iter_table(session, key, f), start=1):
        yield [
            i,
            row["id"],
            row["name"],
            row["inchikey"],
            row["pubchem_cid"],
            row["drugbank_id"],
            row["chembl_id"],
            row["approval_status"],
            row["clinical_phase"],
            row["score"],
            source.get("name") if row["score"] is not None else None,
            source.get("engine") if row["score"] is not None else None,
            source.get("pocket") if row["score"] is not None else None,
            row["ligand_efficiency"],
            row["size_z"],
            row["selectivity_z"],
            row["consensus"],
            row["agree"],
            row["ref_score"],
            *(row[d] for d in DESCRIPTORS),
        ]


def csv_lines(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    """CSV text line by line (for streaming responses)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(list(header))
    for row in rows:
        writer.writerow([_cell(v) for v in row])
        if buf.tell() > 64 * 1024:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()


def table_csv(session: Session, key: str, f: TableFilter) -> IO[bytes]:
    """The whole filtered table as CSV, written while the request's session is open."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
    for chunk in csv_lines(TABLE_COLUMNS, table_rows(session, key, f)):
        spool.write(chunk.encode())
    spool.seek(0)
    return spool


def _best_poses(session: Session, where: Any) -> Iterator[tuple[Any, ...]]:
    dr = m.DockingResult
    stmt = (
        select(m.Pose.id, m.Pose.rank, m.Pose.score, m.Pose.sdf, dr.drug_id, m.Drug.name, dr.campaign_id, m.Target.key)
        .join(dr, dr.id == m.Pose.result_id)
        .join(m.Drug, m.Drug.id == dr.drug_id)
        .join(m.Receptor, m.Receptor.id == dr.receptor_id)
        .join(m.Target, m.Target.id == m.Receptor.target_id)
        .where(where, m.Pose.rank == 1, m.Pose.sdf.is_not(None))
        .order_by(m.Target.key, dr.campaign_id, m.Pose.score, m.Pose.id)
    )
    yield from session.execute(stmt.execution_options(yield_per=1000))


def _write_sdf(zf: zipfile.ZipFile, name: str, poses: Iterable[tuple[Any, ...]]) -> int:
    n = 0
    with zf.open(name, "w", force_zip64=True) as fh:
        for pose_id, rank, score, sdf, drug_id, drug_name, campaign_id, target_key in poses:
            tags = pose_tags(drug_name, target_key, rank, score, drug_id=drug_id, campaign_id=campaign_id,
                             pose_id=pose_id)
            fh.write(sdf_record(sdf, pose_title(drug_name, target_key, rank), tags).encode())
            n += 1
    return n


def _write_csv(zf: zipfile.ZipFile, name: str, header: Iterable[str], rows: Iterable[Iterable[Any]]) -> None:
    with zf.open(name, "w", force_zip64=True) as fh:
        for chunk in csv_lines(header, rows):
            fh.write(chunk.encode())


def target_archive(session: Session, key: str) -> tuple[str, IO[bytes]]:
    """``<key>.zip``: the full ranked table (CSV) and every best pose on the target (SDF)."""
    target = get_target_model(session, key)
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
    with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        _write_csv(zf, f"{target.key}/scores.csv", TABLE_COLUMNS, table_rows(session, key, TableFilter()))
        _write_sdf(zf, f"{target.key}/best_poses.sdf", _best_poses(session, m.Receptor.target_id == target.id))
    spool.seek(0)
    return f"dockdb-target-{target.key}.zip", spool


RESULT_COLUMNS = ("result_id", "target", "drug_id", "name", "inchikey", "status", "best_score", "runtime_s", "error")


def _result_rows(session: Session, campaign_id: int) -> Iterator[list[Any]]:
    dr = m.DockingResult
    stmt = (
        select(
            dr.id,
            m.Target.key,
            dr.drug_id,
            m.Drug.name,
            m.Drug.inchikey,
            dr.status,
            dr.best_score,
            dr.runtime_s,
            dr.error,
        )
        .join(m.Drug, m.Drug.id == dr.drug_id)
        .join(m.Receptor, m.Receptor.id == dr.receptor_id)
        .join(m.Target, m.Target.id == m.Receptor.target_id)
        .where(dr.campaign_id == campaign_id)
        .order_by(m.Target.key, dr.best_score.is_(None), dr.best_score, dr.id)
    )
    for row in session.execute(stmt.execution_options(yield_per=2000)):
        yield list(row)


def campaign_archive(session: Session, campaign_id: int) -> tuple[str, IO[bytes]]:
    """``campaign-<id>.zip``: every result (CSV), the best pose of each (SDF), the manifest (JSON)."""
    import json

    c = get_campaign_model(session, campaign_id)
    detail = campaign_detail(session, campaign_id)
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
    base = f"campaign-{c.id}"
    with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        _write_csv(zf, f"{base}/results.csv", RESULT_COLUMNS, _result_rows(session, c.id))
        _write_sdf(zf, f"{base}/best_poses.sdf", _best_poses(session, m.DockingResult.campaign_id == c.id))
        zf.writestr(f"{base}/manifest.json", json.dumps(detail, indent=2, default=str))
    spool.seek(0)
    return f"dockdb-{base}.zip", spool
