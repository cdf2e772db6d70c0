"""Issue 20: Ctrl-C during a review keeps the verdicts already paid for, as a recorded run."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import respx

from panel.api.client import Client
from panel.api.replies import Reply
from panel.config import resolve
from panel.judge.personas import load_personas
from panel.judge.prompts import Prompts
from panel.judge.review import Request, review
from panel.store.sqlite import Store
from tests import api


class StuckFuturist(Client):
    """The Futurist's call never ends (a reply still streaming); every other call answers."""

    async def structured(self, schema: type[Any], **kw: Any) -> Reply[Any]:
        if "futurist" in kw["messages"][0]["content"][-1]["text"].lower():
            await asyncio.Event().wait()
        return await super().structured(schema, **kw)


def test_ctrl_c_records_the_finished_verdicts_and_the_rest_as_interrupted(
    httpx2_mock: respx.Router, tmp_path: Path
) -> None:
    """Three verdicts in, the fourth still running: the run is recorded with three ok verdicts
    and one failed one whose reason is "interrupted", and the interrupt still propagates."""
    httpx2_mock.post(f"{api.BASE}/v1/files").mock(side_effect=api.file_created)

    def reply(request: api.Sent) -> api.Response:
        return api.card() if api.is_card_call(api.sent(request)) else api.message()

    httpx2_mock.post(f"{api.BASE}/v1/messages").mock(side_effect=reply)
    (tmp_path / "a.md").write_text("# Acme\n\nA tool.")
    settings = resolve(home=tmp_path / "home")
    store = Store(settings.home)
    personas = load_personas()
    done: list[str] = []

    async def scenario() -> None:
        task = asyncio.current_task()
        assert task is not None

        def on_event(persona: str, state: str, detail: str) -> None:
            if state == "done":
                done.append(persona)
                if len(done) == len(personas) - 1:  # what Ctrl-C does under asyncio.run
                    asyncio.get_running_loop().call_soon(task.cancel)

        await review(
            Request(sources=[str(tmp_path / "a.md")]),
            settings=settings,
            personas=personas,
            prompts=Prompts(),
            client=StuckFuturist(api_key="sk-ant-unit"),
            store=store,
            endpoint=api.BASE,
            on_event=on_event,  # type: ignore[arg-type]
        )

    with pytest.raises(asyncio.CancelledError):
        asyncio.run(scenario())
    [run_id] = store.all_run_ids()
    verdicts = {v.persona: v for v in store.load_run(run_id).verdicts}
    assert sorted(p for p, v in verdicts.items() if v.status == "ok") == sorted(done)
    assert (verdicts["futurist"].status, verdicts["futurist"].error) == ("failed", "interrupted")
    assert len(done) == 3


def test_ctrl_c_before_any_verdict_records_nothing(
    httpx2_mock: respx.Router, tmp_path: Path
) -> None:
    """Nothing paid for yet: no run is made up from no verdicts."""
    httpx2_mock.post(f"{api.BASE}/v1/files").mock(side_effect=api.file_created)
    (tmp_path / "a.md").write_text("# Acme\n\nA tool.")
    settings = resolve(home=tmp_path / "home")
    store = Store(settings.home)

    async def scenario() -> None:
        called = asyncio.Event()

        class Stuck(Client):
            async def structured(self, schema: type[Any], **kw: Any) -> Reply[Any]:
                called.set()
                await asyncio.Event().wait()
                raise AssertionError("unreachable")

        task = asyncio.create_task(
            review(
                Request(sources=[str(tmp_path / "a.md")]),
                settings=settings,
                personas=load_personas(),
                prompts=Prompts(),
                client=Stuck(api_key="sk-ant-unit"),
                store=store,
                endpoint=api.BASE,
            )
        )
        await called.wait()  # the upload is done and the calls are out
        task.cancel()
        await task

    with pytest.raises(asyncio.CancelledError):
        asyncio.run(scenario())
    assert store.all_run_ids() == []
