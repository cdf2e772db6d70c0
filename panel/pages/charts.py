"""The score-history chart as geometry: numbers only, so the SVG template stays dumb and escapes
every label itself. Readable without colour: each persona has its own dash pattern and marker, the
legend names the personas, and scores are written beside their points wherever there is room.

Nothing overlaps by construction: score labels in a column are spread apart vertically, a column is
labelled only when the next one is far enough away (else only the latest run is), the
run labels are thinned to what fits the width, and the legend wraps to as many rows as it needs.
The page draws a wide layout and a narrow one (for phones) from the same data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WIDE, NARROW = 640, 340
HEIGHT = 300  # the plot and its axis labels; the legend and a second line of run labels add to it
LEFT, RIGHT, TOP = 44, 12, 16
INSET_LEFT, INSET_RIGHT = 22, 40  # room before the first run and for the last run's score labels
TICKS = (0, 25, 50, 75, 100)
FONT = 12
CHAR_W = 0.62 * FONT  # a generous average glyph width of the sans-serif font at FONT px
LINE = 15  # the height of one line of text
LABEL_GAP = 16  # least distance between two score labels' baselines in a column (> 1.3 em)
LABEL_DX = 11  # from a column to its score labels (clears the marker and the nudge)
LEGEND_ROW = 22
TICK_DY = 22  # from the plot's bottom to a run label's baseline (clear of the y-axis's 0)
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
class Label:
    """A score written beside its point; `y` is the text's baseline."""

    x: float
    y: float
    text: str


@dataclass(frozen=True)
class Series:
    """One persona's scores; `segments` break where a verdict failed (a gap, not a zero)."""

    name: str
    colour: str
    dash: str
    marker: str
    segments: list[str]  # each an SVG polyline `points` value
    points: list[Point]
    labels: list[Label]
    legend_x: float
    legend_y: float
    legend_shape: str


@dataclass(frozen=True)
class Tick:
    pos: float
    lines: list[str]  # a run label on one or two lines (the day, then the time)


@dataclass(frozen=True)
class ChartView:
    """Everything the SVG template draws; empty `series` means there is nothing to chart."""

    key: str  # wide | narrow: the layout, also what keeps element ids unique on the page
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
    labelled_runs: int  # how many runs have their scores written beside the points
    tick_dy: int = TICK_DY


def text_width(text: str) -> float:
    return len(text) * CHAR_W


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


def spread_labels(ys: Sequence[float], low: float, high: float) -> list[float]:
    """Baselines for labels wanted at `ys`, in the same order, each at least LABEL_GAP from the
    next and all between `low` and `high` (pushed down past neighbours, then back up if needed)."""
    order = sorted(range(len(ys)), key=lambda i: ys[i])
    placed: list[float] = []
    for i in order:
        y = max(ys[i] + FONT / 3, low)
        if placed:
            y = max(y, placed[-1] + LABEL_GAP)
        placed.append(y)
    overflow = placed[-1] - high if placed else 0
    if overflow > 0:
        placed = [y - overflow for y in placed]
        for j in range(len(placed) - 2, -1, -1):
            placed[j] = min(placed[j], placed[j + 1] - LABEL_GAP)
    out = [0.0] * len(ys)
    for i, y in zip(order, placed, strict=True):
        out[i] = round(y, 1)
    return out


def thin(count: int, room: float, widest: float) -> list[int]:
    """Which of `count` evenly spaced run labels to write so none overlaps: every k-th, and the
    last one always (dropping its neighbour when they would touch)."""
    if count <= 1:
        return list(range(count))
    spacing = room / (count - 1)
    step = 1
    while step < count and spacing * step < widest + 8:
        step += 1
    picked = list(range(0, count, step))
    if picked[-1] != count - 1:
        if (count - 1 - picked[-1]) * spacing < widest + 8:
            picked.pop()
        picked.append(count - 1)
    return picked


