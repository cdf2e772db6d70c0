"""The score history chart's geometry: no two texts overlap (score labels, run labels, legend),
runs that share a day are told apart by their time, and a narrow layout exists for 375 px."""

from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from panel.pages.charts import CHAR_W, FONT, NARROW, TICK_DY, WIDE, score_chart
from panel.pages.views import run_labels

ASCENT, DESCENT = FONT, 0.3 * FONT  # a text's box around its baseline, as a browser draws it

Box = tuple[float, float, float, float]  # left, top, right, bottom


def boxes(chart) -> list[tuple[str, Box]]:
    """Every text the template draws, as the box it covers (estimated from CHAR_W and FONT)."""
    out = []
    for s in chart.series:
        for label in s.labels:
            w = len(label.text) * CHAR_W
            box = (label.x, label.y - ASCENT, label.x + w, label.y + DESCENT)
            out.append((f"score {label.text}", box))
        x = s.legend_x
        w = 34 + len(s.name) * CHAR_W
        out.append((f"legend {s.name}", (x, s.legend_y - ASCENT, x + w, s.legend_y + DESCENT)))
    for t in chart.x_ticks:
        w = max(len(line) for line in t.lines) * CHAR_W
        top = chart.plot_bottom + TICK_DY - ASCENT
        bottom = chart.plot_bottom + TICK_DY + 15 * (len(t.lines) - 1) + DESCENT
        out.append((f"run {t.lines}", (t.pos - w / 2, top, t.pos + w / 2, bottom)))
    for t in chart.y_ticks:
        w = len(t.lines[0]) * CHAR_W
        x, y = chart.plot_left - 8, t.pos + 4
        out.append((f"axis {t.lines[0]}", (x - w, y - ASCENT, x, y + DESCENT)))
    return out


def overlapping(chart) -> list[tuple[str, str]]:
    found = boxes(chart)
    pairs = []
    for i, (a, (l1, t1, r1, b1)) in enumerate(found):
        for b, (l2, t2, r2, b2) in found[i + 1 :]:
            if l1 < r2 and l2 < r1 and t1 < b2 and t2 < b1:
                pairs.append((a, b))
    return pairs


def inside(chart) -> bool:
    return all(
        left >= 0 and right <= chart.width and top >= 0 and bottom <= chart.height
        for _, (left, top, right, bottom) in boxes(chart)
    )


NAMES = ("Builder", "Skeptic", "Founder", "Futurist")


@settings(max_examples=60, deadline=None)
@given(
    runs=st.integers(min_value=1, max_value=40),
    scores=st.lists(st.one_of(st.none(), st.integers(0, 100)), min_size=160, max_size=160),
    width=st.sampled_from([WIDE, NARROW]),
    same_day=st.booleans(),
)
def test_no_text_overlaps_any_other(runs, scores, width, same_day):
    """Whatever the scores (near, equal, failed) and however many runs, no two texts overlap
    and all of them stay inside the chart, in both layouts."""
    stamps = [
        f"2026-11-25 {9 + i // 6:02d}:{(i * 10) % 60:02d}"
        if same_day
        else f"2026-11-{i % 28 + 1:02d}"
        for i in range(runs)
    ]
    trend = [(name, scores[k * 40 : k * 40 + runs]) for k, name in enumerate(NAMES)]
    chart = score_chart("t", stamps, trend, width=width)
    assert overlapping(chart) == []
    assert inside(chart)


def test_close_scores_in_one_run_are_spread_apart():
    """Scores 57, 58 and 51 in one run get labels at least a line apart (regression: stacked)."""
    trend = [(n, [s]) for n, s in zip(NAMES, (57, 58, 51, 81), strict=True)]
    chart = score_chart("t", ["2026-12-03"], trend)
    ys = sorted(label.y for s in chart.series for label in s.labels)
    assert len(ys) == 4 and all(b - a >= ASCENT + DESCENT for a, b in pairwise(ys))


def test_runs_on_one_day_carry_their_time():
    """Runs that share a day are labelled with their time; a lone day stays a date."""
    stamps = ["2026-11-25T09:00:00+00:00", "2026-11-25T13:05:00+00:00", "2026-11-26T08:00:00+00:00"]
    assert run_labels(stamps) == ["2026-11-25 09:00", "2026-11-25 13:05", "2026-11-26"]


def test_runs_in_one_minute_carry_seconds():
    """Two runs in the same minute still read differently."""
    stamps = ["2026-11-25T09:00:01+00:00", "2026-11-25T09:00:40+00:00"]
    assert run_labels(stamps) == ["2026-11-25 09:00:01", "2026-11-25 09:00:40"]


def test_a_time_goes_on_a_second_line():
    """A run label with a time is drawn on two lines, the day above the time."""
    chart = score_chart("t", ["2026-11-25 09:00", "2026-11-25 13:05"], [("Builder", [70, 71])])
    assert [t.lines for t in chart.x_ticks] == [["2026-11-25", "09:00"], ["2026-11-25", "13:05"]]


@pytest.mark.parametrize("width", [NARROW])
def test_the_narrow_layout_fits_a_phone(width):
    """The narrow layout is drawn for 340 units, so at 375 px its text is near its true size."""
    chart = score_chart("t", ["2026-11-25"], [("Builder", [70])], width=width, key="narrow")
    assert chart.width <= 375 - 2 * 16 and chart.key == "narrow"
