"""Server-rendered SVG charts (no script, no inline style: classes are styled in app.css).

Each function returns a complete ``<svg>`` element as text with every label escaped; pages
embed it as markup. A ``<title>`` and ``role="img"`` name the chart for screen readers, which
read nothing inside it; pages show the same figures as text beside it, in a table of their own or
in the "Figures" disclosure that :func:`figures` makes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from html import escape

WIDTH = 640
BAR_HEIGHT = 22
LABEL_WIDTH = 220
MAX_LABEL = 30
"""Characters of a bar's label that fit in LABEL_WIDTH at the chart font; longer ones end in an
ellipsis (the whole label is the element's title)."""
HEAT_LEVELS = 6


def bar_chart(title: str, items: Sequence[tuple[str, float]], value_format: str = "{:.1%}") -> str:
    """Horizontal bars, longest first as given; values must be ≥ 0."""
    height = max(len(items), 1) * BAR_HEIGHT + 10
    top = max((value for _, value in items), default=0.0) or 1.0
    span = WIDTH - LABEL_WIDTH - 70
    parts = [
        f'<svg class="chart bar-chart" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for row, (label, value) in enumerate(items):
        y = 5 + row * BAR_HEIGHT
        length = max(value / top * span, 1.0)
        short = label if len(label) <= MAX_LABEL else label[: MAX_LABEL - 1].rstrip() + "…"
        parts.append(
            f'<text class="chart-label" x="{LABEL_WIDTH - 6}" y="{y + 15}" text-anchor="end">'
            f"<title>{escape(label)}</title>{escape(short)}</text>"
            f'<rect class="chart-bar" x="{LABEL_WIDTH}" y="{y + 3}" width="{length:.1f}" '
            f'height="{BAR_HEIGHT - 6}"><title>{escape(label)}</title></rect>'
            f'<text class="chart-value" x="{LABEL_WIDTH + length + 4:.1f}" y="{y + 15}">'
            f"{escape(value_format.format(value))}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def timeline_chart(
    title: str, items: Sequence[tuple[str, float, float]], unit: str = "week"
) -> str:
    """A Gantt-style timeline: one bar per item from its start to its end (e.g. in weeks)."""
    height = max(len(items), 1) * BAR_HEIGHT + 30
    last = max((end for _, _, end in items), default=0.0) or 1.0
    span = WIDTH - LABEL_WIDTH - 70
    axis_y = height - 20
    parts = [
        f'<svg class="chart timeline-chart" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        f'<line class="chart-axis" x1="{LABEL_WIDTH}" y1="{axis_y}" x2="{LABEL_WIDTH + span}" '
        f'y2="{axis_y}"/>',
    ]
    for row, (label, start, end) in enumerate(items):
        y = 5 + row * BAR_HEIGHT
        x = LABEL_WIDTH + start / last * span
        length = max((end - start) / last * span, 2.0)
        short = label if len(label) <= MAX_LABEL else label[: MAX_LABEL - 1].rstrip() + "…"
        when = f"{unit}s {start:g}–{end:g}"
        parts.append(
            f'<text class="chart-label" x="{LABEL_WIDTH - 6}" y="{y + 15}" text-anchor="end">'
            f"<title>{escape(label)}</title>{escape(short)}</text>"
            f'<rect class="chart-bar" x="{x:.1f}" y="{y + 3}" width="{length:.1f}" '
            f'height="{BAR_HEIGHT - 6}"><title>{escape(label)}: {when}</title></rect>'
        )
    for tick in (0.0, last / 2, last):
        x = LABEL_WIDTH + tick / last * span
        parts.append(
            f'<text class="chart-label" x="{x:.1f}" y="{axis_y + 14}" text-anchor="middle">'
            f"{unit} {tick:.0f}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def line_chart(
    title: str, points: Sequence[tuple[date, float]], value_format: str = "{:.1%}"
) -> str:
    """A trend line over months with the first, last and highest values labelled."""
    height, left, right, top_margin, bottom = 240, 56, 16, 16, 32
    parts = [
        f'<svg class="chart line-chart" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        f'<line class="chart-axis" x1="{left}" y1="{height - bottom}" x2="{WIDTH - right}" '
        f'y2="{height - bottom}"/>',
        f'<line class="chart-axis" x1="{left}" y1="{top_margin}" x2="{left}" '
        f'y2="{height - bottom}"/>',
    ]
    if points:
        peak = max(value for _, value in points) or 1.0
        step = (WIDTH - left - right) / max(len(points) - 1, 1)

        def place(index: int, value: float) -> tuple[float, float]:
            return (
                left + index * step,
                height - bottom - value / peak * (height - bottom - top_margin),
            )

        coordinates = [place(i, value) for i, (_, value) in enumerate(points)]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coordinates)
        parts.append(f'<polyline class="chart-line" points="{path}"/>')
        for (x, y), (month, value) in zip(coordinates, points, strict=True):
            parts.append(
                f'<circle class="chart-dot" cx="{x:.1f}" cy="{y:.1f}" r="3">'
                f"<title>{month:%Y-%m}: {escape(value_format.format(value))}</title></circle>"
            )
        parts.append(
            f'<text class="chart-label" x="{left - 4}" y="{top_margin + 4}" text-anchor="end">'
            f"{escape(value_format.format(peak))}</text>"
            f'<text class="chart-label" x="{left - 4}" y="{height - bottom}" text-anchor="end">0'
            "</text>"
        )
        last = len(points) - 1
        for index in sorted({0, len(points) // 2, last}):
            x = coordinates[index][0]
            # the last month's label ends at its point, so the chart's edge never cuts it
            anchor = "end" if index == last and last else "middle"
            parts.append(
                f'<text class="chart-label" x="{x:.1f}" y="{height - bottom + 16}" '
                f'text-anchor="{anchor}">{points[index][0]:%Y-%m}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def figures(
    title: str,
    headings: tuple[str, str],
    rows: Sequence[tuple[str, float]],
    value_format: str = "{:.1%}",
) -> str:
    """A chart's figures as a two-column table in a "Figures" disclosure under it: the numbers a
    screen-reader user cannot get from the picture."""
    body = "".join(
        f'<tr><th scope="row">{escape(label)}</th>'
        f"<td>{escape(value_format.format(value))}</td></tr>"
        for label, value in rows
    )
    return (
        '<details class="chart-figures"><summary>Figures'
        f'<span class="visually-hidden">: {escape(title)}</span></summary>'
        f'<table class="table"><caption class="visually-hidden">{escape(title)}</caption>'
        f'<thead><tr><th scope="col">{escape(headings[0])}</th>'
        f'<th scope="col">{escape(headings[1])}</th></tr></thead><tbody>{body}</tbody></table>'
        "</details>"
    )


def heat_level(share: float, highest: float) -> int:
    """0–5: the CSS class step of a heat-table cell, relative to the table's highest share."""
    if share <= 0 or highest <= 0:
        return 0
    return min(HEAT_LEVELS - 1, 1 + int(share / highest * (HEAT_LEVELS - 2) + 0.5))