def legend_layout(names: Sequence[str], left: float, right: float) -> tuple[int, float]:
    """How many legend entries fit a row, and the width of each slot."""
    widest = max((text_width(n) for n in names), default=0) + 34 + 16
    per_row = max(1, min(len(names) or 1, int((right - left) // widest) or 1, 4))
    return per_row, (right - left) / per_row


def score_chart(
    title: str,
    runs: Sequence[str],
    trend: Sequence[tuple[str, Sequence[int | None]]],
    *,
    width: int = WIDE,
    key: str = "wide",
) -> ChartView:
    """Lay out each persona's score (0-100, fixed scale) across runs, oldest on the left.

    `trend` is (display name, one score or None per run); `runs` labels the runs, one or two
    lines each (a space separates the day from the time).
    """
    n = len(runs)
    two_lines = any(" " in r for r in runs)
    top, bottom = TOP, HEIGHT - 40
    left, right = LEFT, width - RIGHT
    first, last = left + INSET_LEFT, right - INSET_RIGHT

    def x_at(i: int) -> float:
        return round((first + last) / 2 if n <= 1 else first + (last - first) * i / (n - 1), 1)

    def y_at(score: int) -> float:
        return round(bottom - (bottom - top) * score / 100, 1)

    lines = [r.split(" ", 1) for r in runs]
    widest = max((text_width(part) for parts in lines for part in parts), default=0)
    x_ticks = [Tick(x_at(i), lines[i]) for i in thin(n, last - first, widest)]
    y_ticks = [Tick(y_at(t), [str(t)]) for t in TICKS]  # a fixed 0-100 scale: flat means flat
    spacing = (last - first) / (n - 1) if n > 1 else width
    room = LABEL_DX + text_width("100") + 6  # a column's labels end before the next column
    labelled = set(range(n)) if spacing >= room else {n - 1}  # else the latest run only
    nudges = [(k - (len(trend) - 1) / 2) * 3.0 for k in range(len(trend))]  # equal scores show
    label_ys: dict[tuple[int, int], float] = {}
    for i in sorted(labelled):
        column = [
            (k, y_at(score))
            for k, (_, scores) in enumerate(trend)
            if i < len(scores) and (score := scores[i]) is not None
        ]
        ys = spread_labels([y for _, y in column], top + FONT / 2, bottom + FONT / 3)
        label_ys.update({(k, i): y for (k, _), y in zip(column, ys, strict=True)})
    per_row, slot = legend_layout([name for name, _ in trend], left, right)
    legend_top = bottom + TICK_DY + (LINE if two_lines else 0) + 28  # below the run labels
    series: list[Series] = []
    for k, (name, scores) in enumerate(trend):
        marker = MARKERS[k % len(MARKERS)]
        points: list[Point] = []
        labels: list[Label] = []
        segments: list[str] = []
        run: list[str] = []
        for i, score in enumerate(scores):
            if score is None:
                if run:
                    segments.append(" ".join(run))
                run = []
                continue
            x, y = round(x_at(i) + nudges[k], 1), y_at(score)
            points.append(Point(x, y, score, marker, marker_shape(marker, x, y)))
            if (k, i) in label_ys:
                labels.append(Label(round(x_at(i) + LABEL_DX, 1), label_ys[(k, i)], str(score)))
            run.append(f"{x:.1f},{y:.1f}")
        if run:
            segments.append(" ".join(run))
        lx = round(left + (k % per_row) * slot, 1)
        ly = legend_top + LEGEND_ROW * (k // per_row)
        series.append(
            Series(
                name=name,
                colour=COLOURS[k % len(COLOURS)],
                dash=DASHES[k % len(DASHES)],
                marker=marker,
                segments=[s for s in segments if " " in s],  # one point alone is just its marker
                points=points,
                labels=labels,
                legend_x=lx,
                legend_y=ly,
                legend_shape=marker_shape(marker, lx + 14, ly - 4),
            )
        )
    rows = -(-max(len(trend), 1) // per_row)
    height = int(legend_top + LEGEND_ROW * (rows - 1) + 12)
    return ChartView(
        key, title, width, height, left, right, top, bottom, y_ticks, x_ticks, series, len(labelled)
    )


def score_charts(
    title: str, runs: Sequence[str], trend: Sequence[tuple[str, Sequence[int | None]]]
) -> list[ChartView]:
    """The wide layout and the narrow one (phones), from the same data."""
    return [
        score_chart(title, runs, trend, width=WIDE, key="wide"),
        score_chart(title, runs, trend, width=NARROW, key="narrow"),
    ]
