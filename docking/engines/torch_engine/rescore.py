"""Score or locally optimise one given pose, as ``vina.Vina.score()`` / ``.optimize()`` do.

Both use exact pair sums over the receptor atoms (no grid), the uncapped ("authentic")
energies and a 1e6 kcal/mol/Å penalty outside the box, like Vina's final evaluation.
"""

from __future__ import annotations

import torch

from .batch import LigandBatch
from .energy import GridConsts, LigandTypes, exact_energy_grad, exact_inter_grad, intra_grad, near_pairs
from .finish import refine
from .grids import ReceptorGrid
from .kinematics import PoseConsts, forward, pose_consts
from .pdbqt import LigandPDBQT, format_single_pose, parse_ligand_pdbqt
from .scoring import W_ROT
from .search import AUTHENTIC_CAP
from .topology import LigandTopology, build_topology

__all__ = ["optimize_pose", "pose_state", "score_pose"]

_SLOPE = 1e6


def pose_state(
    lig: LigandPDBQT, device: torch.device, dtype: torch.dtype
) -> tuple[LigandTopology, tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """Topology of a pose PDBQT and the (pos, quat, tors) that reproduce its coordinates."""
    top = build_topology(lig)
    pos = torch.as_tensor(top.root_origin, dtype=dtype, device=device)[None]
    quat = torch.tensor([[1.0, 0.0, 0.0, 0.0]], dtype=dtype, device=device)
    tors = torch.zeros((1, max(1, top.n_torsions)), dtype=dtype, device=device)
    return top, (pos, quat, tors)


def _setup(
    grid: ReceptorGrid, pose_pdbqt: str
) -> tuple[LigandPDBQT, LigandTopology, tuple[torch.Tensor, torch.Tensor, torch.Tensor], LigandBatch, GridConsts,
           PoseConsts]:
    lig = parse_ligand_pdbqt(pose_pdbqt)
    top, state = pose_state(lig, grid.device, grid.dtype)
    batch = LigandBatch.build([top], device=grid.device, dtype=grid.dtype)
    grid.ensure({int(t) for t in top.xs if t >= 0})
    gc, slots = grid.consts(batch.types(), _SLOPE)
    c = pose_consts(batch, torch.zeros(1, dtype=torch.long, device=grid.device), slots, grid.n_points)
    return lig, top, state, batch, gc, c


def _terms(
    grid: ReceptorGrid, c: PoseConsts, gc: GridConsts, lt: LigandTypes,
    near: tuple[torch.Tensor, torch.Tensor, torch.Tensor], x: torch.Tensor, num_tors: float,
) -> dict[str, float]:
    inter = exact_inter_grad(c, near_pairs(grid.receptor(), lt, *near), gc, x, AUTHENTIC_CAP, _SLOPE)[0].sum(-1)
    # Vina's score() reports the ligand's pairs without the macrocycle glue pairs (its glue_pairs)
    intra = intra_grad(c._replace(pair_mask=c.pair_mask * (1.0 - c.pair_glue)), x, AUTHENTIC_CAP)[0]
    glue = intra_grad(c._replace(pair_mask=c.pair_mask * c.pair_glue), x, AUTHENTIC_CAP)[0]
    total = inter / (1.0 + W_ROT * num_tors)
    return {
        "total": round(float(total[0]), 4),
        "lig_inter": round(float(inter[0]), 4),
        "lig_intra": round(float(intra[0]), 4),
        "glue": round(float(glue[0]), 4),
        "torsions": round(float(total[0] - inter[0]), 4),
        "num_tors": float(num_tors),
    }


def score_pose(grid: ReceptorGrid, pose_pdbqt: str) -> dict[str, float]:
    """Vina's score of the pose (first MODEL) and its terms."""
    lig, top, _state, batch, gc, c = _setup(grid, pose_pdbqt)
    x = torch.as_tensor(lig.coords, dtype=grid.dtype, device=grid.device)[None]
    near = grid.pair_lists(x, c.typed)
    return _terms(grid, c, gc, grid.ligand_types(batch.xs), near, x, top.num_tors)


def optimize_pose(grid: ReceptorGrid, pose_pdbqt: str, max_steps: int = 0) -> tuple[dict[str, float], str]:
    """BFGS from the given pose (``max_steps`` 0 = Vina's (25 + atoms) / 3); terms and PDBQT."""
    lig, top, state, batch, gc, c = _setup(grid, pose_pdbqt)
    if max_steps:
        c = c._replace(iter_cap=torch.full_like(c.iter_cap, float(max_steps)))
    x0, _r, _o = forward(c, *state)
    near = grid.pair_lists(x0, c.typed, margin=4.0)  # a pose moves little in a local optimisation
    lt = grid.ligand_types(batch.xs)
    pairs = near_pairs(grid.receptor(), lt, *near)

    def exact(p: torch.Tensor, q: torch.Tensor, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return exact_energy_grad(c, gc, pairs, p, q, t, AUTHENTIC_CAP, _SLOPE)

    opt = refine(c, exact, *state, evals=int(3 * float(c.iter_cap[0])))
    x, _r, _o = forward(c, opt.pos, opt.quat, opt.tors)
    terms = _terms(grid, c, gc, lt, grid.pair_lists(x, c.typed), x, top.num_tors)  # lists of the final atoms
    return terms, format_single_pose(lig, x[0].detach().cpu().numpy(), terms["total"])
