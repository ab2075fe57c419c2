"""Search budgets: named modes, Vina's size heuristic, and shape buckets.

Vina 1.2 gives every chain ``70 * 3 * (50 + h) / 2`` Monte Carlo steps, where the heuristic
``h`` is the number of movable atoms plus 10 x the degrees of freedom (6 + torsions), and
runs ``exhaustiveness`` chains.  A mode here spends a fixed fraction of Vina exhaustiveness
8's total steps for that ligand, spread over many short chains (the GPU-friendly shape
Uni-Dock uses), so the budget grows with the ligand exactly as Vina's does.
``--exhaustiveness N`` scales the chosen mode's chains by N / 8.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .topology import LigandTopology

__all__ = ["MODES", "VINA_TEMPERATURE", "Budget", "Mode", "bfgs_iterations", "bucket", "ladder_mismatch", "steps_for",
           "vina_steps"]

VINA_TEMPERATURE = 1.2  # Vina's Metropolis temperature (monte_carlo.h), the search's default


@dataclass(frozen=True)
class Mode:
    """``chains`` per ligand; ``fraction`` of Vina exhaustiveness 8's total Monte Carlo steps;
    ``refine`` distinct minima per ligand refined with exact pair sums; ``starts`` minimised random
    poses per chain before its Monte Carlo moves (0: one, as Vina)."""

    chains: int
    fraction: float
    refine: int
    min_steps: int = 8
    starts: int = 0  # ``SearchParams.starts``: each chain sets out from the best of this many random poses
    polish: int = 0  # ``SearchParams.polish_rounds``: jiggle-and-minimise rounds of the best final poses
    rotamers: int = 0  # ``SearchParams.rotamer_poses``: best final poses given the one-torsion rotamer sweep
    ladder: int = 1  # ``SearchParams.ladder``: chains per parallel-tempering ladder (1: none, as Vina)
    stall: float = 0.0  # ``SearchParams.stall``: a local optimisation ends below this two-step drop (0: never, as Vina)
    stall_after: int = 0  # ``SearchParams.stall_after``: accepted steps before ``stall`` may end one (0: from the 2nd)


# Chosen by measurement (docs/validation.md, "Torch engine"): at equal total steps a few long
# chains reach lower minima than many short ones (aceclofenac in 3CLpro, 4,800 steps: 16 x 300
# -9.40, 64 x 75 -8.54 kcal/mol), so the screening modes keep Vina-like chain counts; a GPU gets
# its parallelism from the ligands of a batch (hundreds x chains).  ``detail`` (engine 1.6) spends
# all of Vina exhaustiveness 8's steps, in 128 chains of detail 1.5's length: at 25 % of them it
# missed 1s3v's crystal pose that Vina ranks first (docs/validation.md, "Redocking").  ``balanced``
# (engine 1.7) runs 48 chains of 1.6's length, 24 % of the steps (1.6: 16 chains, 8 %): with 1.7's
# cheaper step that meets the mean-difference goal on all three pockets of the 20-drug set at about
# a third of Vina's CPU time; 64 chains agreed no better (docs/validation.md, "Engine 1.7").  ``fast``
# (engine 1.7.2) spends 4 % of the steps (was 2 %): 3CLpro's mean difference +0.39/+0.50 at 2 %, +0.21/+0.31
# at 4 % (seeds 7/42) for 0.08-0.10x Vina's CPU (docs/validation.md, "Engine 1.7.2").  ``balanced`` and
# ``detail`` polish each ligand's 4 best final poses in 6 rounds (engine 1.8; finish.polish): on the same
# searches, the mean difference from Vina fell by 0.04 kcal/mol on 3CLpro and 1s3v's crystal pose came
# first, for ~6 % of ``balanced``'s CPU; ``fast`` is left without, where it would cost ~40 %
# (docs/validation.md, "Engine 1.8").  ``balanced`` runs its chains as 24 tempering ladders of two, Vina's
# 1.2 and 2.4, that swap configurations (engine 1.9; tempering.py): over 3 pockets x 2 seeds the drugs
# worse than Vina by > 0.5 fell from 5 to 2 and redocking held; ``fast`` and ``detail`` are not measured
# with it and keep Vina's single temperature (docs/validation.md, "Engine 1.9").  The rotamer sweep of the
# best final poses (finish.rotamer_sweep, ``--param rotamers=N``) is off in every mode: on 3 pockets x 20
# drugs x 2 seeds it lowered 26 of 120 best scores, by 0.009 kcal/mol on average, for ~6 % more CPU, and
# did not bring back 1s3v's missed crystal pose (docs/validation.md, "A rotamer sweep after the polish").
# That miss is the budget's: ``balanced`` ranked 1s3v's crystal pose first at 15 of 24 search seeds (without
# tempering 17 of 24), and with twice its chains (96, 48 % of the steps) at 9 of the 12 where it found 5,
# about as independent chains predict; the 96 chains also met every 3CLpro goal at two seeds, but took
# 1.8-2.1x the CPU, past the <= 0.5x Vina cost goal, so the budget stays (docs/validation.md, "Why
# balanced misses 1s3v at some seeds").  Engine 1.11 ends ``balanced``'s stalled local optimisations
# (``stall``, 0.03 kcal/mol over two accepted steps: ~1.3x the Monte Carlo steps in the same ticks) and
# spends them on a third more chains, 64 of 1.10's length (32 % of the steps): over 3 pockets x 2 seeds the
# mean distance from the best score known fell from 0.099 to 0.076 kcal/mol and the drugs worse than Vina
# by > 0.5 from 2 to 1, and 1s3v's crystal pose came first at 19 of 24 seeds (1.10: 15), for 1.2-1.3x 1.10's
# CPU, about 0.5x Vina's (docs/validation.md, "Engine 1.11").  ``stall=0`` at exhaustiveness 6 is 1.10's.
# Engine 1.16 gives ``fast`` the same stall rule and three quarters of its ticks (3 % of Vina's steps,
# where stalled optimisations ending early give about as many Monte Carlo steps as 1.15's 4 %): on
# 3CLpro and PLpro it agreed with Vina about as well as 1.15 for 0.77-0.86x its CPU (docs/validation.md, "Engine
# 1.16").  ``stall=0 fraction=0.04`` is 1.15's ``fast``.
MODES: dict[str, Mode] = {
    "fast": Mode(chains=8, fraction=0.03, refine=12, stall=0.03),
    "balanced": Mode(chains=64, fraction=0.32, refine=24, polish=6, ladder=2, stall=0.03),
    "detail": Mode(chains=128, fraction=1.0, refine=32, polish=6),
}


def ladder_mismatch(chains: int, ladder: int) -> str | None:
    """The problem, in one line, when tempering ladders of ``ladder`` chains do not divide a
    ligand's ``chains`` (no ladder may span two ligands), else None."""
    if chains % ladder:
        return (f"tempering ladder {ladder} does not divide the {chains} chains per ligand; set chains to a "
                "multiple of it, or ladder=1")
    return None


