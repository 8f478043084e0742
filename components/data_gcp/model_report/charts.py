"""Tiny inline-SVG charts: a report must open offline, from a bucket or a file, with nothing to load.

Why hand-written SVG: two chart kinds (lines over x, horizontal bars) do not justify a plotting library
in the training images, and SVG text stays searchable and sharp at any zoom.
"""

from __future__ import annotations

import math
from html import escape

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")


def _fmt(value: float) -> str:
    if float(value).is_integer() and abs(value) < 1e6:
        return f"{int(value):,}"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


def _ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """Round tick values covering [lo, hi]."""
    if hi <= lo:
        hi = lo + 1.0
    step = 10 ** math.floor(math.log10((hi - lo) / n))
    for mult in (1, 2, 5, 10):
        if (hi - lo) / (step * mult) <= n:
            step *= mult
            break
    start = math.floor(lo / step) * step
    return [start + i * step for i in range(int(math.ceil((hi - start) / step)) + 1)]


def line_chart(
    series: dict[str, list[tuple[float, float]]],
    *,
    title: str,
    x_label: str,
    y_label: str = "",
    width: int = 420,
    height: int = 260,
    y_from_zero: bool = True,
    diagonal: bool = False,
) -> str:
    """Lines with markers, one per series (`name -> [(x, y), ...]`); `diagonal` draws y = x (calibration)."""
    points = [(x, y) for pts in series.values() for x, y in pts if math.isfinite(y)]
    left, right, top, bottom = 52, 12, 28, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="{width}" '
        f'height="{height + 18 * ((len(series) + 2) // 3)}" aria-label="{escape(title)}">',
        f'<text x="{width / 2}" y="16" text-anchor="middle" class="title">{escape(title)}</text>',
    ]
    if not points:
        parts.append(f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle">no data</text></svg>')
        return "".join(parts)
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    x_lo, x_hi = min(xs), max(xs)
    y_lo, y_hi = (min(0.0, min(ys)) if y_from_zero else min(ys)), max(ys)
    if diagonal:
        x_lo, x_hi, y_lo, y_hi = 0.0, max(x_hi, y_hi, 1e-9), 0.0, max(x_hi, y_hi, 1e-9)
    yt = _ticks(y_lo, y_hi)
    y_lo, y_hi = yt[0], yt[-1]
    if x_hi == x_lo:
        x_hi = x_lo + 1

    def px(x: float) -> float:
        return left + (x - x_lo) / (x_hi - x_lo) * plot_w

    def py(y: float) -> float:
        return top + plot_h - (y - y_lo) / (y_hi - y_lo) * plot_h

    for t in yt:
        parts.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{py(t):.1f}" y2="{py(t):.1f}" class="grid"/>'
            f'<text x="{left - 4}" y="{py(t) + 4:.1f}" text-anchor="end" class="tick">{_fmt(t)}</text>'
        )
    for x in (
        sorted(set(xs))
        if len(set(xs)) <= 12 and all(float(v).is_integer() for v in xs)
        else _ticks(x_lo, x_hi)
    ):
        if x_lo <= x <= x_hi:
            parts.append(
                f'<text x="{px(x):.1f}" y="{top + plot_h + 14}" text-anchor="middle" class="tick">{_fmt(x)}</text>'
            )
    parts.append(
        f'<line x1="{left}" x2="{left + plot_w}" y1="{top + plot_h}" y2="{top + plot_h}" class="axis"/>'
        f'<line x1="{left}" x2="{left}" y1="{top}" y2="{top + plot_h}" class="axis"/>'
        f'<text x="{left + plot_w / 2}" y="{top + plot_h + 32}" text-anchor="middle" class="label">'
        f"{escape(x_label)}</text>"
    )
    if y_label:
        parts.append(
            f'<text transform="translate(12,{top + plot_h / 2}) rotate(-90)" text-anchor="middle" '
            f'class="label">{escape(y_label)}</text>'
        )
    if diagonal:
        parts.append(
            f'<line x1="{px(0):.1f}" y1="{py(0):.1f}" x2="{px(x_hi):.1f}" y2="{py(y_hi):.1f}" class="diag"/>'
        )
    for i, (name, pts) in enumerate(series.items()):
        color = PALETTE[i % len(PALETTE)]
        good = sorted((x, y) for x, y in pts if math.isfinite(y))
        if good:
            path = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in good)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2"/>')
            parts.extend(
                f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3" fill="{color}">'
                f"<title>{escape(name)}: {_fmt(x)} -> {y:.4g}</title></circle>"
                for x, y in good
            )
        lx = left + (i % 3) * (plot_w / 3)
        ly = height + 4 + 18 * (i // 3)
        parts.append(
            f'<rect x="{lx:.1f}" y="{ly - 9}" width="10" height="10" fill="{color}"/>'
            f'<text x="{lx + 14:.1f}" y="{ly}" class="legend">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(values: dict[str, float], *, title: str, width: int = 560, max_bars: int = 20) -> str:
    """Horizontal bars, largest first (feature importances)."""
    items = sorted(values.items(), key=lambda kv: -kv[1])[:max_bars]
    label_w, bar_h, top = 190, 18, 28
    height = top + bar_h * max(len(items), 1) + 10
    vmax = max((v for _, v in items), default=0.0) or 1.0
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="{width}" height="{height}" '
        f'aria-label="{escape(title)}">',
        f'<text x="{width / 2}" y="16" text-anchor="middle" class="title">{escape(title)}</text>',
    ]
    for i, (name, value) in enumerate(items):
        y = top + i * bar_h
        w = max(value, 0) / vmax * (width - label_w - 70)
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 13}" text-anchor="end" class="tick">{escape(name)}</text>'
            f'<rect x="{label_w}" y="{y + 2}" width="{w:.1f}" height="{bar_h - 5}" fill="{PALETTE[0]}"/>'
            f'<text x="{label_w + w + 4:.1f}" y="{y + 13}" class="tick">{_fmt(value)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
