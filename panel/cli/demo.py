"""`panel demo`: the whole flow without a key. A fake API on loopback, two bundled sample pages,
two reviews, a comparison and a site, in a demo home of its own (never the user's runs)."""

from __future__ import annotations

import os
import shlex
from importlib.resources import files
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from panel.cli.app import app, err, out
from panel.cli.render import persona_names, print_run
from panel.config import resolve, user_data_home

SAMPLES = ("tern.md", "kestrel.md")
DEMO_KEY = "demo-key"


def panel_command() -> str:
    """How to run this same panel from the user's shell: `panel` when that is what PATH finds,
    else the full path of the script running now (a venv that is not activated), quoted."""
    import shutil
    import sys

    running = Path(sys.argv[0]).resolve() if sys.argv and sys.argv[0] else None
    found = shutil.which("panel")
    if running is None or not running.is_file() or running.suffix == ".py":
        return "panel" if found else shlex.join([sys.executable, "-m", "panel"])
    if found and Path(found).resolve() == running:
        return "panel"
    return shlex.quote(str(running))


def sample_paths(folder: Path) -> list[Path]:
    """The bundled sample pages, copied where a rerun can find them again."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in SAMPLES:
        path = folder / name
        path.write_bytes((files("panel.demo") / "samples" / name).read_bytes())
        paths.append(path)
    return paths


@app.command("demo")
def demo_cmd(
    home: Annotated[
        Path | None,
        typer.Option(
            "--home", help="Where to write the demo. Default: a demo folder beside your data home."
        ),
    ] = None,
    latency: Annotated[
        float, typer.Option("--latency", help="Seconds the fake API takes per answer.")
    ] = 0.3,
) -> None:
    """Try panel without a key: a fake API reviews two bundled sample tools, compares them and
    writes a site. Nothing leaves this machine; your own runs are not touched."""
    import asyncio

    from panel.api.client import Client, endpoint
    from panel.demo.fake_api import FakeAnthropic
    from panel.judge.personas import load_personas
    from panel.judge.prompts import Prompts
    from panel.judge.review import Request, load_documents, review
    from panel.model.run import Run
    from panel.pages import build_site
    from panel.store.sqlite import Store

    demo_home = (home or user_data_home() / "demo").expanduser()
    settings = resolve(home=demo_home / "runs")
    personas = load_personas(settings.personas_dir)
    prompts = Prompts(settings.prompts_dir)
    with FakeAnthropic(api_key=DEMO_KEY, latency=(latency, latency * 2)) as fake:
        os.environ["ANTHROPIC_BASE_URL"] = fake.url  # this process only: the fake on loopback
        os.environ["ANTHROPIC_API_KEY"] = DEMO_KEY
        store = Store(settings.home)

        async def review_samples() -> list[Run]:
            client = Client(api_key=DEMO_KEY, base_url=fake.url)  # one client, one event loop
            done = []
            for path in sample_paths(demo_home / "samples"):
                request = Request(sources=[str(path)])
                docs = load_documents(request, settings, store)
                err.print(f"reviewing {path.name} against the fake API on {fake.url} ...")
                done.append(
                    await review(
                        request,
                        settings=settings,
                        personas=personas,
                        prompts=prompts,
                        client=client,
                        store=store,
                        endpoint=endpoint(),
                        docs=docs,
                    )
                )
            return done

        runs = asyncio.run(review_samples())
        print_run(out, runs[0], persona_names(personas))
        versions = {name: prompts.version(name) for name in ("system", "persona", "card", "repair")}
        pairs = [(runs[0].tool.slug, runs[1].tool.slug)]
        build_site(store, demo_home / "site", personas, versions, pairs)
    site = demo_home / "site"
    where = escape(str(settings.home))
    home_arg = escape(shlex.quote(str(settings.home)))
    panel = escape(panel_command())
    err.print(
        f"\nrecorded {len(runs)} runs in {where}\n"
        f"site: {escape(str(site / 'index.html'))} (open it in a browser)\n"
        f"next: {panel} compare {runs[0].tool.slug} {runs[1].tool.slug} --home {home_arg}\n"
        f"      {panel} show {runs[0].tool.slug} --format html --home {home_arg} -o review.html\n"
        f"      a real review: export ANTHROPIC_API_KEY=sk-ant-... then {panel} review URL",
        highlight=False,
        soft_wrap=True,
    )
