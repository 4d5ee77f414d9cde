"""A small server-side SVG chart of the log's growth (no scripts, no inline styles: CSP)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape

WIDTH, HEIGHT, MARGIN = 640, 180, 36


def growth_chart(points: Sequence[tuple[datetime, int]]) -> str:
    """Tree size over time as a polyline; an empty string when there is no line to draw (fewer
    than two checkpoints: the page says so in words)."""
    if len(points) < 2:
        return ""
    ordered = sorted(points)
    same_day = ordered[0][0].date() == ordered[-1][0].date()
    moment_format = "%Y-%m-%d %H:%M:%S" if same_day else "%Y-%m-%d"
    start, end = ordered[0][0].timestamp(), ordered[-1][0].timestamp()
    span = max(end - start, 1.0)
    top = max(size for _, size in ordered) or 1
    inner_w, inner_h = WIDTH - 2 * MARGIN, HEIGHT - 2 * MARGIN

    def xy(moment: datetime, size: int) -> str:
        x = MARGIN + (moment.timestamp() - start) / span * inner_w
        y = HEIGHT - MARGIN - size / top * inner_h
        return f"{x:.1f},{y:.1f}"

    line = " ".join(xy(moment, size) for moment, size in ordered)
    dots = "".join(
        f'<circle class="chart-dot" cx="{xy(m, s).split(",")[0]}" cy="{xy(m, s).split(",")[1]}" '
        f'r="3"><title>{s} leaves at {escape(m.strftime("%Y-%m-%d %H:%M"))}</title></circle>'
        for m, s in ordered[-60:]
    )
    base = HEIGHT - MARGIN
    return (
        f'<svg class="ledger-chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="Log size over time: from {ordered[0][1]} to {ordered[-1][1]} leaves">'
        f'<line class="chart-axis" x1="{MARGIN}" y1="{base}" x2="{WIDTH - MARGIN}" y2="{base}"/>'
        f'<line class="chart-axis" x1="{MARGIN}" y1="{MARGIN}" x2="{MARGIN}" y2="{base}"/>'
        f'<text class="chart-label" x="{MARGIN - 4}" y="{MARGIN + 4}" text-anchor="end">'
        f"{top}</text>"
        f'<text class="chart-label" x="{MARGIN - 4}" y="{base}" text-anchor="end">0</text>'
        f'<text class="chart-label" x="{MARGIN}" y="{HEIGHT - 10}">'
        f"{escape(ordered[0][0].strftime(moment_format))}</text>"
        f'<text class="chart-label" x="{WIDTH - MARGIN}" y="{HEIGHT - 10}" text-anchor="end">'
        f"{escape(ordered[-1][0].strftime(moment_format))}</text>"
        f'<polyline class="chart-line" points="{line}"/>{dots}</svg>'
    )
