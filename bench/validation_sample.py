"""Pick the drug sample for the DockCoV2-agreement and screen-enrichment campaigns.

    .venv/bin/python bench/validation_sample.py --n 24 --seed 0

Candidates: members of the ``fda-approved`` library that DockCoV2 scored on all 7 targets,
with 15-35 heavy atoms and at most 7 rotatable bonds (so the sample docks in minutes on a
laptop; the restriction is stated with the results). Half of the sample is drawn from
drugs that are active in at least one SARS-CoV-2 screen we hold (Ellinger, Touret, Heiser),
half from drugs tested in those screens and never active. Prints the comma-separated names
for ``dockdb campaign create --drugs``.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select

from dockdb.config import Config
from dockdb.db import Database
from dockdb.models import Assay, AssayResult, Drug, Library, LibraryMember, ReferenceScore, Target

SCREENS = ("ellinger-caco2-cpe", "touret-vero-index", "heiser-rxrx19a")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=24)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--library", default="fda-approved")
    args = ap.parse_args()
    db = Database.from_config(Config.load())
    with db.session() as s:
        n_targets = s.scalar(select(func.count(Target.id)))
        scored = (
            select(ReferenceScore.drug_id)
            .where(ReferenceScore.drug_id.is_not(None))
            .group_by(ReferenceScore.drug_id)
            .having(func.count(func.distinct(ReferenceScore.target_id)) >= n_targets)
        )
        rows = s.execute(
            select(Drug.id, Drug.name)
            .join(LibraryMember, LibraryMember.drug_id == Drug.id)
            .join(Library, Library.id == LibraryMember.library_id)
            .where(Library.name == args.library, Drug.id.in_(scored),
                   Drug.heavy_atoms.between(15, 35), Drug.rotatable_bonds <= 7)
            .order_by(Drug.name)
        ).all()
        screen_ids = select(Assay.id).where(Assay.key.in_(SCREENS))
        tested: dict[int, int] = {}
        for drug_id, active in s.execute(
            select(AssayResult.drug_id, AssayResult.active).where(AssayResult.assay_id.in_(screen_ids))
        ):
            tested[drug_id] = max(tested.get(drug_id, 0), int(bool(active)))
    actives = sorted({name for i, name in rows if tested.get(i) == 1})
    inactives = sorted({name for i, name in rows if tested.get(i) == 0})
    rng = random.Random(args.seed)
    half = args.n // 2
    pick = rng.sample(actives, min(half, len(actives))) + rng.sample(inactives, min(args.n - half, len(inactives)))
    print(f"# {len(rows)} candidates, {len(actives)} screen-active, {len(inactives)} tested inactive", file=sys.stderr)
    print(",".join(sorted(pick)))


if __name__ == "__main__":
    main()
