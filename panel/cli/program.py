"""The whole `panel` program: importing it registers every command; `run` turns every error
into one line and an exit status."""

from __future__ import annotations

import atexit
import gc
import os
import sqlite3
import sys
from typing import NoReturn

import typer
from rich.markup import escape
from typer._click import exceptions as click  # typer 0.29 carries its own click

from panel.cli import INTERRUPTED_EXIT, batch, cost, demo, pages, records, redteam, review, votes  # noqa: F401  (they register commands)
from panel.cli import db as _db  # noqa: F401  (panel db upgrade)
from panel.cli import digest as _digest  # noqa: F401  (panel digest)
from panel.cli import eval as _eval  # noqa: F401  (panel eval)
from panel.cli import serve as _serve  # noqa: F401  (panel serve)
from panel.cli import settings as _settings  # noqa: F401  (home, models, keys)
from panel.cli import sync as _sync  # noqa: F401  (panel sync)
from panel.cli.app import app, err, plain_help
from panel.errors import PanelError
from panel.keys import load_environment
from panel.store.damage import DamagedIndex, is_damage
from panel.store.faults import storage_fault

__all__ = ["app", "run"]

# Exit status of an error panel did not anticipate: 2 stays "your input or setup, fix it".
UNEXPECTED_EXIT = 1
# Exit status of a usage error (an unknown option, a missing argument), as click has it.
USAGE_EXIT = 2


def run() -> None:
    """The CLI, where every error becomes one line on stderr and a non-zero exit, never a traceback.

    An exception panel did not anticipate is a bug: one line names the command and the exception,
    exit 1; `PANEL_DEBUG=1` lets it through with its traceback.
    """
    atexit.register(quick_teardown)  # registered first, so it runs after every other handler
    try:
        load_environment()  # a .env here, then the key `panel keys set` stored; the environment wins
        command = plain_help(typer.main.get_command(app))
        code = command.main(prog_name="panel", standalone_mode=False)
        if code == INTERRUPTED_EXIT:  # typer turns a Ctrl-C inside a command into Exit(130)
            raise KeyboardInterrupt
        sys.exit(code if isinstance(code, int) else 0)
    except click.NoArgsIsHelpError:
        sys.exit(USAGE_EXIT)  # typer has printed the help
    except click.UsageError as exc:
        error(usage_message(exc))
        sys.exit(USAGE_EXIT)
    except click.ClickException as exc:  # a bad file argument (click.FileError), and kin
        error(exc.format_message())
        sys.exit(exc.exit_code)
    except typer.Abort:
        err.print("panel: aborted")
        sys.exit(1)
    except PanelError as exc:
        code = exc.exit_code if isinstance(exc, PanelError) else 2
        error(str(exc))
        sys.exit(code)
    except KeyboardInterrupt:
        err.print("panel: interrupted; runs already recorded are kept")
        sys.exit(INTERRUPTED_EXIT)
    except Exception as exc:
        if isinstance(exc, sqlite3.DatabaseError) and is_damage(exc):
            damaged = DamagedIndex("panel.db", str(exc))  # found past the checks made on opening
            error(str(damaged))
            sys.exit(damaged.exit_code)
        fault = storage_fault(exc)  # a full disk, a read-only home: the user's to fix, not a bug
        if fault is not None:
            error(str(fault))
            sys.exit(fault.exit_code)
        unexpected(exc)


def unexpected(exc: Exception) -> NoReturn:
    """An error panel did not anticipate: one line, exit 1 (PANEL_DEBUG=1 shows the traceback)."""
    if os.environ.get("PANEL_DEBUG", "") not in ("", "0"):
        raise exc
    reason = (str(exc).strip().splitlines() or [""])[0]
    command = f"panel {command_name(sys.argv[1:])}".strip()
    error(
        f"`{command}` failed unexpectedly: "
        f"{type(exc).__name__}{': ' if reason else ''}{reason} "
        "(a bug in panel; run it again with PANEL_DEBUG=1 to see the traceback)"
    )
    sys.exit(UNEXPECTED_EXIT)


def quick_teardown() -> None:
    """At exit, once the command has returned (every record written): flush what was printed,
    then freeze the heap so the interpreter's final garbage collection skips it (~0.4 s saved)."""
    sys.stdout.flush()
    sys.stderr.flush()
    gc.freeze()


def error(message: str) -> None:
    err.print(f"panel: error: {escape(message)}", highlight=False, soft_wrap=True)


def usage_message(exc: click.UsageError) -> str:
    """A click usage error as one line, naming the subcommand (the line already starts with
    `panel`) and where its help is."""
    command = exc.ctx.command_path if exc.ctx is not None else "panel"
    named = "" if command == "panel" else f"{command}: "
    return f"{named}{exc.format_message()} (see `{command} --help`)"


def command_name(args: list[str]) -> str:
    """The subcommand in argv: the root takes only flags (--version, --help), never values."""
    return next((a for a in args if not a.startswith("-")), "")
