"""panel: ship-or-skip reviews of software tools, written by an LLM review panel.

The library's public face. Everything else under `panel.` is internal and may move::

    import panel

    run = panel.review("https://example.com/product", description="Seen on a launch page.")
    print(run.panel.label)                      # Ship · 3 ship / 1 skip
    for v in run.verdicts:
        print(v.persona, v.score, v.decision)

Calls that reach the API import the SDK when they run, and the record models (pydantic) load on
first use, so `import panel` stays cheap.
"""

from __future__ import annotations

from panel.errors import APIError, ConfigError, InputError, PanelError

# `typing.TYPE_CHECKING` without importing typing: the `panel` console script imports this package
# before it can catch a Ctrl-C, so what it imports here is kept to what it cannot do without.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from panel.api.client import Client
    from panel.config import VERSION as __version__
    from panel.config import Settings
    from panel.judge.review import Request
    from panel.model import (
        DocumentRef,
        PanelDecision,
        Run,
        ToolCard,
        ToolInfo,
        Usage,
        Verdict,
        VerdictRecord,
    )
    from panel.sources.documents import Document
    from panel.store.sqlite import Store

__all__ = [
    "APIError",
    "ConfigError",
    "DocumentRef",
    "InputError",
    "PanelDecision",
    "PanelError",
    "Run",
    "ToolCard",
    "ToolInfo",
    "Usage",
    "Verdict",
    "VerdictRecord",
    "__version__",
    "load_run",
    "rerun",
    "review",
]


def review(
    *sources: str,
    description: str | None = None,
    name: str | None = None,
    model: str | None = None,
    home: str | Path | None = None,
    personas_dir: str | Path | None = None,
    allow_private: bool = False,
    samples: int = 1,
    db: str | None = None,
) -> Run:
    """Review a tool from files, URLs and/or a pasted description; the run is recorded and returned.

    Needs `ANTHROPIC_API_KEY` in the environment. Settings follow the CLI: arguments over `PANEL_*`
    environment variables over defaults. Bad input raises `InputError`; a persona that fails is a
    verdict with `status="failed"`, never an exception. `samples` K > 1 asks each persona K times
    and keeps the median score, the majority decision and the spread (`VerdictRecord.spread`).
    `db` names a team's shared store (`postgresql://...`; default `PANEL_DATABASE_URL`).
    """
    from dataclasses import replace

    from panel.api.client import Client
    from panel.config import check_samples, resolve
    from panel.judge.review import Request
    from panel.store.open import open_store

    check_samples(samples, "samples=")
    settings = resolve(
        home=_path(home), model=model, personas_dir=_path(personas_dir), allow_private=allow_private
    )
    settings = replace(settings, samples=samples)
    client = Client()
    store = open_store(settings.home, url=db)
    try:
        request = Request(sources=list(sources), description=description, name=name)
        return _reviewed(client, store, request, settings)
    finally:
        store.close()


def rerun(
    tool: str,
    *sources: str,
    drop: Sequence[str] = (),
    description: str | None = None,
    model: str | None = None,
    home: str | Path | None = None,
    allow_private: bool = False,
    samples: int = 1,
    db: str | None = None,
) -> Run:
    """Review TOOL again with its previous sources, plus `sources`, minus `drop`.

    Unchanged documents reuse their uploads. Compare with the previous run through `run.parent_run_id`.
    `samples` and `db` as in `review`.
    """
    from dataclasses import replace

    from panel.api.client import Client
    from panel.config import check_samples, resolve
    from panel.judge.rerun import Changes, previous_run, rerun_documents, rerun_request
    from panel.store.open import open_store

    check_samples(samples, "samples=")
    settings = resolve(home=_path(home), allow_private=allow_private)
    client = Client()
    store = open_store(settings.home, url=db)
    try:
        previous = previous_run(store, tool)
        settings = replace(settings, model=model or previous.model, samples=samples)
        changes = Changes(sources=list(sources), drop=list(drop), description=description)
        docs = rerun_documents(previous, changes, settings, store)
        return _reviewed(client, store, rerun_request(previous), settings, docs)
    finally:
        store.close()


def load_run(ref: str, *, home: str | Path | None = None, db: str | None = None) -> Run:
    """A recorded run by its id, or a tool's name or slug for its latest run; no API call.
    `db` as in `review`."""
    from panel.config import resolve
    from panel.store.open import existing_store

    store = existing_store(resolve(home=_path(home)).home, url=db)
    try:
        return store.run_for(ref)
    finally:
        store.close()


def _reviewed(
    client: Client,
    store: Store,
    request: Request,
    settings: Settings,
    docs: Sequence[Document] | None = None,
) -> Run:
    """One review through the judge; the client's connections are closed however it ends (a
    library call leaves no socket behind)."""
    import asyncio

    from panel.api.client import endpoint
    from panel.judge.personas import load_personas
    from panel.judge.prompts import Prompts
    from panel.judge.review import review as review_run

    async def run() -> Run:
        try:
            return await review_run(
                request,
                settings=settings,
                personas=load_personas(settings.personas_dir),
                prompts=Prompts(settings.prompts_dir),
                client=client,
                store=store,
                endpoint=endpoint(),
                docs=docs,
            )
        finally:
            await client.close()

    return asyncio.run(run())


def _path(value: str | Path | None) -> Path | None:
    from pathlib import Path

    return Path(value) if value is not None else None


# The record models, imported on first use (PEP 562): pydantic is most of what `import panel` took.
_MODELS = frozenset(
    {
        "DocumentRef",
        "PanelDecision",
        "Run",
        "ToolCard",
        "ToolInfo",
        "Usage",
        "Verdict",
        "VerdictRecord",
    }
)


def __getattr__(name: str) -> object:
    if name == "__version__":
        from panel.config import VERSION as value
    elif name in _MODELS:
        import panel.model

        value = getattr(panel.model, name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # found directly from now on
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
