"""The one seam to the API, tested at the HTTP level with respx's router over httpx2."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import anthropic
import httpx
import pytest
import respx

from panel.api.client import MISSING_KEY, Client, FileGone, output_config
from panel.api.registry import Registry
from panel.config import resolve
from panel.errors import APIError, ConfigError
from panel.judge.personas import load_personas
from panel.judge.prompts import Prompts
from panel.judge.review import Request, review
from panel.model.verdict import Verdict
from panel.store.sqlite import Store
from tests import api

MESSAGES = f"{api.BASE}/v1/messages"
FILES = f"{api.BASE}/v1/files"


def client() -> Client:
    return Client(api_key="sk-ant-unit", max_retries=2)


def ask(c: Client) -> object:
    return asyncio.run(
        c.structured(
            Verdict,
            model="claude-sonnet-5-5",
            system=[{"type": "text", "text": "s"}],
            messages=[{"role": "user", "content": "hi"}],
            max_tokens=100,
        )
    )


def test_structured_output_goes_on_the_wire_as_output_config(httpx2_mock: respx.Router) -> None:
    """The request carries output_config.format (as messages.parse sends it), the key as a Bearer token."""
    route = httpx2_mock.post(MESSAGES).mock(return_value=api.message())
    reply = ask(client())
    body = api.sent(route.calls.last.request)
    assert body["output_config"] == output_config(Verdict)
    assert body["output_config"]["format"]["type"] == "json_schema"
    assert "tool_choice" not in body and "temperature" not in body
    assert route.calls.last.request.headers["authorization"] == "Bearer sk-ant-unit"
    assert reply.parsed == Verdict(score=82, decision="ship", rationale="Clean primitive.")  # type: ignore[attr-defined]


def test_overloaded_is_retried_by_the_sdk_then_succeeds(httpx2_mock: respx.Router) -> None:
    route = httpx2_mock.post(MESSAGES).mock(
        side_effect=[api.error(529, "error_overloaded.json"), api.message()]
    )
    reply = ask(client())
    assert route.call_count == 2 and reply.parsed is not None  # type: ignore[attr-defined]


def test_retries_honour_retry_after(
    httpx2_mock: respx.Router, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 429's retry-after-ms is the wait the SDK uses (one retry layer, ours adds none)."""
    waits: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(anthropic._base_client.anyio, "sleep", fake_sleep)  # type: ignore[attr-defined]
    httpx2_mock.post(MESSAGES).mock(
        side_effect=[
            api.error(429, "error_overloaded.json", **{"retry-after-ms": "1500"}),
            api.message(),
        ]
    )
    ask(client())
    assert waits == [1.5]


def test_invalid_reply_is_data_with_the_raw_text(httpx2_mock: respx.Router) -> None:
    httpx2_mock.post(MESSAGES).mock(
        return_value=api.message('{"score": 101, "decision": "ship", "rationale": "x"}')
    )
    reply = ask(client())
    assert reply.parsed is None  # type: ignore[attr-defined]
    assert "score" in reply.error and '"score": 101' in reply.raw  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("stop_reason", "reason"), [("refusal", "refused"), ("max_tokens", "cut off")]
)
def test_refusal_and_truncation_are_failures_not_verdicts(
    httpx2_mock: respx.Router, stop_reason: str, reason: str
) -> None:
    httpx2_mock.post(MESSAGES).mock(return_value=api.message(stop_reason=stop_reason))
    reply = ask(client())
    assert reply.parsed is None and reason in reply.error  # type: ignore[attr-defined]


def test_lost_file_is_file_gone(httpx2_mock: respx.Router) -> None:
    httpx2_mock.post(MESSAGES).mock(return_value=api.error(404, "error_not_found.json"))
    with pytest.raises(FileGone):
        ask(client())


def test_persistent_server_error_is_one_line_with_request_id(httpx2_mock: respx.Router) -> None:
    httpx2_mock.post(MESSAGES).mock(return_value=api.error(529, "error_overloaded.json"))
    with pytest.raises(APIError, match=r"HTTP 529: Overloaded \(request req_"):
        ask(client())


def test_missing_key_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as info:
        Client()
    assert str(info.value) == MISSING_KEY