def vina_steps(n_movable: int, n_torsions: int) -> int:
    """Monte Carlo steps of one Vina 1.2 chain for a ligand (``vina.cpp``'s heuristic)."""
    h = n_movable + 10 * (6 + n_torsions)
    return int(70 * 3 * (50 + h) / 2)


def bfgs_iterations(n_movable: Any) -> Any:
    """Vina's BFGS iterations per local optimisation, (25 + movable atoms) / 3 rounded down
    (an int, or a float tensor of them)."""
    return (25 + n_movable) // 3


def steps_for(mode: Mode, chains: int, n_movable: int, n_torsions: int) -> int:
    """Steps per chain so that ``chains`` chains spend the mode's share of Vina's budget."""
    total = mode.fraction * 8 * vina_steps(n_movable, n_torsions)
    return max(mode.min_steps, math.ceil(total / chains))


_ATOM_BUCKETS = (16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 256)
_TORSION_BUCKETS = (1, 2, 4, 6, 8, 10, 12, 16, 20, 24, 32, 48, 64)


def _up(value: int, steps: tuple[int, ...]) -> int:
    for s in steps:
        if value <= s:
            return s
    return int(math.ceil(value / steps[-1]) * steps[-1])


def bucket(n_atoms: int, n_torsions: int, n_pairs: int, depth: int) -> tuple[int, int, int, int]:
    """Padded (atoms, torsions, pairs, depth) of a ligand: ligands of one bucket share
    compiled graphs, and padding stays small."""
    t = _up(n_torsions, _TORSION_BUCKETS)
    pairs = 64 * max(1, math.ceil(n_pairs / 64)) if n_pairs <= 512 else 256 * math.ceil(n_pairs / 256)
    return _up(n_atoms, _ATOM_BUCKETS), t, pairs, min(t, max(2, 2 * math.ceil(depth / 2)))


@dataclass(frozen=True)
class Budget:
    """How much search a ligand gets: a named mode, optional explicit chains/steps, and
    Vina's exhaustiveness (scales the mode's chains by exhaustiveness / 8)."""

    mode: str = "balanced"
    chains: int = 0
    steps: int = 0
    exhaustiveness: int = 0
    ladder: int = 1  # tempering ladder: the chain count a mode and an exhaustiveness give is a multiple of it
    fraction: float = 0.0  # share of Vina exhaustiveness 8's steps instead of the mode's (0: the mode's)

    def chains_per_ligand(self) -> int:
        """Monte Carlo chains per ligand: explicit ``chains``, else the mode's, scaled by
        exhaustiveness / 8 (at least 8) and rounded up to a whole number of tempering ladders."""
        if self.chains:
            return self.chains
        base = MODES[self.mode].chains
        n = max(8, round(base * self.exhaustiveness / 8)) if self.exhaustiveness else base
        return -(-n // self.ladder) * self.ladder

    def steps_of(self, top: LigandTopology) -> int:
        """Monte Carlo steps per chain for ligand ``top``: explicit ``steps``, else the mode's
        share of Vina's budget (``fraction`` where given)."""
        if self.steps:
            return self.steps
        mode = MODES[self.mode]
        if self.fraction:
            mode = replace(mode, fraction=self.fraction)
        if self.exhaustiveness:
            mode = replace(mode, fraction=mode.fraction * self.exhaustiveness / 8)
        return steps_for(mode, self.chains_per_ligand(), top.n_atoms, top.n_torsions)
