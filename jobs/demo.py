"""The README demo campaign: ten small approved drugs x the focused pocket of every target.

Sized from times measured on a 2-core machine so that it finishes in under 20 minutes there
(see docs/benchmarks.md, "Campaign scaling").  Running the demo again reuses the stored
campaign and docks only what is missing.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from dockdb.db import Database
from dockdb.models import Campaign, Drug, DrugSynonym, Library, LibraryMember
from jobs.campaign import CampaignSpec, create_campaign

__all__ = ["DEMO_DRUGS", "DEMO_LIBRARY", "DEMO_NAME", "DEMO_PARAMS", "demo_drugs", "ensure_demo"]

DEMO_NAME = "demo"
DEMO_LIBRARY = "fda-approved"
# Small approved drugs with few rotatable bonds (they dock fast), several discussed for COVID-19.
DEMO_DRUGS = (
    "paracetamol", "acetylsalicylic acid", "ibuprofen", "amantadine", "captopril",
    "ribavirin", "niclosamide", "famotidine", "oseltamivir", "baricitinib",
)
DEMO_PARAMS = {"exhaustiveness": 2, "n_poses": 5}
DEMO_SEED = 42
DEMO_SIZE = len(DEMO_DRUGS)


def demo_drugs(db: Database) -> list[str]:
    """The demo drugs found in the library; topped up with its smallest members if some are absent."""
    with db.session() as s:
        lib_id = s.scalar(select(Library.id).where(Library.name == DEMO_LIBRARY))
        if lib_id is None:
            return list(DEMO_DRUGS)  # create_campaign reports the missing library
        members = select(LibraryMember.drug_id).where(LibraryMember.library_id == lib_id)
        found: list[str] = []
        for name in DEMO_DRUGS:
            hit = s.scalar(
                select(Drug.id)
                .outerjoin(DrugSynonym, DrugSynonym.drug_id == Drug.id)
                .where((Drug.name_lower == name) | (DrugSynonym.name_lower == name), Drug.id.in_(members))
                .limit(1)
            )
            if hit is not None:
                found.append(name)
        if len(found) < DEMO_SIZE:
            extra = s.scalars(
                select(Drug.name)
                .where(Drug.id.in_(members), Drug.heavy_atoms.between(12, 24), Drug.rotatable_bonds <= 4)
                .order_by(Drug.heavy_atoms, Drug.name)
                .limit(4 * DEMO_SIZE)
            ).all()
            for name in extra:
                if len(found) >= DEMO_SIZE:
                    break
                if name.lower() not in found:
                    found.append(name.lower())
        return found


def ensure_demo(db: Database, echo: Callable[[str], None] | None = None) -> int:
    """The id of the demo campaign, created on first use."""
    with db.session() as s:
        existing = s.scalar(select(Campaign.id).where(Campaign.name == DEMO_NAME))
    if existing is not None:
        if echo:
            echo(f"reusing demo campaign {existing}; only missing dockings run")
        return int(existing)
    spec = CampaignSpec(name=DEMO_NAME, targets="all", library=DEMO_LIBRARY, drugs=demo_drugs(db),
                        engine="vina", pocket="focused", seed=DEMO_SEED, params=dict(DEMO_PARAMS))
    cid = create_campaign(db, spec, echo=echo)
    if echo:
        echo(f"created demo campaign {cid}")
    return cid
