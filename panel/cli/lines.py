"""Long listings as plain aligned lines: what `panel list` and `panel cost` print for a pipe, a file
or a store too large for a table.

A rich table measures every cell to lay out its columns (seconds for thousands of rows); these
lines are measured once per column and written in one go. The first column is shortened with `…`
so a line fits the width; numbers are never cut.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass

from rich.console import Console

# A table up to this many rows on a terminal; plain lines past it, or when not on a terminal.
TABLE_ROWS = 200
GAP = "  "
ELLIPSIS = "…"


@dataclass(frozen=True)
class Column:
    title: str
    right: bool = False  # numbers: right-aligned, never shortened
    shrink: bool = False  # the one column cut to make a line fit


def as_table(console: Console, rows: int) -> bool:
    """Whether a listing of `rows` rows is drawn as a table: on a terminal, and not too long."""
    return console.is_terminal and rows <= TABLE_ROWS


def fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + ELLIPSIS


def render(
    columns: Sequence[Column], rows: Sequence[Sequence[str]], width: int | None = None
) -> list[str]:
    """Header and rows aligned in columns. With `width`, the shrinking column gives way (down to
    8 characters) so each line fits; other columns are never cut."""
    widths = [len(c.title) for c in columns]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
    over = sum(widths) + len(GAP) * (len(columns) - 1) - (width or 0)
    for i, column in enumerate(columns):
        if width is not None and over > 0 and column.shrink:
            cut = min(over, widths[i] - max(len(column.title), 8))
            if cut > 0:
                widths[i] -= cut
                over -= cut

    def line(cells: Sequence[str]) -> str:
        parts = []
        for column, w, cell in zip(columns, widths, cells, strict=True):
            cell = fit(cell, w) if column.shrink else cell
            parts.append(cell.rjust(w) if column.right else cell.ljust(w))
        return GAP.join(parts).rstrip()

    return [line([c.title for c in columns]), *(line(row) for row in rows)]


def count(n: int) -> str:
    """A token count in at most six characters: `9,999`, `19.6k`, `23.5M`, `1.2G`."""
    for size, unit in ((10**9, "G"), (10**6, "M"), (10**4, "k")):
        if n >= size:
            return f"{n / (size if unit != 'k' else 1000):.1f}{unit}"
    return f"{n:,}"


def write(lines: Sequence[str]) -> None:
    """The lines on stdout in one write."""
    sys.stdout.write("".join(f"{text}\n" for text in lines))
    sys.stdout.flush()
