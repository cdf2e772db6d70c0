"""The one seam to the API, tested at the HTTP level with respx's router over httpx2."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx2
import pytest
import respx

from panel.api.client import MISSING_KEY, Client, FileGone, output_config
from panel.api.registry import Registry
from panel.config import resolve
from panel.errors import APIError, ConfigError, RateLimited, Retryable
from panel.judge.personas import load_personas
from panel.judge.prompts import Prompts
from panel.judge.review import Request, review
from panel.model.verdict import Verdict
from panel.store.sqlite import Store
from tests import api

MESSAGES = f"{api.BASE}/v1/messages"
FILES = f"{api.BASE}/v1/files"


def client() -> Client:
    return Client(api_key="sk-ant-unit")


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


def test_overloaded_is_one_attempt_and_retryable(httpx2_mock: respx.Router) -> None:
    """The SDK's retries are off: a 529 is one request, raised as Retryable for panel's one layer."""
    route = httpx2_mock.post(MESSAGES).mock(
        side_effect=[api.error(529, "error_overloaded.json"), api.message()]
    )
    with pytest.raises(Retryable, match="HTTP 529"):
        ask(client())
    assert route.call_count == 1


def test_a_429_carries_the_servers_wait(httpx2_mock: respx.Router) -> None:
    """retry-after-ms wins over retry-after; a long wait is kept (the policy caps it)."""
    httpx2_mock.post(MESSAGES).mock(
        side_effect=[
            api.error(429, "error_overloaded.json", **{"retry-after-ms": "1500"}),
            api.error(429, "error_overloaded.json", **{"retry-after": "3600"}),
        ]
    )
    for wait in (1.5, 3600.0):
        with pytest.raises(RateLimited) as info:
            ask(client())
        assert info.value.retry_after == wait


@pytest.mark.parametrize(
    ("status", "should", "kind"),
    [(529, "false", APIError), (400, "true", Retryable), (500, None, Retryable)],
)
def test_x_should_retry_overrides_the_status(
    httpx2_mock: respx.Router, status: int, should: str | None, kind: type[Exception]
) -> None:
    headers = {"x-should-retry": should} if should else {}
    httpx2_mock.post(MESSAGES).mock(
        return_value=api.error(status, "error_overloaded.json", **headers)
    )
    with pytest.raises(kind) as info:
        ask(client())
    assert type(info.value) is kind


def test_a_dropped_connection_is_retryable(httpx2_mock: respx.Router) -> None:
    httpx2_mock.post(MESSAGES).mock(side_effect=httpx2.ReadError("connection reset"))
    with pytest.raises(Retryable, match="connection failed"):
        ask(client())


def test_an_unknown_model_is_not_a_lost_file(httpx2_mock: respx.Router) -> None:
    """A 404 that names no file but a model is a setup error (one line, no call will work),
    never a re-upload."""
    httpx2_mock.post(MESSAGES).mock(
        return_value=api.Response(
            404,
            json={
                "type": "error",
                "error": {"type": "not_found_error", "message": "model: claude-nope"},
            },
        )
    )
    with pytest.raises(ConfigError, match="does not serve the model") as info:
        ask(client())
    assert not isinstance(info.value, FileGone)


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
    route = httpx2_mock.post(MESSAGES).mock(return_value=api.error(529, "error_overloaded.json"))
    with pytest.raises(APIError, match=r"HTTP 529: Overloaded \(request req_"):
        ask(client())
    assert route.call_count == 1


def test_missing_key_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as info:
        Client()
    assert str(info.value) == MISSING_KEY


def test_review_in_process_uploads_once_and_references_every_file(
    httpx2_mock: respx.Router, tmp_path: Path
) -> None:
    """The whole flow over mocked HTTP: two runs, two documents, two uploads in all."""
    uploads = httpx2_mock.post(FILES).mock(side_effect=api.file_created)

    def reply(request: api.Sent) -> api.Response:
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
    """Four personas seeing the same 404 cause one re-upload, not four, and nothing asks the
    Files API whether the file exists (an expired file's metadata may still be readable)."""
    from panel.sources.documents import load_description

    uploads = httpx2_mock.post(FILES).mock(side_effect=api.file_created)
    store = Store(tmp_path / "home")  # no GET route: a metadata lookup would fail the test
    registry = Registry(store, client(), api.BASE)
    doc = load_description("# Acme\nA tool.")

    async def scenario() -> tuple[str, list[list[str]]]:
        first, _ = await registry.ensure(doc)
        dead = {first}
        return first, list(await asyncio.gather(*(registry.recover([doc], dead) for _ in range(4))))

    first, again = asyncio.run(scenario())
    assert registry.uploads == 2 and uploads.call_count == 2
    assert sum(len(a) for a in again) == 1
    assert registry.known(doc) not in (None, first)


def test_dead_ids_are_those_the_404_names_else_all_sent() -> None:
    from panel.api.registry import dead_ids

    assert dead_ids("File not found: file_01abc", ["file_01abc", "file_02def"]) == {"file_01abc"}
    assert dead_ids("not_found_error", ["file_01abc", "file_02def"]) == {"file_01abc", "file_02def"}


def test_an_upload_lost_after_the_server_stored_it_is_adopted_not_repeated(
    httpx2_mock: respx.Router, tmp_path: Path
) -> None:
    """Issue 10: the first attempt lands but its answer is lost; the retry finds it by name."""
    from panel.api.registry import server_name
    from panel.sources.documents import load_description

    doc = load_description("# Acme\nA tool.")
    landed = {
        **api.fixture("file.json"),
        "id": "file_landed",
        "filename": server_name(doc),
        "size_bytes": len(doc.data),
    }
    uploads = httpx2_mock.post(FILES).mock(side_effect=httpx2.ReadError("reset"))
    listing = httpx2_mock.get(FILES).mock(
        return_value=api.Response(
            200,
            json={
                "data": [landed],
                "has_more": False,
                "first_id": "file_landed",
                "last_id": "file_landed",
            },
        )
    )
    registry = Registry(Store(tmp_path / "home"), client(), api.BASE)
    file_id, now = asyncio.run(registry.ensure(doc))
    assert (file_id, now) == ("file_landed", True)
    assert uploads.call_count == 1 and listing.call_count == 1


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
        return_value=api.Response(200, content=body, headers={"content-type": "text/event-stream"})
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


def test_streamed_reply_text_leaves_thinking_out(httpx2_mock: respx.Router) -> None:
    """A streamed reply is read from its raw events: thinking deltas are not part of the text."""
    message = api.fixture("message.json")
    text = message["content"][0]["text"]
    thinking = {"type": "thinking", "thinking": "", "signature": ""}
    body = sse(
        ("message_start", {"message": {**message, "content": [], "stop_reason": None}}),
        ("content_block_start", {"index": 0, "content_block": thinking}),
        ("content_block_delta", {"index": 0, "delta": {"type": "thinking_delta", "thinking": "{"}}),
        ("content_block_stop", {"index": 0}),
        ("content_block_start", {"index": 1, "content_block": {"type": "text", "text": ""}}),
        ("content_block_delta", {"index": 1, "delta": {"type": "text_delta", "text": text[:9]}}),
        ("content_block_delta", {"index": 1, "delta": {"type": "text_delta", "text": text[9:]}}),
        ("content_block_stop", {"index": 1}),
        ("message_delta", {"delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 7}}),
        ("message_stop", {}),
    )
    httpx2_mock.post(MESSAGES).mock(
        return_value=api.Response(200, content=body, headers={"content-type": "text/event-stream"})
    )
    reply = asyncio.run(
        client().structured(
            Verdict,
            model="claude-sonnet-5-5",
            system=[{"type": "text", "text": "s"}],
            messages=[{"role": "user", "content": "hi"}],
            max_tokens=100,
            on_start=lambda: None,
        )
    )
    assert reply.raw == text and reply.parsed is not None
    assert reply.stop_reason == "end_turn" and reply.usage.output_tokens == 7
