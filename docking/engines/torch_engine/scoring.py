"""The AutoDock Vina 1.2 scoring function in PyTorch.

Functional form, weights and cutoff from Trott & Olson (J Comput Chem 2010) and
Eberhardt et al. (J Chem Inf Model 2021).  For atoms i, j with XS van der Waals radii
R_i, R_j at distance r < 8 Å, the surface distance is d = r - R_i - R_j and

    gauss1      exp(-(d / 0.5)^2)
    gauss2      exp(-((d - 3) / 2)^2)
    repulsion   d^2 if d < 0 else 0
    hydrophobic 1 if d < 0.5; 0 if d > 1.5; linear between   (both atoms hydrophobic)
    hbond       1 if d < -0.7; 0 if d > 0; linear between    (donor-acceptor pair)

weighted -0.035579, -0.005156, 0.840245, -0.035069, -0.587439.  A pose's score is the
intermolecular energy divided by 1 + 0.05846 N_rot (Vina's torsional normalisation).
Per-atom intermolecular energies and per-pair intramolecular energies are softened
above a cap ``v`` by Vina's ``curl``: e -> e v / (v + e) for e > 0.
"""

from __future__ import annotations

import torch

__all__ = [
    "CUTOFF",
    "GLUE_CUTOFF",
    "WEIGHTS",
    "W_GLUE",
    "W_ROT",
    "curl",
    "pair_energy",
    "pair_terms",
    "torsion_normalisation",
]

WEIGHTS = {
    "gauss1": -0.035579,
    "gauss2": -0.005156,
    "repulsion": 0.840245,
    "hydrophobic": -0.035069,
    "hbond": -0.587439,
}
W_ROT = 0.05846
CUTOFF = 8.0
# Meeko macrocycles: Vina 1.2's linear attraction between a closure dummy Gk and the closure
# carbon CGk it stands in for (``weight_glue`` 50, cutoff 20 Å), which closes the ring
W_GLUE = 50.0
GLUE_CUTOFF = 20.0


def pair_terms(d: torch.Tensor, hydrophobic: torch.Tensor, hbond: torch.Tensor) -> dict[str, torch.Tensor]:
    """Unweighted Vina terms of surface distances ``d`` (pairs flagged hydrophobic / H-bonding)."""
    zero = torch.zeros_like(d)
    return {
        "gauss1": torch.exp(-(d * 2.0) ** 2),
        "gauss2": torch.exp(-(((d - 3.0) * 0.5) ** 2)),
        "repulsion": torch.where(d < 0, d * d, zero),
        "hydrophobic": torch.where(hydrophobic, torch.clamp(1.5 - d, 0.0, 1.0), zero),
        "hbond": torch.where(hbond, torch.clamp(-d / 0.7, 0.0, 1.0), zero),
    }


def pair_energy(
    r: torch.Tensor, radius_sum: torch.Tensor, hydrophobic: torch.Tensor, hbond: torch.Tensor
) -> torch.Tensor:
    """Weighted Vina pair energy at distance ``r`` (zero at and beyond the 8 Å cutoff)."""
    d = r - radius_sum
    terms = pair_terms(d, hydrophobic, hbond)
    e = torch.zeros_like(d)
    for k, v in terms.items():
        e = e + WEIGHTS[k] * v
    return torch.where(r < CUTOFF, e, torch.zeros_like(e))


def curl(e: torch.Tensor, cap: float) -> torch.Tensor:
    """Vina's smooth cap of positive energies: e v / (v + e) for e > 0."""
    if cap >= 1e6:
        return e
    pos = torch.clamp(e, min=0.0)
    return torch.where(e > 0, pos * cap / (cap + pos), e)


def torsion_normalisation(num_tors: torch.Tensor) -> torch.Tensor:
    """1 / (1 + w_rot N_rot): the factor applied to the intermolecular energy."""
    return 1.0 / (1.0 + W_ROT * num_tors)
