"""The prepared-ligand cache (table ``prepared_ligand``): each (SMILES, seed, protocol) prepared once.

Undockable molecules are cached too, with their reason, so a campaign does not retry a
deterministic failure on every run.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from dockdb.models import PreparedLigand
from jobs.tasks import LigandPrep

__all__ = ["cached_ligands", "ligand_protocol", "store_ligand"]


def ligand_protocol() -> str:
    """Version tag of the ligand-preparation protocol that cached ligands must match."""
    from docking import ligand as lig

    return str(lig.PROTOCOL_VERSION)


def cached_ligands(
    session: Session, wanted: Iterable[tuple[int, str]], seed: int, protocol: str
) -> dict[int, LigandPrep]:
    """drug_id -> cached preparation for each (drug_id, smiles) of *wanted* found in the cache."""
    by_smiles: dict[str, list[int]] = {}
    for drug_id, smiles in wanted:
        by_smiles.setdefault(smiles, []).append(drug_id)
    out: dict[int, LigandPrep] = {}
    items = list(by_smiles)
    for i in range(0, len(items), 500):
        chunk = items[i : i + 500]
        rows = session.scalars(
            select(PreparedLigand).where(
                PreparedLigand.smiles.in_(chunk),
                PreparedLigand.seed == seed,
                PreparedLigand.protocol_version == protocol,
            )
        )
        for row in rows:
            for drug_id in by_smiles.get(row.smiles, []):
                out[drug_id] = LigandPrep(
                    drug_id=drug_id,
                    smiles=row.smiles,
                    seed=row.seed,
                    input_hash=row.input_hash,
                    protocol_version=row.protocol_version,
                    variants=list(row.variants or []),
                    error=row.error,
                )
    return out


def store_ligand(session: Session, prep: LigandPrep) -> None:
    """Insert *prep* into the cache unless an entry for its inputs exists (idempotent)."""
    if prep.protocol_version is None:
        return
    input_hash = prep.input_hash or _failure_hash(prep)
    exists = session.scalar(
        select(PreparedLigand.id).where(
            PreparedLigand.input_hash == input_hash, PreparedLigand.protocol_version == prep.protocol_version
        )
    )
    if exists is None:
        exists = session.scalar(
            select(PreparedLigand.id).where(
                PreparedLigand.smiles == prep.smiles,
                PreparedLigand.seed == prep.seed,
                PreparedLigand.protocol_version == prep.protocol_version,
            )
        )
    if exists is not None:
        return
    session.add(
        PreparedLigand(
            input_hash=input_hash,
            protocol_version=prep.protocol_version,
            smiles=prep.smiles,
            seed=prep.seed,
            variants=prep.variants,
            error=prep.error,
        )
    )


def _failure_hash(prep: LigandPrep) -> str:
    import hashlib

    return hashlib.sha256(f"{prep.protocol_version}\x00{prep.smiles}\x00{prep.seed}".encode()).hexdigest()
