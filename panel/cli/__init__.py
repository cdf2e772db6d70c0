"""The command line: the typer app, its commands, terminal rendering and progress.

It may import every other layer; nothing imports it. Importing it registers every command.
"""

from __future__ import annotations

import os
import sys

from rich.markup import escape

from panel.cli import batch, pages, records, redteam, review, votes  # noqa: F401  (they register commands)
from panel.cli.app import app, err
from panel.errors import PanelError

__all__ = ["app", "main"]

# Exit status of an error panel did not anticipate: 2 stays "your input or setup, fix it".
UNEXPECTED_EXIT = 1


def main() -> None:
    """Entry point: every error becomes one line on stderr and a non-zero exit, never a traceback.

    An exception panel did not anticipate is a bug: one line names the command and the exception,
    exit 1; `PANEL_DEBUG=1` lets it through with its traceback.
    """
    try:
        app()
    except PanelError as exc:
        code = exc.exit_code if isinstance(exc, PanelError) else 2
        error(str(exc))
        sys.exit(code)
    except KeyboardInterrupt:
        err.print("panel: interrupted; runs already recorded are kept")
        sys.exit(130)
    except Exception as exc:
        if os.environ.get("PANEL_DEBUG", "") not in ("", "0"):
            raise
        reason = (str(exc).strip().splitlines() or [""])[0]
        command = f"panel {command_name(sys.argv[1:])}".strip()
        error(
            f"`{command}` failed unexpectedly: "
            f"{type(exc).__name__}{': ' if reason else ''}{reason} "
            "(a bug in panel; run it again with PANEL_DEBUG=1 to see the traceback)"
        )
        sys.exit(UNEXPECTED_EXIT)


def error(message: str) -> None:
    err.print(f"panel: error: {escape(message)}", highlight=False, soft_wrap=True)


def command_name(args: list[str]) -> str:
    """The subcommand in argv: the root takes only flags (--version, --help), never values."""
    return next((a for a in args if not a.startswith("-")), "")
