"""The score-history chart as geometry: numbers only, so the SVG template stays dumb and escapes
every label itself. Readable without colour: each persona has its own dash pattern and marker,
every point carries its score as text, and the legend names the personas.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 640
HEIGHT = 300
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 20, 48
INSET = 28  # keeps the first and last runs clear of the axis labels
TICKS = (0, 25, 50, 75, 100)
MAX_X_LABELS = 8
# Dark enough on white for text and lines (WCAG AA for large graphics), told apart by shape too.
COLOURS = ("#1f5fa8", "#b3401b", "#2d7a3a", "#6b3fa0", "#8a6d00", "#0f6b6b")
DASHES = ("", "6 4", "2 3", "8 3 2 3", "1 5", "10 5")
MARKERS = ("circle", "square", "triangle", "diamond")


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    score: int
    marker: str  # circle | square | triangle | diamond
    shape: str  # polygon points for the non-circle markers


@dataclass(frozen=True)
class Series:
    """One persona's scores; `segments` break where a verdict failed (a gap, not a zero)."""

    name: str
    colour: str
    dash: str
    marker: str
    label_dy: int  # score labels alternate above and below the line, so near scores stay legible
    segments: list[str]  # each an SVG polyline `points` value
    points: list[Point]
    legend_x: float
    legend_y: float
    legend_shape: str


@dataclass(frozen=True)
class Tick:
    pos: float
    label: str


@dataclass(frozen=True)
class ChartView:
    """Everything the SVG template draws; empty `series` means there is nothing to chart."""

    title: str
    width: int
    height: int
    plot_left: float
    plot_right: float
    plot_top: float
    plot_bottom: float
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    series: list[Series]


def marker_shape(kind: str, x: float, y: float, r: float = 4.5) -> str:
    """Polygon points of a marker centred on (x, y); circles are drawn as <circle> instead."""
    if kind == "square":
        corners = [(-r, -r), (r, -r), (r, r), (-r, r)]
    elif kind == "triangle":
        corners = [(0, -r * 1.2), (r * 1.1, r * 0.9), (-r * 1.1, r * 0.9)]
    elif kind == "diamond":
        corners = [(0, -r * 1.3), (r * 1.3, 0), (0, r * 1.3), (-r * 1.3, 0)]
    else:
        return ""
    return " ".join(f"{x + dx:.1f},{y + dy:.1f}" for dx, dy in corners)


def score_chart(
    title: str, dates: Sequence[str], trend: Sequence[tuple[str, Sequence[int | None]]]
) -> ChartView:
    """Lay out each persona's score (0-100, fixed scale) across runs, oldest on the left.

    `trend` is (display name, one score or None per run); `dates` labels the runs.
    """
    series_count = max(len(trend), 1)
    legend_rows = (series_count + 3) // 4
    height = HEIGHT + 20 * (legend_rows - 1)
    top, bottom = TOP, HEIGHT - BOTTOM
    left, right = LEFT, WIDTH - RIGHT
    n = len(dates)

    def x_at(i: int) -> float:
        first, last = left + INSET, right - INSET
        return round((first + last) / 2 if n <= 1 else first + (last - first) * i / (n - 1), 1)

    def y_at(score: int) -> float:
        return round(bottom - (bottom - top) * score / 100, 1)

    step = max(1, -(-n // MAX_X_LABELS))
    x_ticks = [Tick(x_at(i), d[:10]) for i, d in enumerate(dates) if i % step == 0 or i == n - 1]
    y_ticks = [Tick(y_at(t), str(t)) for t in TICKS]  # a fixed 0-100 scale: flat means flat
    series: list[Series] = []
    for k, (name, scores) in enumerate(trend):
        marker = MARKERS[k % len(MARKERS)]
        nudge = (k - (len(trend) - 1) / 2) * 3.0  # keeps equal scores from hiding each other
        points: list[Point] = []
        segments: list[str] = []
        run: list[str] = []
        for i, score in enumerate(scores):
            if score is None:
                if run:
                    segments.append(" ".join(run))
                run = []
                continue
            x, y = round(x_at(i) + nudge, 1), y_at(score)
            points.append(Point(x, y, score, marker, marker_shape(marker, x, y)))
            run.append(f"{x:.1f},{y:.1f}")
        if run:
            segments.append(" ".join(run))
        lx = round(left + (k % 4) * ((right - left) / 4), 1)
        ly = HEIGHT - 12 + 20 * (k // 4)
        series.append(
            Series(
                name=name,
                colour=COLOURS[k % len(COLOURS)],
                dash=DASHES[k % len(DASHES)],
                marker=marker,
                label_dy=-9 if k % 2 == 0 else 18,
                segments=[s for s in segments if " " in s],  # one point alone is just its marker
                points=points,
                legend_x=lx,
                legend_y=ly,
                legend_shape=marker_shape(marker, lx + 14, ly - 4),
            )
        )
    return ChartView(title, WIDTH, height, left, right, top, bottom, y_ticks, x_ticks, series)
