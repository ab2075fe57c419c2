"""Score or locally optimise one given pose, as ``vina.Vina.score()`` / ``.optimize()`` do.

Both use exact pair sums over the receptor atoms (no grid), the uncapped ("authentic")
energies and a 1e6 kcal/mol/Å penalty outside the box, like Vina's final evaluation.
"""

from __future__ import annotations

import torch

from .grids import ReceptorGrid
from .pdbqt import format_pose_pdbqt, parse_ligand_pdbqt
from .pose import LigandBatch, PoseContext, quat_to_matrix
from .runner import pose_state
from .scoring import AUTHENTIC_CAP
from .search import refine_exact

__all__ = ["optimize_pose", "score_pose"]

_SLOPE = 1e6


def _terms(ctx: PoseContext, grid: ReceptorGrid, x: torch.Tensor) -> dict[str, float]:
    xs = ctx.batch.xs[ctx.lig]
    inter = grid.exact(x, xs, cap=AUTHENTIC_CAP, slope=_SLOPE).sum(-1)
    intra = ctx.intra(x, AUTHENTIC_CAP)
    total = ctx.normalise(inter)
    return {
        "total": round(float(total[0]), 4),
        "lig_inter": round(float(inter[0]), 4),
        "lig_intra": round(float(intra[0]), 4),
        "torsions": round(float(total[0] - inter[0]), 4),
        "num_tors": float(ctx.num_tors[0]),
    }


def score_pose(grid: ReceptorGrid, pose_pdbqt: str) -> dict[str, float]:
    """Vina's score of the pose (first MODEL) and its terms."""
    lig = parse_ligand_pdbqt(pose_pdbqt)
    top, _ = pose_state(lig, grid.device, grid.dtype)
    batch = LigandBatch.build([top], device=grid.device, dtype=grid.dtype)
    ctx = PoseContext(batch, torch.zeros(1, dtype=torch.long, device=grid.device), {})
    x = torch.as_tensor(lig.coords, dtype=grid.dtype, device=grid.device)[None]
    with torch.no_grad():
        return _terms(ctx, grid, x)


def optimize_pose(grid: ReceptorGrid, pose_pdbqt: str, max_steps: int = 0) -> tuple[dict[str, float], str]:
    """BFGS from the given pose (``max_steps`` 0 = Vina's (25 + atoms) / 3); terms and PDBQT."""
    lig = parse_ligand_pdbqt(pose_pdbqt)
    top, state = pose_state(lig, grid.device, grid.dtype)
    batch = LigandBatch.build([top], device=grid.device, dtype=grid.dtype)
    ctx = PoseContext(batch, torch.zeros(1, dtype=torch.long, device=grid.device), {})
    steps = max_steps or (25 + top.n_atoms) // 3
    new, _ = refine_exact(ctx, grid, state, steps, _SLOPE)
    with torch.no_grad():
        x = ctx.coords(new.pos, quat_to_matrix(new.quat), new.tors)
        terms = _terms(ctx, grid, x)
    model = format_pose_pdbqt(lig, [(x[0].cpu().numpy(), terms["total"], 0.0, 0.0)])
    model = "\n".join(ln for ln in model.splitlines() if not ln.startswith(("MODEL", "ENDMDL"))) + "\n"
    return terms, model
