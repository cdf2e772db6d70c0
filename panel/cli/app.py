"""The typer app, its shared options and consoles: every command module imports this one."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from typer._click.core import Context
from typer.core import TyperArgument, TyperOption

from panel.config import VERSION

app = typer.Typer(
    help="Ship-or-skip reviews of software tools, written by a four-persona LLM review panel.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
)
out = Console(soft_wrap=False)
# Notes and errors on stderr are never hard-wrapped: a log or a terminal wraps them itself.
err = Console(stderr=True, soft_wrap=True)

HomeOpt = Annotated[
    Path | None,
    typer.Option(
        "--home",
        help="Data home (SQLite + run records). Default: $PANEL_HOME, else the nearest runs/ "
        "above the current directory, else the user data directory (see `panel home`).",
    ),
]
DbOpt = Annotated[
    str | None,
    typer.Option(
        "--db",
        metavar="URL",
        help="The shared store, postgresql://... (runs, votes, the file registry and jobs live "
        "there instead of the data home). Default: $PANEL_DATABASE_URL.",
    ),
]
PersonasOpt = Annotated[
    Path | None,
    typer.Option(
        "--personas", help="Directory of persona files to use instead of the built-in panel."
    ),
]
ModelOpt = Annotated[
    str | None,
    typer.Option(
        "--model",
        "-m",
        help="Model for the persona calls: an id or an alias (`panel models`). "
        "Default: $PANEL_MODEL, else sonnet.",
    ),
]
CardModelOpt = Annotated[
    str | None,
    typer.Option(
        "--card-model",
        help="Model for the tool card: an id or an alias. Default: $PANEL_CARD_MODEL, else haiku.",
    ),
]
AllowPrivateOpt = Annotated[
    bool,
    typer.Option(
        "--allow-private",
        envvar="PANEL_ALLOW_PRIVATE",
        help="Allow URLs on private and loopback addresses (intranet tools). Link-local "
        "addresses and cloud metadata endpoints are always refused, even with this flag.",
    ),
]
JsonOpt = Annotated[
    bool,
    typer.Option("--json", "-j", help="Print one JSON object on stdout instead of the scorecard."),
]


def json_flag(help: str) -> Any:
    """`--json`/`-j` with the help of the command it belongs to."""
    return typer.Option("--json", "-j", help=help)


# typer's type tags in help as the words click uses; anything else is upper-cased.
PLAIN_TYPES = {"str": "TEXT", "int": "INTEGER", "float": "FLOAT", "dir": "DIR", "file": "FILE"}


class PlainOption(TyperOption):
    """An option shown as click shows one: `TEXT`, `PATH`, `[live|batches]`; a flag bare."""

    def display_type_rich(self, ctx: Any) -> str | None:
        if self.metavar is not None:
            return self.metavar
        if self.is_flag or self.count:
            return None
        label = self.display_type(ctx).removeprefix("<").removesuffix(">")
        if self.type_descriptor.is_choice:
            return f"[{label.removeprefix('list[').removesuffix(']')}]"
        many = label.startswith("list[")
        label = label.removeprefix("list[").removesuffix("]") if many else label
        return PLAIN_TYPES.get(label, label.upper()) + ("..." if many or self.multiple else "")


class PlainArgument(TyperArgument):
    """An argument named by its upper-case metavar alone (`SOURCES...`), with no type column."""

    def display_type_rich(self, ctx: Any) -> str | None:
        return None


def plain_help(command: Any) -> Any:
    """Help without typer's type tags (`<bool>`, `<list[str]>`): typer 0.29 has no setting for
    them, so every option and argument of the built command is shown the way click shows it."""
    help_option = command.get_help_option(Context(command))  # built once and cached by typer
    for param in [*command.params, help_option]:
        if type(param) is TyperOption:
            param.__class__ = PlainOption
        elif type(param) is TyperArgument:
            param.__class__ = PlainArgument
            if param.metavar is None and param.name:
                param.metavar = param.name.upper()
    for sub in getattr(command, "commands", {}).values():
        if sub.short_help is None and sub.help:
            # typer lists a command by its docstring's first paragraph with the source's line
            # breaks kept; the index of `panel --help` wants it as one line, wrapped to the terminal
            sub.short_help = " ".join(inspect.cleandoc(sub.help).split("\n\n", 1)[0].split())
        plain_help(sub)
    return command


def version_callback(value: bool) -> None:
    if value:
        out.print(f"panel {VERSION}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=version_callback, is_eager=True, help="Show the version."
        ),
    ] = False,
) -> None:
    """Ship-or-skip reviews of software tools, written by an LLM review panel."""
