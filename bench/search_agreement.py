"""Agreement of torch searches with Vina, judged against more than one Vina run.

The convergence goals of docs/validation.md compare an engine's best score per drug with one Vina
exhaustiveness-8 run (seed 42).  That run is itself a sample: Vina at another seed reproduces its
ranking only so far.  This module puts every search beside every Vina run of the same pocket and
drugs, and each Vina run beside the others, so an engine's agreement can be read against what Vina
achieves with itself.

Inputs are what the bench scripts wrote into their work directory (nothing is docked here):

* ``vina_screen.json`` (``bench_torch_engine.py vina --parts screen``): Vina exhaustiveness 8,
  seed 42, keys ``{target}|{drug}``;
* ``search_bench.json`` (``bench_torch_search.py``): ``vina_noise|{target}|seed {S}`` rows (Vina
  exhaustiveness 8 at seed S; rows at another exhaustiveness are left out) and
  ``variants|{target}|{mode}|{seed}|{name}`` rows (torch searches over the full drug set).

``bench_torch_search.py agreement`` prints the tables; the functions take plain dictionaries so
they can be checked without any docking.  It first prints the work directory's input fingerprints
(:func:`input_fingerprints`): figures from two machines are comparable only where those agree.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["GOALS", "Agreement", "Run", "agreement", "collect_runs", "compare_runs", "goal_counts",
           "input_fingerprints", "lower_of_vina", "tables"]

SPEARMAN_GOAL = 0.9  # docs/validation.md's `balanced` goals against Vina exhaustiveness 8
MEAN_GOAL = 0.05
WORST_GOAL = 0.5
GOALS = (f"Spearman >= {SPEARMAN_GOAL}", f"mean delta <= +{MEAN_GOAL}", f"no drug worse by > {WORST_GOAL}")
VINA = "Vina exh 8"
REFERENCE_SEED = 42  # the Vina run of vina_screen.json, which the goals are measured against


@dataclass(frozen=True)
class Run:
    """One search's best score per drug in one pocket: ``family`` groups a search's seeds
    (``Vina exh 8``, ``torch balanced 1.11``), ``seed`` tells them apart."""

    target: str
    family: str
    seed: int
    best: dict[str, float]

    @property
    def vina(self) -> bool:
        return self.family == VINA

    @property
    def label(self) -> str:
        return f"{self.family}, seed {self.seed}"



@dataclass(frozen=True)
class Agreement:
    """``run`` against ``ref`` over their common drugs: Spearman, mean and worst (run - ref)."""

    n: int
    spearman: float
    mean_diff: float
    worst: float
    over: int  # drugs worse than the reference by more than WORST_GOAL

    def goals(self) -> tuple[bool, bool, bool]:
        return (self.spearman >= SPEARMAN_GOAL, self.mean_diff <= MEAN_GOAL, self.over == 0)

    def cell(self) -> str:
        return f"{self.spearman:.2f} / {self.mean_diff:+.3f} / {self.worst:+.2f} / {self.over}"


def agreement(best: dict[str, float], ref: dict[str, float]) -> Agreement:
    """Agreement of best scores ``best`` with ``ref`` over the drugs both scored (at least 3)."""
    from scipy.stats import spearmanr

    names = sorted(k for k in best if k in ref and best[k] is not None and ref[k] is not None)
    if len(names) < 3:
        raise ValueError(f"only {len(names)} drugs in common: a rank correlation needs 3 or more")
    a = np.array([best[k] for k in names])
    b = np.array([ref[k] for k in names])
    d = a - b
    return Agreement(len(names), float(spearmanr(a, b).statistic), float(d.mean()), float(d.max()),
                     int((d > WORST_GOAL).sum()))


def _agreement_or_none(best: dict[str, float], ref: dict[str, float]) -> Agreement | None:
    """:func:`agreement`, or None where too few drugs are in common to rank."""
    try:
        return agreement(best, ref)
    except ValueError:
        return None


def collect_runs(screen: dict[str, Any], bench: dict[str, Any]) -> list[Run]:
    """Every full-set Vina exhaustiveness-8 run and torch ``variants`` run of the work directory:
    ``screen`` is ``vina_screen.json``'s ``screen`` map, ``bench`` all of ``search_bench.json``."""
    runs: dict[tuple[str, str, int], dict[str, float]] = {}
    for key, row in screen.items():
        target, drug = key.split("|", 1)
        runs.setdefault((target, VINA, REFERENCE_SEED), {})[drug] = float(row["best"])
    for key, row in bench.items():
        parts = key.split("|")
        if parts[0] == "vina_noise" and len(parts) == 3 and "exhaustiveness" not in parts[2]:
            seed = int(parts[2].removeprefix("seed "))
            runs[(parts[1], VINA, seed)] = {k: float(v) for k, v in row["best"].items()}
        elif parts[0] == "variants" and len(parts) == 5:  # a sixth part marks a subset of the drugs
            _, target, mode, seed_text, name = parts
            runs[(target, f"torch {mode} {name}", int(seed_text))] = {
                k: float(v) for k, v in row["best"].items() if v is not None}
    return [Run(t, f, s, b) for (t, f, s), b in sorted(runs.items())]


