"""Progress on stderr: a live table or bar on a terminal; for a batch written to a log or CI, one
plain line per finished tool naming it, and the job's counts."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from rich.console import Console, ConsoleOptions, RenderResult
from rich.live import Live
from rich.markup import escape
from rich.table import Table

from panel.batch.finished import FinishedTool
from panel.cli.render import clean
from panel.judge.personas import Persona
from panel.judge.session import OnEvent, State

STATE_STYLE = {
    "waiting": "dim",
    "writing": "cyan",
    "repairing": "yellow",
    "done": "green",
    "failed": "red",
}
ACTIVE = ("writing", "repairing")


class PanelProgress:
    """Holds each persona's latest state and renders it as a small table."""

    def __init__(self, personas: Sequence[Persona]) -> None:
        self.names = {p.id: p.name for p in personas}
        self.states: dict[str, tuple[State, str, float]] = {
            p.id: ("waiting", "", time.monotonic()) for p in personas
        }

    def update(self, persona: str, state: State, detail: str) -> None:
        self.states[persona] = (state, detail, time.monotonic())

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        """Rendered afresh on every refresh, so a running call's elapsed time keeps ticking."""
        yield self.table()

    def table(self) -> Table:
        table = Table.grid(padding=(0, 2))
        now = time.monotonic()
        for pid, (state, detail, since) in self.states.items():
            clock = f"… {now - since:4.1f}s" if state in ACTIVE else ""
            table.add_row(
                self.names.get(pid, pid),
                f"[{STATE_STYLE[state]}]{state}{clock}[/]",
                escape(detail[:70]),
            )
        return table


@contextmanager
def live_progress(personas: Sequence[Persona], console: Console) -> Iterator[OnEvent]:
    """Yield an event listener; shows a live table only when `console` is a terminal."""
    progress = PanelProgress(personas)
    if not console.is_terminal:
        yield progress.update
        return
    with Live(progress, console=console, refresh_per_second=8, transient=True):
        yield progress.update


class JobProgress:
    """`panel batch`: tools done / failed / remaining, tokens, spend, tools a minute, time left."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.first_finished: float | None = None  # tools already done when this process started
        self.last_render = 0.0
        self.snapshot: dict[str, float] = {}

    def update(self, snapshot: dict[str, float]) -> None:
        if self.first_finished is None:
            self.first_finished = snapshot["done"] + snapshot["failed"]
        self.snapshot = snapshot

    def rate_and_left(self) -> tuple[float, str]:
        """Tools a minute in this process, and the time left at that rate."""
        s = self.snapshot
        finished = s["done"] + s["failed"]
        remaining = s["total"] - finished
        minutes = max(time.monotonic() - self.started, 1e-6) / 60
        rate = (finished - (self.first_finished or 0)) / minutes
        return rate, f"{remaining / rate:.1f} min left" if rate > 0 else "time left: estimating"

    def in_batches(self) -> str:
        """` · batches: 40 processing, 12 succeeded, 0 errored`: the API's counts, while open."""
        s = self.snapshot
        if not s.get("batch_processing"):
            return ""
        return (
            f" · batches: {s['batch_processing']:.0f} processing, "
            f"{s['batch_succeeded']:.0f} succeeded, {s['batch_errored']:.0f} errored"
        )

    def plain_line(self) -> str:
        """One line for a log: `panel: 3/10 tools finished (3 done, 0 failed) · $0.0123 · ...`."""
        s = self.snapshot
        finished = s["done"] + s["failed"]
        _, left = self.rate_and_left()
        return (
            f"panel: {finished:.0f}/{s['total']:.0f} tools finished ({s['done']:.0f} done, "
            f"{s['failed']:.0f} failed){self.in_batches()} · ${s['cost']:.4f} · {left}"
        )

    def line(self) -> str:
        s = self.snapshot
        if not s:
            return "starting…"
        finished = s["done"] + s["failed"]
        remaining = s["total"] - finished
        rate, left = self.rate_and_left()
        waiting = self.in_batches()
        return (
            f"[green]{s['done']:.0f} done[/] · [red]{s['failed']:.0f} failed[/]{waiting} · "
            f"{remaining:.0f} remaining · {s['tokens']:,.0f} tokens · ${s['cost']:.4f} · "
            f"{rate:.1f} tools/min · {left}"
        )

    def renderable(self) -> Table:
        s = self.snapshot
        total = max(s.get("total", 0), 1)
        finished = s.get("done", 0) + s.get("failed", 0)
        width = 30
        filled = int(width * finished / total)
        bar = f"[green]{'━' * filled}[/][dim]{'━' * (width - filled)}[/]"
        grid = Table.grid(padding=(0, 1))
        grid.add_row(bar, f"{finished:.0f}/{total:.0f}", self.line())
        return grid


def tool_line(tool: FinishedTool) -> str:
    """`done  Tern  Ship · 3 ship / 1 skip  $0.0123` or `failed  Acme  <reason>`: a log names
    the tool (model output and backlog text, so without control characters)."""
    if tool.state == "done":
        cost = [f"${tool.cost_usd:.4f}"] if tool.cost_usd is not None else []
        parts = ["done", tool.name, tool.label or "recorded", *cost]
    else:
        parts = ["failed", tool.name, tool.error or "failed"]
    return "  ".join(" ".join(clean(part).split()) for part in parts)  # one line, always


@contextmanager
def job_progress(
    console: Console, finished: Callable[[], Sequence[FinishedTool]] = tuple
) -> Iterator[Callable[[dict[str, float]], None]]:
    """Yield an updater for the batch progress bar; off a terminal, each tool that finishes on
    its own line (`finished` says which), then the job's counts (a log or CI sees the job move)."""
    progress = JobProgress()
    if not console.is_terminal:

        def plain(snapshot: dict[str, float]) -> None:
            before = progress.snapshot
            progress.update(snapshot)
            count = snapshot["done"] + snapshot["failed"]
            if before and count > before["done"] + before["failed"]:
                for tool in finished():
                    console.print(tool_line(tool), highlight=False, markup=False)
                console.print(progress.plain_line(), highlight=False, markup=False)

        yield plain
        return
    with Live(
        progress.renderable(), console=console, refresh_per_second=4, transient=False
    ) as live:

        def update(snapshot: dict[str, float]) -> None:
            progress.update(snapshot)
            now = time.monotonic()
            if now - progress.last_render > 0.2:
                progress.last_render = now
                live.update(progress.renderable())

        yield update
        live.update(progress.renderable())
