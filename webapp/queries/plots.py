"""Server-rendered SVG charts (no JavaScript, no CDN): score histograms, heatmap colours."""

from __future__ import annotations

from html import escape
from typing import Any

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2")


def histogram_svg(dist: dict[str, Any], width: int = 640, height: int = 260) -> str:
    """Overlaid step histograms (density per series) of docking scores; text is escaped."""
    edges: list[float] = dist.get("edges") or []
    series: list[dict[str, Any]] = dist.get("series") or []
    if not edges or not series:
        return ""
    left, right, top, bottom = 48, 12, 12, 40
    pw, ph = width - left - right, height - top - bottom
    bins = len(edges) - 1
    dens = [[c / max(1, s["n"]) for c in s["counts"]] for s in series]
    ymax = max(max(d) for d in dens) or 1.0
    lo, hi = edges[0], edges[-1]

    def x(v: float) -> float:
        return left + (v - lo) / (hi - lo) * pw

    def y(v: float) -> float:
        return top + ph - v / ymax * ph

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="score distribution" class="chart">',
        f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="#fff" stroke="#999"/>',
    ]
    for i in range(6):
        v = lo + (hi - lo) * i / 5
        parts.append(f'<text x="{x(v):.1f}" y="{top + ph + 16}" font-size="11" text-anchor="middle">{v:.1f}</text>')
    parts.append(
        f'<text x="{left + pw / 2:.1f}" y="{height - 6}" font-size="12" text-anchor="middle">'
        "best score (kcal/mol)</text>"
    )
    parts.append(
        f'<text x="12" y="{top + ph / 2:.1f}" font-size="12" text-anchor="middle" '
        f'transform="rotate(-90 12 {top + ph / 2:.1f})">fraction</text>'
    )
    for k, (s, d) in enumerate(zip(series, dens, strict=True)):
        colour = PALETTE[k % len(PALETTE)]
        pts = [f"{x(edges[0]):.1f},{y(0):.1f}"]
        for b in range(bins):
            pts.append(f"{x(edges[b]):.1f},{y(d[b]):.1f}")
            pts.append(f"{x(edges[b + 1]):.1f},{y(d[b]):.1f}")
        pts.append(f"{x(edges[-1]):.1f},{y(0):.1f}")
        parts.append(
            f'<polyline points="{" ".join(pts)}" fill="{colour}" fill-opacity="0.15" stroke="{colour}" '
            f'stroke-width="1.5"/>'
        )
        label = escape(f"{s['name']} (n={s['n']}, mean {s['mean']})")
        parts.append(
            f'<text x="{left + pw - 6}" y="{top + 14 + 14 * k}" font-size="11" text-anchor="end" '
            f'fill="{colour}">{label}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def z_colour(z: float | None) -> str:
    """Diverging colour for a z-score: blue = better (negative), red = worse, white = 0."""
    if z is None:
        return "#eeeeee"
    t = max(-3.0, min(3.0, z)) / 3.0
    if t < 0:
        r = g = int(255 * (1 + t))
        return f"#{r:02x}{g:02x}ff"
    gb = int(255 * (1 - t))
    return f"#ff{gb:02x}{gb:02x}"