def test_review_in_process_uploads_once_and_references_every_file(
    httpx2_mock: respx.Router, tmp_path: Path
) -> None:
    """The whole flow over mocked HTTP: two runs, two documents, two uploads in all."""
    uploads = httpx2_mock.post(FILES).mock(side_effect=api.file_created)

    def reply(request: httpx.Request) -> httpx.Response:
        return api.card() if api.is_card_call(api.sent(request)) else api.message()

    messages = httpx2_mock.post(MESSAGES).mock(side_effect=reply)
    (tmp_path / "a.md").write_text("# Acme\n\nA tool.")
    (tmp_path / "b.txt").write_text("Pricing: free.")
    settings = resolve(home=tmp_path / "home")
    store = Store(settings.home)
    c = client()
    for _ in range(2):
        run = asyncio.run(
            review(
                Request(sources=[str(tmp_path / "a.md"), str(tmp_path / "b.txt")]),
                settings=settings,
                personas=load_personas(),
                prompts=Prompts(),
                client=c,
                store=store,
                endpoint=api.BASE,
            )
        )
    assert uploads.call_count == 2
    assert run.panel.label == "Ship · 4 ship / 0 skip"
    ids = {d.file_id for d in run.documents}
    persona_calls = [
        api.sent(call.request)
        for call in messages.calls
        if not api.is_card_call(api.sent(call.request))
    ]
    assert len(persona_calls) == 8
    assert all(set(api.file_ids_in(body)) == ids for body in persona_calls)
    assert run.tool.card is not None and run.tool.card.pricing_model == "freemium"


def test_registry_recovers_a_lost_file_once_for_all_callers(
    httpx2_mock: respx.Router, tmp_path: Path
) -> None:
    """Four personas seeing the same 404 cause one re-upload, not four."""
    from panel.sources.documents import load_description

    httpx2_mock.post(FILES).mock(side_effect=api.file_created)
    retrieve = httpx2_mock.get(url__regex=rf"{FILES}/file_\w+").mock(
        side_effect=[api.error(404, "error_not_found.json")]
        + [httpx.Response(200, json=api.fixture("file.json"))] * 3
    )
    store = Store(tmp_path / "home")
    registry = Registry(store, client(), api.BASE)
    doc = load_description("# Acme\nA tool.")

    async def scenario() -> list[list[str]]:
        first, _ = await registry.ensure(doc)
        assert first
        return list(await asyncio.gather(*(registry.recover([doc]) for _ in range(4))))

    again = asyncio.run(scenario())
    assert registry.uploads == 2
    assert sum(len(a) for a in again) == 1
    assert retrieve.call_count == 4


def test_wire_schema_bounds_are_client_side() -> None:
    """The server is not told the 0-100 bound as a constraint; pydantic enforces it on our side."""
    schema = json.dumps(output_config(Verdict))
    assert '"maximum"' not in schema


def sse(*events: tuple[str, dict[str, object]]) -> bytes:
    return b"".join(
        f"event: {kind}\ndata: {json.dumps({'type': kind, **data})}\n\n".encode()
        for kind, data in events
    )


def test_streamed_call_reports_its_start_and_validates_like_any_reply(
    httpx2_mock: respx.Router,
) -> None:
    """With on_start, the reply is streamed; on_start fires once, at message_start."""
    message = api.fixture("message.json")
    text = message["content"][0]["text"]
    start = {**message, "content": [], "stop_reason": None}
    body = sse(
        ("message_start", {"message": start}),
        ("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}}),
        ("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": text}}),
        ("content_block_stop", {"index": 0}),
        ("message_delta", {"delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 96}}),
        ("message_stop", {}),
    )
    route = httpx2_mock.post(MESSAGES).mock(
        return_value=httpx.Response(
            200, content=body, headers={"content-type": "text/event-stream"}
        )
    )
    calls: list[str] = []
    reply = asyncio.run(
        client().structured(
            Verdict,
            model="claude-sonnet-5-5",
            system=[{"type": "text", "text": "s"}],
            messages=[{"role": "user", "content": "hi"}],
            max_tokens=100,
            on_start=lambda: calls.append("start"),
        )
    )
    assert calls == ["start"]
    assert api.sent(route.calls.last.request)["stream"] is True
    assert reply.parsed is not None and reply.parsed.score == 82
    assert reply.usage.cache_creation_input_tokens == 2048 and reply.usage.output_tokens == 96
