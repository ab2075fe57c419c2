"""Engine against engine: best score per drug of two campaigns on their shared targets.

Prints, per target, the number of drugs both campaigns docked, the Spearman correlation of
their best scores, the mean absolute and mean signed difference (second minus first), and
the largest differences.  Used in docs/validation.md to compare the torch engine with Vina
on the same compounds and pockets.

    DOCKDB_HOME=/path/to/valdb python bench/compare_campaigns.py val-moonshot val-moonshot-torch
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr
from sqlalchemy import select

if __package__ in (None, ""):  # run as a script: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dockdb.config import Config
from dockdb.db import Database
from dockdb.models import Campaign
from jobs.validation.scores import campaign_best_scores, drug_names


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("first", help="campaign name (the reference, e.g. the Vina run)")
    ap.add_argument("second", help="campaign name to compare with it")
    ap.add_argument("--worst", type=int, default=3, help="list this many largest differences per target")
    args = ap.parse_args(argv)
    db = Database.from_config(Config.load())
    with db.session() as s:
        ids = {}
        for name in (args.first, args.second):
            cid = s.scalar(select(Campaign.id).where(Campaign.name == name))
            if cid is None:
                print(f"error: no campaign named {name!r}; list them with `dockdb campaign list`", file=sys.stderr)
                return 2
            ids[name] = cid
        a, b = (campaign_best_scores(s, ids[n]) for n in (args.first, args.second))
        names = drug_names(s, {d for t in (a, b) for scores in t.values() for d in scores})
    shared = sorted(set(a) & set(b))
    if not shared:
        print("nothing to compare: the campaigns share no docked target", file=sys.stderr)
        return 3
    print(f"{args.second} minus {args.first}")
    print(f"{'target':10} {'n':>4} {'Spearman':>9} {'mean |d|':>9} {'mean d':>8}")
    for key in shared:
        drugs = sorted(set(a[key]) & set(b[key]))
        x = np.array([a[key][d] for d in drugs])
        y = np.array([b[key][d] for d in drugs])
        rho = float(spearmanr(x, y).statistic) if len(drugs) > 2 else float("nan")
        diff = y - x
        print(f"{key:10} {len(drugs):4d} {rho:9.2f} {np.abs(diff).mean():9.2f} {diff.mean():+8.2f}")
        for i in np.argsort(-np.abs(diff))[: args.worst]:
            print(f"    {names.get(drugs[i], drugs[i])}: {x[i]:.2f} vs {y[i]:.2f} ({diff[i]:+.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
