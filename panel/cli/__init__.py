"""The command line: the typer app, its commands, terminal rendering and progress.

It may import every other layer; nothing imports it. `panel.cli.program` registers every command
and holds the typer app; this module holds only the entry point, light enough to catch a Ctrl-C.
"""

from __future__ import annotations

import sys

# `typing.TYPE_CHECKING` without importing typing: the console script imports this module before
# `main` can catch a Ctrl-C, so it imports nothing it can do without.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["main"]

# Exit status of an interrupted command, as a shell reports SIGINT.
INTERRUPTED_EXIT = 130


def main() -> None:
    """Entry point of the `panel` console script: the CLI, where Ctrl-C at any moment, even while
    the imports behind it run, is one line and exit 130, never a traceback."""
    try:
        run = load()
        run()
    except KeyboardInterrupt:
        sys.stderr.write("panel: interrupted\n")
        sys.exit(INTERRUPTED_EXIT)


def load() -> Callable[[], None]:
    """The CLI (`panel.cli.program.run`), imported (~0.3 s) with a Ctrl-C noted, then raised once
    the imports are done: raised inside them, pydantic would report it as a schema error, and an
    import-lock callback would swallow it."""
    import signal

    noted: list[int] = []
    ours = signal.getsignal(signal.SIGINT) is signal.default_int_handler  # not if ignored
    if ours:
        signal.signal(signal.SIGINT, lambda signum, frame: noted.append(signum))
    try:
        from panel.cli.program import run
    finally:
        if ours:
            signal.signal(signal.SIGINT, signal.default_int_handler)
    if noted:
        raise KeyboardInterrupt
    return run
