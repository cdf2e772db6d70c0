"""The command line: the typer app, its commands, terminal rendering and progress.

It may import every other layer; nothing imports it. Importing it registers every command.
"""

from __future__ import annotations

import sys

from rich.markup import escape

from panel.cli import batch, pages, records, review, votes  # noqa: F401  (they register commands)
from panel.cli.app import app, err
from panel.errors import PanelError

__all__ = ["app", "main"]


def main() -> None:
    """Entry point: user errors become one line on stderr and a non-zero exit, never a traceback."""
    try:
        app()
    except PanelError as exc:
        err.print(f"panel: error: {escape(str(exc))}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err.print("panel: interrupted; runs already recorded are kept")
        sys.exit(130)