def compare_runs(runs: list[Run]) -> list[tuple[Run, Run, Agreement]]:
    """Each run against each Vina run of its pocket but itself (a Vina run against another
    seed's: what one Vina run reproduces of another)."""
    out = []
    for run in runs:
        for ref in runs:
            if ref.vina and ref.target == run.target and ref is not run:
                a = _agreement_or_none(run.best, ref.best)
                if a is not None:  # too few drugs in common to rank: left out
                    out.append((run, ref, a))
    return out


def best_known(runs: list[Run], target: str) -> dict[str, float]:
    """Per drug, the lowest score any run in the pocket found."""
    low: dict[str, float] = {}
    for r in runs:
        if r.target == target:
            for k, v in r.best.items():
                low[k] = min(v, low.get(k, v))
    return low


def lower_of_vina(runs: list[Run], target: str) -> dict[str, float]:
    """Per drug, the lowest score of the pocket's Vina runs (empty with fewer than two): a reference
    less noisy than one run, which only the other searches are compared with."""
    vina = [r for r in runs if r.target == target and r.vina]
    if len(vina) < 2:
        return {}
    common = set.intersection(*(set(r.best) for r in vina))
    return {k: min(r.best[k] for r in vina) for k in common}


def goal_counts(rows: list[tuple[Run, Run, Agreement]]) -> dict[str, list[int]]:
    """Per search family: comparisons meeting each of GOALS, and comparisons made."""
    out: dict[str, list[int]] = {}
    for run, _ref, a in rows:
        c = out.setdefault(run.family, [0, 0, 0, 0])
        for i, ok in enumerate(a.goals()):
            c[i] += int(ok)
        c[3] += 1
    return out


def tables(runs: list[Run]) -> str:
    """Markdown: per pocket, each run against each Vina run (Spearman / mean delta / worst / drugs
    worse by > 0.5) with its mean distance from the best known score; then the goals met per family."""
    rows = compare_runs(runs)
    by_pair = {(id(run), id(ref)): a for run, ref, a in rows}
    if not rows:
        return ("nothing to compare: no search and Vina run share a pocket and 3 or more drugs; run "
                "`bench_torch_engine.py vina --parts screen` and `bench_torch_search.py variants` first")
    out = []
    distance: dict[str, list[float]] = {}
    for target in sorted({r.target for r in runs}):
        refs = sorted((r for r in runs if r.target == target and r.vina),
                      key=lambda r: (r.seed != REFERENCE_SEED, r.seed))
        low, lower = best_known(runs, target), lower_of_vina(runs, target)
        heads = [f"vs {r.label}" for r in refs] + (["vs the lower of the Vina runs"] if lower else [])
        out += [f"**{target}** (Spearman / mean Δ / worst Δ / drugs worse by > {WORST_GOAL})", "",
                "| run | " + " | ".join(heads) + " | mean distance from the best known |",
                "|---" * (len(heads) + 2) + "|"]
        for run in (r for r in runs if r.target == target):
            cells = []
            for ref in refs:
                hit = by_pair.get((id(run), id(ref)))
                cells.append(hit.cell() if hit else "—")
            if lower:
                low_a = None if run.vina else _agreement_or_none(run.best, lower)
                cells.append(low_a.cell() if low_a else "—")
            dist = float(np.mean([v - low[k] for k, v in run.best.items() if k in low]))
            distance.setdefault(run.family, []).append(dist)
            out.append(f"| {run.label} | " + " | ".join(cells) + f" | {dist:.3f} |")
        out.append("")
    out += ["| family | " + " | ".join(GOALS) + " | Spearman, median (range) | mean distance from the best known |",
            "|---" * (len(GOALS) + 3) + "|"]
    for family, c in sorted(goal_counts(rows).items()):
        rho = [a.spearman for run, _ref, a in rows if run.family == family]
        out.append(f"| {family} | " + " | ".join(f"{c[i]} of {c[3]}" for i in range(len(GOALS)))
                   + f" | {np.median(rho):.2f} ({min(rho):.2f}–{max(rho):.2f}) | {np.mean(distance[family]):.3f} |")
    out.append("(goals counted against single Vina runs; each pair of Vina runs counts both ways)")
    return "\n".join(out)


def input_fingerprints(work: Path) -> str:
    """One line naming the first 12 hex digits of the SHA-256 of each prepared receptor
    (``receptors/*.pdbqt``) and of the prepared ligands (``ligands.json``) in ``work``: the same
    code gives the same searches only on the same inputs, and prepared receptors can differ between
    CPU models, whose BLAS kernels round differently (docs/validation.md, "Engine 1.11 on another CPU")."""
    files = [*sorted((work / "receptors").glob("*.pdbqt")), work / "ligands.json"]
    parts = [f"{f.stem if f.suffix == '.pdbqt' else 'ligands'} {hashlib.sha256(f.read_bytes()).hexdigest()[:12]}"
             for f in files if f.is_file()]
    return "inputs (sha256): " + (", ".join(parts) if parts else "none prepared")
