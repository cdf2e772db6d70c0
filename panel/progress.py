"""Live per-persona state on stderr while the panel runs; silent when stderr is not a terminal."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from rich.console import Console, ConsoleOptions, RenderResult
from rich.live import Live
from rich.markup import escape
from rich.table import Table

from panel.panel import OnEvent, State
from panel.personas import Persona

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
