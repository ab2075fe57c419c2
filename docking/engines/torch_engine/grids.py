"""Receptor grid maps per XS ligand atom type, with trilinear interpolation.

The grid follows Vina's layout for a box (centre c, size s, spacing h): n_k = ceil(s_k / h)
intervals per axis, n_k + 1 points, first point at c_k - n_k h / 2.  The map of ligand type
t holds, at every grid point, the sum of the Vina pair energies with all receptor heavy
atoms within the 8 Å cutoff.  A ligand atom's intermolecular energy is the trilinear
interpolation of its type's map; outside the grid the position is clamped onto it and a
penalty of ``slope`` kcal/mol per Å outside (L1) is added, as Vina does.

Map values are computed from a KD-tree pair list in chunks; the arithmetic runs on the
grid's device (so maps build in a fraction of a second on a GPU).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import torch
from scipy.spatial import cKDTree

from .atomtypes import ACCEPTOR, DONOR, HYDROPHOBIC, XS_RADII, bonds_from_distance, xs_types
from .pdbqt import ReceptorPDBQT
from .scoring import CUTOFF, WEIGHTS, curl, pair_energy

__all__ = ["ReceptorGrid", "grid_layout"]

_PAIRS_PER_CHUNK = 4_000_000


def grid_layout(
    center: Iterable[float], size: Iterable[float], spacing: float = 0.375
) -> tuple[np.ndarray, tuple[int, int, int]]:
    """Origin (first grid point) and number of points per axis, as Vina lays out its maps."""
    c = np.asarray(list(center), dtype=np.float64)
    s = np.asarray(list(size), dtype=np.float64)
    n = np.array([math.ceil(float(v) / spacing) for v in s], dtype=np.int64)
    origin = c - n * spacing / 2.0
    return origin, (int(n[0]) + 1, int(n[1]) + 1, int(n[2]) + 1)


class ReceptorGrid:
    """Grid maps of one receptor in one box; maps are built on demand per XS type."""

    def __init__(
        self,
        receptor: ReceptorPDBQT,
        center: Iterable[float],
        size: Iterable[float],
        *,
        spacing: float = 0.375,
        device: torch.device | str = "cpu",
        dtype: torch.dtype = torch.float32,
    ) -> None:
        self.device = torch.device(device)
        self.dtype = dtype
        self.spacing = float(spacing)
        self.center = tuple(float(v) for v in center)
        self.size = tuple(float(v) for v in size)
        origin, npts = grid_layout(self.center, self.size, spacing)
        self.origin_np = origin
        self.npts = npts
        self.origin = torch.as_tensor(origin, dtype=dtype, device=self.device)
        self._upper = torch.as_tensor([n - 1 for n in npts], dtype=dtype, device=self.device)
        bonds = bonds_from_distance(receptor.coords, receptor.ad_types)
        xs = xs_types(receptor.ad_types, bonds)
        lo = origin - CUTOFF
        hi = origin + (np.asarray(npts) - 1) * spacing + CUTOFF
        near = (xs >= 0) & np.all((receptor.coords >= lo) & (receptor.coords <= hi), axis=1)
        self.rec_coords = receptor.coords[near]
        self.rec_xs = xs[near]
        self._maps: dict[int, torch.Tensor] = {}
        self._flat_cache: tuple[tuple[int, ...], torch.Tensor] | None = None

    # -- building ------------------------------------------------------------------------
    @property
    def types(self) -> list[int]:
        return sorted(self._maps)

    def ensure(self, types: Iterable[int]) -> None:
        """Build the maps of ``types`` that are not built yet."""
        missing = sorted({int(t) for t in types if int(t) >= 0} - set(self._maps))
        if not missing:
            return
        nx, ny, nz = self.npts
        axes = [self.origin_np[k] + self.spacing * np.arange(n) for k, n in enumerate(self.npts)]
        gx, gy, gz = np.meshgrid(*axes, indexing="ij")
        points = np.stack([gx.ravel(), gy.ravel(), gz.ravel()], axis=1)
        out = {t: torch.zeros(points.shape[0], dtype=torch.float64, device=self.device) for t in missing}
        if len(self.rec_coords):
            self._accumulate(points, missing, out)
        for t in missing:
            self._maps[t] = out[t].to(self.dtype).reshape(nx, ny, nz)
        self._flat_cache = None

    def _accumulate(self, points: np.ndarray, types: list[int], out: dict[int, torch.Tensor]) -> None:
        rec_tree = cKDTree(self.rec_coords)
        dev = self.device
        rec_r = torch.as_tensor(XS_RADII[self.rec_xs], dtype=torch.float64, device=dev)
        rec_h = torch.as_tensor(HYDROPHOBIC[self.rec_xs], device=dev)
        rec_d = torch.as_tensor(DONOR[self.rec_xs], device=dev)
        rec_a = torch.as_tensor(ACCEPTOR[self.rec_xs], device=dev)
        rec_xyz = torch.as_tensor(self.rec_coords, dtype=torch.float64, device=dev)
        # atoms per Å^3 in a protein ~0.06; pairs per grid point ~ that × 4/3 π 8^3
        per_point = max(1, int(0.06 * 4.19 * CUTOFF**3))
        step = max(1024, _PAIRS_PER_CHUNK // per_point)
        radii = sorted({float(XS_RADII[t]) for t in types})
        for start in range(0, points.shape[0], step):
            chunk = points[start : start + step]
            sdm = cKDTree(chunk).sparse_distance_matrix(rec_tree, CUTOFF, output_type="ndarray")
            if len(sdm) == 0:
                continue
            gi = torch.as_tensor(sdm["i"].astype(np.int64), device=dev)
            aj = torch.as_tensor(sdm["j"].astype(np.int64), device=dev)
            pts = torch.as_tensor(chunk, dtype=torch.float64, device=dev)[gi]
            r = torch.linalg.norm(pts - rec_xyz[aj], dim=1)
            keep = r < CUTOFF
            gi, aj, r = gi[keep], aj[keep], r[keep]
            d0 = r - rec_r[aj]
            h, dn, ac = rec_h[aj], rec_d[aj], rec_a[aj]
            for rad in radii:
                d = d0 - rad
                steric = (
                    WEIGHTS["gauss1"] * torch.exp(-(d * 2.0) ** 2)
                    + WEIGHTS["gauss2"] * torch.exp(-(((d - 3.0) * 0.5) ** 2))
                    + WEIGHTS["repulsion"] * torch.where(d < 0, d * d, torch.zeros_like(d))
                )
                hyd = WEIGHTS["hydrophobic"] * torch.clamp(1.5 - d, 0.0, 1.0)
                hb = WEIGHTS["hbond"] * torch.clamp(-d / 0.7, 0.0, 1.0)
                for t in types:
                    if float(XS_RADII[t]) != rad:
                        continue
                    e = steric
                    if HYDROPHOBIC[t]:
                        e = e + torch.where(h, hyd, torch.zeros_like(hyd))
                    if ACCEPTOR[t]:
                        e = e + torch.where(dn, hb, torch.zeros_like(hb))
                    if DONOR[t]:
                        e = e + torch.where(ac, hb, torch.zeros_like(hb))
                    out[t].index_add_(0, gi + start, e)

    # -- evaluation ----------------------------------------------------------------------
    def flat_maps(self, types: Iterable[int]) -> tuple[torch.Tensor, dict[int, int]]:
        """Maps of ``types`` stacked as (S, n_points) and each type's slot."""
        key = tuple(sorted({int(t) for t in types if int(t) >= 0}))
        self.ensure(key)
        if self._flat_cache is None or self._flat_cache[0] != key:
            flat = torch.stack([self._maps[t].reshape(-1) for t in key]) if key else torch.zeros(
                (0, math.prod(self.npts)), dtype=self.dtype, device=self.device
            )
            self._flat_cache = (key, flat)
        return self._flat_cache[1], {t: i for i, t in enumerate(key)}

    def interpolate(
        self,
        xyz: torch.Tensor,
        slot: torch.Tensor,
        flat: torch.Tensor,
        *,
        cap: float,
        slope: float,
    ) -> torch.Tensor:
        """Per-atom energies of positions ``xyz`` (..., 3) on maps ``flat[slot]``.

        ``slot`` (...) selects each atom's map; entries < 0 (hydrogens, padding) give 0.
        Differentiable w.r.t. ``xyz`` (trilinear weights and the out-of-grid penalty).
        """
        nx, ny, nz = self.npts
        s = torch.nan_to_num((xyz - self.origin) / self.spacing, nan=0.0, posinf=1e6, neginf=-1e6)
        sc = torch.minimum(torch.clamp(s, min=0.0), self._upper)
        miss = (s - sc).abs().sum(-1) * self.spacing
        i0 = torch.minimum(sc.detach().floor(), self._upper - 1).to(torch.long)
        f = sc - i0.to(sc.dtype)
        valid = slot >= 0
        base = (
            torch.clamp(slot, min=0) * (nx * ny * nz) + i0[..., 0] * (ny * nz) + i0[..., 1] * nz + i0[..., 2]
        )
        offs = torch.tensor(
            [dx * ny * nz + dy * nz + dz for dx in (0, 1) for dy in (0, 1) for dz in (0, 1)],
            device=xyz.device,
        )
        vals = flat.reshape(-1)[base.unsqueeze(-1) + offs]
        fx, fy, fz = f[..., 0:1], f[..., 1:2], f[..., 2:3]
        wx = torch.cat([1 - fx, fx], -1)
        wy = torch.cat([1 - fy, fy], -1)
        wz = torch.cat([1 - fz, fz], -1)
        w = (wx[..., :, None, None] * wy[..., None, :, None] * wz[..., None, None, :]).flatten(-3)
        e = curl((vals * w).sum(-1), cap) + slope * miss
        return torch.where(valid, e, torch.zeros_like(e))

    def near_atoms(self, xyz: torch.Tensor, margin: float = 4.0) -> torch.Tensor:
        """Indices of receptor atoms within the cutoff + ``margin`` of any position in ``xyz``."""
        pts = xyz.detach().reshape(-1, 3).cpu().numpy()
        tree = cKDTree(pts)
        dist, _ = tree.query(self.rec_coords, k=1, distance_upper_bound=CUTOFF + margin)
        return torch.as_tensor(np.flatnonzero(np.isfinite(dist)), device=self.device)

    def near_atoms_per_pose(self, xyz: torch.Tensor, margin: float = 3.0) -> tuple[torch.Tensor, torch.Tensor]:
        """Per pose (first axis of ``xyz`` (P, A, 3)), the receptor atoms within the cutoff +
        ``margin`` of any of its atoms, padded: indices (P, K) and mask (P, K)."""
        tree = cKDTree(self.rec_coords)
        lists = []
        for pose in xyz.detach().cpu().numpy():
            hits = tree.query_ball_point(pose, r=CUTOFF + margin)
            lists.append(np.unique(np.concatenate([np.asarray(h, dtype=np.int64) for h in hits] or [np.zeros(0)])))
        k = max(1, max(len(h) for h in lists))
        idx = np.zeros((len(lists), k), dtype=np.int64)
        mask = np.zeros((len(lists), k), dtype=bool)
        for i, h in enumerate(lists):
            idx[i, : len(h)] = h
            mask[i, : len(h)] = True
        return torch.as_tensor(idx, device=self.device), torch.as_tensor(mask, device=self.device)

    def exact_per_pose(
        self, xyz: torch.Tensor, xs: torch.Tensor, near: tuple[torch.Tensor, torch.Tensor], *, cap: float, slope: float
    ) -> torch.Tensor:
        """As :meth:`exact` with per-pose receptor atom lists from :meth:`near_atoms_per_pose`."""
        self.exact(xyz[:1, :1], xs[:1, :1], cap=cap, slope=slope)  # builds the receptor tensors
        rxyz, rrad, rhyd, rdon, racc = self._rec_t
        idx, mask = near
        dev = xyz.device
        lut = torch.as_tensor(np.append(XS_RADII, 0.0), dtype=self.dtype, device=dev)
        hyd_l = torch.as_tensor(np.append(HYDROPHOBIC, False), device=dev)
        don_l = torch.as_tensor(np.append(DONOR, False), device=dev)
        acc_l = torch.as_tensor(np.append(ACCEPTOR, False), device=dev)
        t = torch.where(xs >= 0, xs, torch.full_like(xs, len(XS_RADII)))
        r = torch.sqrt(((xyz[:, :, None, :] - rxyz[idx][:, None]) ** 2).sum(-1) + 1e-12)  # (P, A, K)
        hyd = hyd_l[t][..., None] & rhyd[idx][:, None]
        hb = (don_l[t][..., None] & racc[idx][:, None]) | (acc_l[t][..., None] & rdon[idx][:, None])
        e = pair_energy(r, lut[t][..., None] + rrad[idx][:, None], hyd, hb)
        e = (e * mask[:, None, :]).sum(-1)
        s_ = (xyz - self.origin) / self.spacing
        miss = (s_ - torch.minimum(torch.clamp(s_, min=0.0), self._upper)).abs().sum(-1) * self.spacing
        e = curl(e, cap) + slope * miss
        return torch.where(xs >= 0, e, torch.zeros_like(e))

    def exact(
        self, xyz: torch.Tensor, xs: torch.Tensor, *, cap: float, slope: float, atoms: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Per-atom energies by direct pair sums over the receptor atoms (no grid).

        This is Vina's "non-cache" evaluation used for scoring and final refinement.
        ``xs`` (...) are ligand XS types (< 0: no energy).  Atoms off the grid box get the
        same L1 penalty as :meth:`interpolate`.  ``atoms`` restricts the receptor atoms (see
        :meth:`near_atoms`).
        """
        if not hasattr(self, "_rec_t"):
            dev = self.device
            self._rec_t = (
                torch.as_tensor(self.rec_coords, dtype=self.dtype, device=dev),
                torch.as_tensor(XS_RADII[self.rec_xs], dtype=self.dtype, device=dev),
                torch.as_tensor(HYDROPHOBIC[self.rec_xs], device=dev),
                torch.as_tensor(DONOR[self.rec_xs], device=dev),
                torch.as_tensor(ACCEPTOR[self.rec_xs], device=dev),
            )
        rxyz, rrad, rhyd, rdon, racc = self._rec_t
        if atoms is not None:
            rxyz, rrad, rhyd, rdon, racc = rxyz[atoms], rrad[atoms], rhyd[atoms], rdon[atoms], racc[atoms]
        lut = torch.as_tensor(np.append(XS_RADII, 0.0), dtype=self.dtype, device=xyz.device)
        hyd_l = torch.as_tensor(np.append(HYDROPHOBIC, False), device=xyz.device)
        don_l = torch.as_tensor(np.append(DONOR, False), device=xyz.device)
        acc_l = torch.as_tensor(np.append(ACCEPTOR, False), device=xyz.device)
        t = torch.where(xs >= 0, xs, torch.full_like(xs, len(XS_RADII)))
        flat = xyz.reshape(-1, 3)
        tf = t.reshape(-1)
        out = []
        rows = max(1, 2_000_000 // max(1, len(rxyz)))
        for s in range(0, flat.shape[0], rows):
            x, tt = flat[s : s + rows], tf[s : s + rows]
            r = torch.sqrt(((x[:, None, :] - rxyz[None]) ** 2).sum(-1) + 1e-12)
            hyd = hyd_l[tt][:, None] & rhyd[None]
            hb = (don_l[tt][:, None] & racc[None]) | (acc_l[tt][:, None] & rdon[None])
            e = pair_energy(r, lut[tt][:, None] + rrad[None], hyd, hb).sum(-1)
            out.append(e)
        e = torch.cat(out).reshape(xs.shape) if out else torch.zeros(xs.shape, dtype=xyz.dtype, device=xyz.device)
        s_ = (xyz - self.origin) / self.spacing
        miss = (s_ - torch.minimum(torch.clamp(s_, min=0.0), self._upper)).abs().sum(-1) * self.spacing
        e = curl(e, cap) + slope * miss
        return torch.where(xs >= 0, e, torch.zeros_like(e))
