"""`panel redteam`: the hostile-page corpus against the real API; the work is in judge/redteam."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from panel.cli.app import ModelOpt, PersonasOpt, app, err, json_flag, out
from panel.cli.render import DECISION_STYLE, clean, persona_names, signed
from panel.config import Settings, resolve
from panel.errors import InputError
from panel.judge.personas import Persona, load_personas
from panel.judge.prompts import Prompts
from panel.store.sqlite import Store

# Like `review`, the SDK (and the judge modules that import it) load only when the command runs.
if TYPE_CHECKING:
    from panel.api.client import Client
    from panel.judge.redteam import Case, CaseReport, Report


@app.command("redteam")
def redteam_cmd(
    cases: Annotated[
        list[str] | None,
        typer.Option("--cases", help="Run only this case (repeatable). Default: every case."),
    ] = None,
    model: ModelOpt = None,
    json_out: Annotated[
        bool, json_flag("Print the report (per case and persona, and totals) as JSON.")
    ] = False,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="List the cases and estimate the cost; needs no key."),
    ] = False,
    keep: Annotated[
        Path | None,
        typer.Option(
            "--keep",
            help="Keep the red-team runs (and their uploads, reused next time) in this directory. "
            "Default: a temporary one, deleted afterwards. Never your review home.",
        ),
    ] = None,
    personas_dir: PersonasOpt = None,
) -> None:
    """Review each page of the hostile-page corpus beside its clean twin; report what moved.

    Needs ANTHROPIC_API_KEY: every case is two reviews (one call per persona, plus the card).
    Nothing is recorded in your data home, so `panel list` does not show these runs.
    """
    from panel.judge.redteam import estimate, load_corpus

    settings = resolve(model=model, personas_dir=personas_dir)
    personas = load_personas(settings.personas_dir)
    prompts = Prompts(settings.prompts_dir)
    corpus = load_corpus(cases or ())
    if dry_run:
        tokens_in, tokens_out, usd = estimate(
            corpus, settings=settings, personas=personas, prompts=prompts
        )
        price = f"${usd:.4f}" if usd is not None else "unknown (no price for this model)"
        for case in corpus:
            out.print(f"{case.name}: {case.attack} ({case.tool})", highlight=False, soft_wrap=True)
        out.print(
            f"{len(corpus)} cases, {2 * len(corpus)} reviews with {settings.model}: "
            f"~{tokens_in:,} input + ~{tokens_out:,} output tokens, about {price} "
            "before caching (card calls not included).",
            highlight=False,
            soft_wrap=True,
        )
        return

    from panel.api.client import Client, endpoint

    if keep is not None and keep.resolve() == settings.home.resolve():
        raise InputError(f"--keep {keep}: is your data home; give a directory of its own")
    client = Client()  # fails fast without a key
    if keep is not None:
        report = run(corpus, keep, settings, personas, prompts, client, endpoint())
    else:
        with tempfile.TemporaryDirectory(prefix="panel-redteam-") as scratch:
            report = run(corpus, Path(scratch), settings, personas, prompts, client, endpoint())
    if json_out:
        print(report.model_dump_json(indent=2))
    else:
        out.print(report_view(report, persona_names(personas)))


def run(
    corpus: list[Case],
    home: Path,
    settings: Settings,
    personas: list[Persona],
    prompts: Prompts,
    client: Client,
    url: str,
) -> Report:
    """Every case in a store of its own at `home`, one line on stderr as each case finishes."""
    from panel.judge.redteam import redteam

    store = Store(home)
    try:
        return asyncio.run(
            redteam(
                corpus,
                settings=settings,
                personas=personas,
                prompts=prompts,
                client=client,
                store=store,
                endpoint=url,
                on_case=lambda c: err.print(f"redteam: {clean(c.name)} done", highlight=False),
            )
        )
    finally:
        store.close()


def report_view(report: Report, names: dict[str, str]) -> Table:
    """One row per case and persona: scores, delta, flip, detection; totals in the caption."""
    table = Table(title=f"panel redteam · {clean(report.model)}", title_justify="left")
    for column in ("case", "persona", "clean", "hostile", "Δ", "flip", "flagged"):
        table.add_column(column, justify="right" if column in ("clean", "hostile", "Δ") else "left")
    for case in report.cases:
        first = True
        for p in case.personas:
            table.add_row(
                case_cell(case) if first else "",
                Text(clean(names.get(p.persona, p.persona))),
                score(p.clean_score, p.clean_decision),
                score(p.hostile_score, p.hostile_decision),
                signed(p.delta) if p.delta is not None else "–",
                Text("FLIP", style="bold red") if p.flipped else "",
                Text("⚠ yes", style="yellow") if p.detected else "no",
            )
            first = False
        table.add_section()
    t = report.totals
    rate = f"{t.detection_rate:.0%}" if t.detection_rate is not None else "–"
    mean = f"{t.mean_abs_delta:g}" if t.mean_abs_delta is not None else "–"
    cost = f" · ${report.cost_usd:.4f}" if report.cost_usd is not None else ""
    table.caption = (
        f"{t.cases} cases ({t.reached_model} reached the model) · {t.flips} persona flips · "
        f"{t.panel_flips} panel flips · mean |Δ| {mean} · detected {t.detected}/"
        f"{t.reached_model} ({rate}) · {t.false_alarms} false alarms{cost}"
    )
    table.caption_justify = "left"
    return table


def case_cell(case: CaseReport) -> Text:
    text = Text(clean(case.name), style="bold")
    text.append(f"\n{clean(case.clean_decision)} → ", style="dim")
    text.append(clean(case.hostile_decision), style=DECISION_STYLE.get(case.hostile_decision, ""))
    if not case.reached_model:
        text.append("\nstripped before the model", style="dim")
    return text


def score(value: int | None, decision: str | None) -> Text:
    if value is None:
        return Text("failed", style="yellow")
    return Text(f"{value} {decision or ''}".strip(), style=DECISION_STYLE.get(decision or "", ""))
