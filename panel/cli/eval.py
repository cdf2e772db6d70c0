"""`panel eval`: how far to trust the panel, measured on a suite; the work is in panel/eval."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from panel.cli.app import ModelOpt, PersonasOpt, app, err, json_flag
from panel.cli.render import clean
from panel.config import Settings, resolve
from panel.errors import InputError
from panel.judge.personas import Persona, load_personas
from panel.judge.prompts import Prompts
from panel.store.sqlite import Store

# Like `review`, the SDK (and the modules that import it) load only when the command runs.
if TYPE_CHECKING:
    from panel.eval.report import EvalReport
    from panel.eval.suite import Suite


@app.command("eval")
def eval_cmd(
    suite: Annotated[Path, typer.Argument(help="The suite: a YAML list of tools, with labels.")],
    model: ModelOpt = None,
    samples: Annotated[
        int,
        typer.Option(
            "--samples", "-k", min=1, help="Independent reviews of each tool (consistency)."
        ),
    ] = 5,
    json_out: Annotated[bool, json_flag("Print the report as JSON instead of Markdown.")] = False,
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Write report.md, report.html and report.json here, and keep the eval's runs "
            "in DIR/home. Default: print the report; the runs go to a temporary home.",
        ),
    ] = None,
    max_cost: Annotated[
        float | None,
        typer.Option("--max-cost", min=0, help="Refuse to start when the estimate exceeds USD."),
    ] = None,
    offline: Annotated[
        bool,
        typer.Option(
            "--offline", help="Review from the suite's descriptions (and files): no URL fetch."
        ),
    ] = False,
    personas_dir: PersonasOpt = None,
) -> None:
    """Review every tool of SUITE several times and measure the panel: consistency, independence,
    robustness and agreement with the suite's labels.

    Needs ANTHROPIC_API_KEY. The runs never go to your data home, so `panel list` does not show them.
    """
    from panel.eval.suite import load_suite

    settings = resolve(model=model, personas_dir=personas_dir)
    personas = load_personas(settings.personas_dir)
    prompts = Prompts(settings.prompts_dir)
    loaded = load_suite(suite)
    if out_dir is not None:
        if out_dir.resolve() == settings.home.resolve():
            raise InputError(f"--out {out_dir}: is your data home; give a directory of its own")
        report = run(
            loaded, out_dir / "home", settings, personas, prompts, samples, offline, max_cost
        )
        write(report, out_dir)
    else:
        with tempfile.TemporaryDirectory(prefix="panel-eval-") as scratch:
            home = Path(scratch)
            report = run(loaded, home, settings, personas, prompts, samples, offline, max_cost)
    if json_out:
        print(report.model_dump_json(indent=2))
    else:
        from panel.eval.render import report_markdown

        print(report_markdown(report), end="")


def run(
    suite: Suite,
    home: Path,
    settings: Settings,
    personas: list[Persona],
    prompts: Prompts,
    samples: int,
    offline: bool,
    max_cost: float | None,
) -> EvalReport:
    """Price the eval, refuse it over --max-cost, then run every review in a store at `home`."""
    from panel.eval.runner import build_report, local_embedder, prepare, run_all

    store = Store(home)
    try:
        prepared = prepare(
            suite,
            settings=settings,
            personas=personas,
            prompts=prompts,
            samples=samples,
            offline=offline,
            store=store,
        )
        estimate = prepared.estimated_usd
        price = f"${estimate:.4f}" if estimate is not None else "an unknown amount"
        if max_cost is not None and (estimate is None or estimate > max_cost):
            raise InputError(
                f"--max-cost ${max_cost:g}: the eval is estimated at {price} "
                f"({prepared.reviews} reviews with {settings.model}); raise it or lower --samples"
            )
        err.print(
            f"eval: {len(prepared.docs)} tools, {prepared.reviews} reviews with "
            f"{settings.model}, estimated {price}",
            highlight=False,
        )
        from panel.api.client import Client, endpoint

        client = Client()  # fails fast without a key

        def done(tool: str, what: str) -> None:
            if what == "hostile":  # a tool's last review
                err.print(f"eval: {clean(tool)} done", highlight=False)

        runs = asyncio.run(
            run_all(
                prepared,
                settings=settings,
                personas=personas,
                prompts=prompts,
                client=client,
                store=store,
                endpoint=endpoint(),
                on_review=done,
            )
        )
    finally:
        store.close()
    embed, embeddings = local_embedder()
    return build_report(
        prepared,
        runs,
        settings=settings,
        personas=personas,
        offline=offline,
        embed=embed,
        embeddings=embeddings,
    )


def write(report: EvalReport, out_dir: Path) -> None:
    from panel.eval.render import report_html, report_markdown

    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "report.md").write_text(report_markdown(report), encoding="utf-8")
    (out_dir / "report.html").write_text(report_html(report), encoding="utf-8")
    (out_dir / "report.json").write_text(report.model_dump_json(indent=2) + "\n", encoding="utf-8")
    err.print(f"eval: wrote report.md, report.html, report.json in {out_dir}", highlight=False)
