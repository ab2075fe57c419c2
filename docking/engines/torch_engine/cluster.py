"""Vina-style clustering of poses on the device: best first, a pose is dropped when it lies
within ``min_rmsd`` (heavy-atom RMSD, same atom order) of a better kept pose.

All ligands of a batch are clustered at once: one (L, N, N) RMSD matrix and N small
vectorised steps over the candidates, no host round trip and no per-pose tree query.
"""

from __future__ import annotations

import torch

__all__ = ["greedy_cluster", "pairwise_rmsd"]


def pairwise_rmsd(x: torch.Tensor, heavy: torch.Tensor) -> torch.Tensor:
    """Heavy-atom RMSD matrix (L, N, N) of poses ``x`` (L, N, A, 3); ``heavy`` (L, A) 1/0."""
    n_heavy = heavy.sum(-1).clamp(min=1.0)
    x = x - x[:, :1].mean(2, keepdim=True)  # distances do not change; float32 keeps its digits
    xh = (x * heavy[:, None, :, None]).flatten(2)  # (L, N, 3A)
    sq = (xh * xh).sum(-1)
    d2 = sq[:, :, None] + sq[:, None, :] - 2.0 * (xh @ xh.transpose(1, 2))
    return torch.sqrt(d2.clamp(min=0.0) / n_heavy[:, None, None])


def greedy_cluster(
    x: torch.Tensor, e: torch.Tensor, heavy: torch.Tensor, min_rmsd: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Order (L, N) of candidates best first and a mask (L, N) of the kept ones in that order.

    Candidates with a non-finite energy are never kept.
    """
    order = torch.argsort(e, dim=1)
    xs = torch.gather(x, 1, order[..., None, None].expand_as(x))
    es = torch.gather(e, 1, order)
    close = pairwise_rmsd(xs, heavy) < min_rmsd
    valid = torch.isfinite(es)
    n = e.shape[1]
    keep = torch.zeros_like(valid)
    for i in range(n):
        blocked = (close[:, :i, i] & keep[:, :i]).any(-1) if i else torch.zeros_like(valid[:, 0])
        keep[:, i] = valid[:, i] & ~blocked
    return order, keep
