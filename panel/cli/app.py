"""The typer app, its shared options and consoles: every command module imports this one."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from panel.config import VERSION

app = typer.Typer(
    help="Ship-or-skip reviews of software tools, written by a four-persona LLM review panel.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(soft_wrap=False)
err = Console(stderr=True)

HomeOpt = Annotated[
    Path | None,
    typer.Option(
        "--home", help="Data home (SQLite + run records). Default: $PANEL_HOME, else ./runs."
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
        help="Model for the persona calls. Default: $PANEL_MODEL, else claude-sonnet-5-5.",
    ),
]
AllowPrivateOpt = Annotated[
    bool,
    typer.Option(
        "--allow-private",
        envvar="PANEL_ALLOW_PRIVATE",
        help="Allow URLs on private, loopback and link-local addresses (intranet tools).",
    ),
]
JsonOpt = Annotated[
    bool, typer.Option("--json", help="Print one JSON object on stdout instead of the scorecard.")
]


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
