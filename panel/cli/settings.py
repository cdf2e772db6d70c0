"""`panel home`, `panel models` and `panel keys`: where panel keeps things and what it will use.

None of them calls the API or creates a data home; `panel keys set` writes only the key file.
"""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from panel import keys
from panel.cli.app import HomeOpt, app, err, json_flag, out
from panel.config import DEFAULT_CARD_MODEL, DEFAULT_MODEL, home_reason, model_aliases, resolve
from panel.errors import InputError
from panel.judge.pricing import price_table
from panel.keys import KEY_ENV, keys_path, store_key
from panel.store.sqlite import DB_NAME


@app.command("home")
def home_cmd(
    home: HomeOpt = None,
    json_out: Annotated[
        bool, json_flag('Print {"home", "source", "reason", "has_runs"} as JSON.')
    ] = False,
) -> None:
    """Show the data home in use and why: --home, PANEL_HOME, a runs/ found above, or the user
    data directory. Creates nothing."""
    settings = resolve(home=home)
    has_runs = (settings.home / DB_NAME).is_file()
    reason = home_reason(settings)
    if json_out:
        data = {
            "home": str(settings.home),
            "source": settings.home_source,
            "reason": reason,
            "has_runs": has_runs,
        }
        print(json.dumps(data, indent=2))
        return
    out.print(escape(str(settings.home)), highlight=False, soft_wrap=True)
    state = "" if has_runs else "; no runs there yet"
    err.print(f"panel: {escape(reason)}{state}", highlight=False)


@app.command("models")
def models_cmd(
    json_out: Annotated[
        bool, json_flag("Print the aliases and priced models as a JSON array.")
    ] = False,
) -> None:
    """The model aliases (`-m sonnet`) and the models with prices, in USD per million tokens."""
    aliases = model_aliases()
    prices = price_table()
    by_id: dict[str, list[str]] = {}
    for alias, model_id in aliases.items():
        by_id.setdefault(model_id, []).append(alias)
    rows: list[dict[str, Any]] = []
    for model_id in dict.fromkeys([*by_id, *prices]):
        price = prices.get(model_id, {})
        rows.append(
            {
                "model": model_id,
                "aliases": by_id.get(model_id, []),
                "default_for": [
                    role
                    for role, default in (("personas", DEFAULT_MODEL), ("card", DEFAULT_CARD_MODEL))
                    if default == model_id
                ],
                "input": price.get("input"),
                "output": price.get("output"),
                "cache_read": price.get("cache_read"),
            }
        )
    if json_out:
        print(json.dumps(rows, indent=2))
        return
    table = Table(title="models (USD per million tokens)", title_justify="left")
    for column in ("model", "aliases", "default for", "input", "output", "cache read"):
        table.add_column(column, justify="right" if column in ("input", "output") else "left")
    for r in rows:
        table.add_row(
            r["model"],
            ", ".join(r["aliases"]),
            ", ".join(r["default_for"]),
            *("?" if r[k] is None else f"${r[k]:g}" for k in ("input", "output", "cache_read")),
        )
    out.print(table)


keys_app = typer.Typer(
    help="The API key: kept in the user config directory (mode 0600); the environment and a "
    ".env file win over it.",
    no_args_is_help=True,
)
app.add_typer(keys_app, name="keys")


@keys_app.command("set")
def keys_set_cmd() -> None:
    """Store the Anthropic API key: typed at a hidden prompt, or piped on stdin. Never printed."""
    if sys.stdin.isatty():
        key = typer.prompt("Anthropic API key", hide_input=True, err=True)
    else:
        key = sys.stdin.readline()
    if not key.strip():
        raise InputError("no key given (paste it at the prompt, or pipe it on stdin)")
    path = store_key(key)
    err.print(f"panel: key stored in {escape(str(path))} (readable by you only)", highlight=False)
    if keys.key_source is not None and keys.key_source != str(path):
        err.print(
            f"panel: note: the key from {escape(source_name(keys.key_source))} wins over the "
            "stored one",
            highlight=False,
        )


@keys_app.command("path")
def keys_path_cmd() -> None:
    """Print where `panel keys set` stores the key (the file may not exist yet), and on stderr
    where the key in use comes from."""
    out.print(escape(str(keys_path())), highlight=False, soft_wrap=True)
    using = "none found" if keys.key_source is None else f"from {source_name(keys.key_source)}"
    err.print(f"panel: key in use: {escape(using)}", highlight=False)


def source_name(source: str) -> str:
    return f"the environment ({KEY_ENV})" if source == "environment" else source
