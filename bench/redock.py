"""Redocking validation run: PoseBusters-4 and Mpro XChem fragments.

    .venv/bin/python bench/redock.py --set all --xchem-limit 24 --exhaustiveness 8 \
        --json redock.json

Prints one Markdown table row per complex and a summary; data come from the mirror
(``DOCKDB_MIRROR``, default ``../shared/data``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from docking.redock import RedockRecord, load_xchem_complexes, redock, success_summary


def _mirror() -> Path:
    return Path(os.environ.get("DOCKDB_MIRROR", Path(__file__).resolve().parents[2] / "shared" / "data"))


def _posebusters(args: argparse.Namespace) -> list[RedockRecord]:
    from rdkit import Chem

    out = []
    root = _mirror() / "validation" / "redock" / "posebusters_4"
    for d in sorted(p for p in root.iterdir() if p.is_dir()):
        lig = Chem.MolFromMolFile(str(d / f"{d.name}_ligand.sdf"), removeHs=False)
        pdb = (d / f"{d.name}_protein_one_lig_removed.pdb").read_text()
        rec = redock(d.name, pdb, lig, exhaustiveness=args.exhaustiveness, seed=args.seed, cpu=args.cpu)
        _row(rec)
        out.append(rec)
    return out


def _xchem(args: argparse.Namespace) -> list[RedockRecord]:
    tarball = _mirror() / "validation" / "redock" / "mpro_xchem_fragments_78.tar.gz"
    out = []
    for c in load_xchem_complexes(tarball, limit=args.xchem_limit):
        rec = redock(c.id, c.protein_pdb, c.ligand, smiles=c.smiles, keep_chains=["A"],
                     exhaustiveness=args.exhaustiveness, seed=args.seed, cpu=args.cpu)
        _row(rec)
        out.append(rec)
    return out


def _row(r: RedockRecord) -> None:
    def f(x: float | None) -> str:
        return "—" if x is None else f"{x:.2f}"

    ok = "yes" if r.success else "no"
    err = f" {r.error}" if r.error else ""
    print(f"| {r.id} | {r.n_heavy} | {f(r.top_score)} | {f(r.top_rmsd)} | {f(r.best_rmsd)} | {ok} |"
          f" {r.runtime_s:.0f} |{err}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", choices=["posebusters", "xchem", "all"], default="all")
    ap.add_argument("--xchem-limit", type=int, default=24)
    ap.add_argument("--exhaustiveness", type=int, default=8)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--cpu", type=int, default=0)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    print("| id | heavy atoms | top score | top RMSD | best RMSD | success | s |")
    print("|---|---|---|---|---|---|---|")
    records: dict[str, list[RedockRecord]] = {}
    if args.set in ("posebusters", "all"):
        records["posebusters"] = _posebusters(args)
    if args.set in ("xchem", "all"):
        records["xchem"] = _xchem(args)
    summary = {k: success_summary(v) for k, v in records.items()}
    print(json.dumps(summary, indent=1))
    if args.json:
        args.json.write_text(json.dumps(
            {"summary": summary, "records": {k: [r.as_dict() for r in v] for k, v in records.items()}},
            indent=1))


if __name__ == "__main__":
    main()
