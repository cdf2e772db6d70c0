"""The fake Anthropic server, exercised through the real SDK to prove the SDK accepts it."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Iterator
from typing import Literal

import anthropic
import httpx2
import pytest
from pydantic import BaseModel

from tests.fake_anthropic import FakeAnthropic, Reply, Timing

MODEL = "claude-sonnet-5-5"
LONG_DOC = "The quick brown fox reviews the tool carefully. " * 120  # ~1440 tokens


class Quote(BaseModel):
    source: str
    line: int | None = None


class Verdict(BaseModel):
    score: int
    decision: Literal["ship", "skip"]
    rationale: str
    injection_suspected: bool
    injection_evidence: str
    concerns: list[str] | None = None
    quotes: list[Quote]


@pytest.fixture
def fake() -> Iterator[FakeAnthropic]:
    with FakeAnthropic() as server:
        yield server


@pytest.fixture
def client(fake: FakeAnthropic) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(api_key="test-key", base_url=fake.url, max_retries=0) as sdk:
        yield sdk


def ask(
    client: anthropic.Anthropic, text: str = "hello", **kwargs: object
) -> anthropic.types.Message:
    return client.messages.create(
        model=MODEL, max_tokens=1024, messages=[{"role": "user", "content": text}], **kwargs
    )


def text_of(message: anthropic.types.Message) -> str:
    """The text blocks of a reply: select by type, as replies may start with thinking."""
    return "".join(block.text for block in message.content if block.type == "text")


def cached_call(client: anthropic.Anthropic, system: str, question: str) -> anthropic.types.Usage:
    system_blocks = [{"type": "text", "text": system, "cache_control": {"type": "ephemeral"}}]
    return ask(client, question, system=system_blocks).usage


def test_files_upload_list_retrieve_delete(
    fake: FakeAnthropic, client: anthropic.Anthropic
) -> None:
    """Files round-trip through the SDK and the fake records the upload's bytes."""
    data = b"plain text\r\nwith a CRLF and \xe2\x9c\x93 utf-8\n"
    meta = client.files.upload(file=("notes.txt", data, "text/plain"))
    assert meta.id.startswith("file_") and meta.size_bytes == len(data)
    assert meta.mime_type == "text/plain" and meta.downloadable is False
    assert fake.uploads[0]["sha256"] == hashlib.sha256(data).hexdigest()
    assert [f.id for f in client.files.list()] == [meta.id]
    assert client.files.retrieve_metadata(meta.id).filename == "notes.txt"
    assert client.files.delete(meta.id).type == "file_deleted"
    with pytest.raises(anthropic.NotFoundError):
        client.files.retrieve_metadata(meta.id)


def test_parse_returns_parsed_output(fake: FakeAnthropic, client: anthropic.Anthropic) -> None:
    """Structured output is generated from the schema and honours set_score."""
    fake.set_score("ripgrep", 88)
    message = client.messages.parse(
        model=MODEL,
        max_tokens=1024,
        output_format=Verdict,
        messages=[{"role": "user", "content": "Review ripgrep"}],
    )
    verdict = message.parsed_output
    assert verdict is not None
    assert (verdict.score, verdict.decision, verdict.injection_suspected) == (88, "ship", False)
    assert verdict.rationale and verdict.quotes[0].source
    assert fake.message_requests[0]["output_config"]["format"]["type"] == "json_schema"


def test_refusal_gives_no_parsed_output(fake: FakeAnthropic, client: anthropic.Anthropic) -> None:
    """A scripted refusal without text parses to None instead of raising."""
    fake.script("nasty", Reply(stop_reason="refusal"))
    message = client.messages.parse(
        model=MODEL,
        max_tokens=1024,
        output_format=Verdict,
        messages=[{"role": "user", "content": "nasty tool"}],
    )
    assert message.stop_reason == "refusal" and message.parsed_output is None


def test_deleted_file_in_document_is_not_found(
    fake: FakeAnthropic, client: anthropic.Anthropic
) -> None:
    """A document that references a file deleted server-side gets a 404."""
    meta = client.files.upload(file=("readme.txt", b"docs " * 100, "text/plain"))
    document = {"type": "document", "source": {"type": "file", "file_id": meta.id}}
    content = [document, {"type": "text", "text": "Review it"}]
    assert ask(client, content).usage.input_tokens > 100  # type: ignore[arg-type]
    fake.delete_file(meta.id)
    with pytest.raises(anthropic.NotFoundError):
        ask(client, content)  # type: ignore[arg-type]
    assert fake.message_requests[-1]["_status"] == 404


def test_overloaded_then_success_with_sdk_retry(fake: FakeAnthropic) -> None:
    """An injected 529 is retried by the SDK after the fake's retry-after-ms."""
    fake.fail_next(529, retry_after=0.01)
    with anthropic.Anthropic(api_key="test-key", base_url=fake.url, max_retries=1) as sdk:
        assert ask(sdk).content[-1].type == "text"
    assert [status for _, _, status in fake.requests] == [529, 200]


def test_an_unknown_model_is_a_404(fake: FakeAnthropic, client: anthropic.Anthropic) -> None:
    """As on the real API: a model id it does not serve is not_found_error, naming the model."""
    with pytest.raises(anthropic.NotFoundError, match="claude-nope"):
        client.messages.create(
            model="claude-nope", max_tokens=10, messages=[{"role": "user", "content": "a"}]
        )


def test_some_replies_start_with_a_thinking_block(
    fake: FakeAnthropic, client: anthropic.Anthropic
) -> None:
    """Default replies sometimes lead with a thinking block, streamed or not; text comes last."""
    kinds = set()
    for i in range(9):
        params = {
            "model": MODEL,
            "max_tokens": 50,
            "messages": [{"role": "user", "content": str(i)}],
        }
        reply = client.messages.create(**params)  # type: ignore[call-overload]
        kinds.add(tuple(b.type for b in reply.content))
        with client.messages.stream(**params) as stream:  # type: ignore[arg-type]
            assert stream.get_final_message().content[-1].type == "text"
    assert kinds == {("text",), ("thinking", "text")}


def test_overloaded_error_type(fake: FakeAnthropic, client: anthropic.Anthropic) -> None:
    """A 529 surfaces as OverloadedError with the request id."""
    fake.fail_next(529)
    with pytest.raises(anthropic.OverloadedError) as info:
        ask(client)
    assert info.value.request_id and info.value.request_id.startswith("req_")


def test_temperature_is_rejected(client: anthropic.Anthropic) -> None:
    """Sampling parameters are a 400, as on current models."""
    with pytest.raises(anthropic.BadRequestError):
        ask(client, extra_body={"temperature": 0.2})


def test_forced_tool_use_is_rejected(client: anthropic.Anthropic) -> None:
    """tool_choice any/tool is a 400: structured outputs are the way."""
    tool = {"name": "verdict", "input_schema": {"type": "object", "properties": {}}}
    with pytest.raises(anthropic.BadRequestError):
        ask(client, tools=[tool], tool_choice={"type": "any"})


def test_wrong_key_is_unauthorized(fake: FakeAnthropic) -> None:
    """A wrong API key is a 401 AuthenticationError."""
    sdk = anthropic.Anthropic(api_key="wrong", base_url=fake.url, max_retries=0)
    with sdk, pytest.raises(anthropic.AuthenticationError):
        ask(sdk)
    assert fake.message_requests == []


def test_cache_write_then_read(client: anthropic.Anthropic) -> None:
    """A long enough prefix is written by the first call and read by the second."""
    first = cached_call(client, LONG_DOC, "persona one")
    second = cached_call(client, LONG_DOC, "persona two")
    assert first.cache_creation_input_tokens > 1024 and first.cache_read_input_tokens == 0
    assert second.cache_read_input_tokens == first.cache_creation_input_tokens
    assert second.cache_creation_input_tokens == 0
    assert second.input_tokens == 3  # only the uncached "persona two"


def test_cache_below_minimum_does_nothing(client: anthropic.Anthropic) -> None:
    """Under min_cache_tokens neither a write nor a read is reported."""
    for _ in range(2):
        usage = cached_call(client, "short system prompt", "question")
        assert (usage.cache_creation_input_tokens, usage.cache_read_input_tokens) == (0, 0)


def test_simultaneous_calls_all_write(fake: FakeAnthropic) -> None:
    """Calls in flight together all pay a cache write: the entry opens when a response starts."""
    fake.latency = (0.5, 0.5)

    async def run() -> list[anthropic.types.Message]:
        async with anthropic.AsyncAnthropic(
            api_key="test-key", base_url=fake.url, max_retries=0
        ) as sdk:
            system = [{"type": "text", "text": LONG_DOC, "cache_control": {"type": "ephemeral"}}]
            calls = [
                sdk.messages.create(
                    model=MODEL,
                    max_tokens=100,
                    system=system,
                    messages=[{"role": "user", "content": f"p{i}"}],
                )
                for i in range(4)
            ]
            return await asyncio.gather(*calls)

    messages = asyncio.run(run())
    assert fake.peak_in_flight == 4  # concurrent, not serial: all four inside the fake at once
    assert all(m.usage.cache_creation_input_tokens > 0 for m in messages)


def test_timing_charges_prefill_for_fresh_input_and_generation_per_output_token() -> None:
    """The token model: a cache read shortens time to first token; output sets the rest."""
    timing = Timing(
        overhead=0.3, per_input_token=40e-6, per_cached_token=4e-6, per_output_token=0.01
    )
    write = {"input_tokens": 200, "cache_creation_input_tokens": 20_000, "output_tokens": 300}
    read = {"input_tokens": 200, "cache_read_input_tokens": 20_000, "output_tokens": 100}
    (write_ttft, write_rest), (read_ttft, read_rest) = timing.split(write), timing.split(read)
    assert write_ttft == pytest.approx(0.3 + 20_200 * 40e-6)
    assert read_ttft == pytest.approx(0.3 + 200 * 40e-6 + 20_000 * 4e-6)
    assert (write_rest, read_rest) == (pytest.approx(3.0), pytest.approx(1.0))


def test_a_timed_stream_opens_after_its_prefill_and_ends_after_its_output(
    fake: FakeAnthropic, client: anthropic.Anthropic
) -> None:
    """With `timing`, message_start waits for the prefill and the rest for the output tokens."""
    fake.timing = Timing(
        overhead=0.05, per_input_token=0, per_cached_token=0, per_output_token=1e-4
    )
    params = {"model": MODEL, "max_tokens": 1024, "messages": [{"role": "user", "content": "hi"}]}
    with client.messages.stream(**params) as stream:  # type: ignore[arg-type]
        message = stream.get_final_message()
    record = fake.message_requests[-1]
    assert record["_opened"] - record["_started"] >= 0.05
    assert record["_ended"] - record["_opened"] >= message.usage.output_tokens * 1e-4


def test_batch_results_shuffled_with_expired(
    fake: FakeAnthropic, client: anthropic.Anthropic
) -> None:
    """A batch ends after batch_delay; results parse, come unordered, and honour injections."""
    fake.batch_delay = 0.05
    fake.expire_in_batch("req-3")
    fake.script("item 5", Reply(text="{not json"))
    ids = [f"req-{i}" for i in range(12)]
    batch = client.messages.batches.create(
        requests=[
            {
                "custom_id": cid,
                "params": {
                    "model": MODEL,
                    "max_tokens": 100,
                    "messages": [{"role": "user", "content": f"item {i}"}],
                },
            }
            for i, cid in enumerate(ids)
        ]
    )
    assert batch.processing_status == "in_progress" and batch.request_counts.processing == 12
    while (batch := client.messages.batches.retrieve(batch.id)).processing_status != "ended":
        time.sleep(0.02)
    assert batch.request_counts.expired == 1 and batch.request_counts.succeeded == 11
    results = list(client.messages.batches.results(batch.id))
    assert sorted(r.custom_id for r in results) == sorted(ids)
    assert [r.custom_id for r in results] != ids
    by_id = {r.custom_id: r.result for r in results}
    assert by_id["req-3"].type == "expired"
    scripted = by_id["req-5"]
    assert scripted.type == "succeeded" and text_of(scripted.message) == "{not json"
    assert scripted.message.usage.service_tier == "batch"


def test_batch_rejects_bad_custom_id(client: anthropic.Anthropic) -> None:
    """custom_id must be 1-64 characters of [A-Za-z0-9_-]."""
    params = {"model": MODEL, "max_tokens": 10, "messages": [{"role": "user", "content": "x"}]}
    with pytest.raises(anthropic.BadRequestError):
        client.messages.batches.create(requests=[{"custom_id": "has space", "params": params}])


def test_rpm_limit_gives_429(fake: FakeAnthropic, client: anthropic.Anthropic) -> None:
    """Past rpm_limit the fake answers 429 with retry-after and ratelimit headers."""
    fake.rpm_limit = 2
    raw = client.messages.with_raw_response.create(
        model=MODEL, max_tokens=10, messages=[{"role": "user", "content": "a"}]
    )
    assert raw.headers["anthropic-ratelimit-requests-remaining"] == "1"
    ask(client)
    with pytest.raises(anthropic.RateLimitError) as info:
        ask(client)
    assert int(info.value.response.headers["retry-after"]) >= 1
    assert fake.count_429 == 1


def test_scripted_malformed_reply_is_returned_raw(
    fake: FakeAnthropic, client: anthropic.Anthropic
) -> None:
    """Scripted replies are used in order for matching requests, then the default returns."""
    fake.script("skeptic", Reply(text='{"score": 4'), Reply.verdict(30, "skip"))
    texts = [text_of(ask(client, "you are the skeptic")) for _ in range(3)]
    assert texts[0] == '{"score": 4'
    assert json.loads(texts[1])["decision"] == "skip"
    assert texts[2] not in texts[:2]


def test_scripted_error_status(fake: FakeAnthropic, client: anthropic.Anthropic) -> None:
    """Reply(status=500) answers that request with an api_error."""
    fake.script("boom", Reply(status=500))
    with pytest.raises(anthropic.InternalServerError):
        ask(client, "boom")


def test_peak_in_flight_with_async_latency(fake: FakeAnthropic) -> None:
    """Concurrent async calls overlap in the server, which records the peak."""
    fake.latency = (0.05, 0.1)

    async def run() -> None:
        async with anthropic.AsyncAnthropic(
            api_key="test-key", base_url=fake.url, max_retries=0
        ) as sdk:
            await asyncio.gather(
                *(
                    sdk.messages.create(
                        model=MODEL, max_tokens=10, messages=[{"role": "user", "content": str(i)}]
                    )
                    for i in range(6)
                )
            )

    asyncio.run(run())
    assert fake.peak_in_flight == 6
    assert len(fake.message_requests) == 6


def test_missing_version_header_is_rejected(fake: FakeAnthropic) -> None:
    """Without anthropic-version the API answers 400 with its error body and a request-id."""
    resp = httpx2.post(f"{fake.url}/v1/messages", headers={"x-api-key": "test-key"}, json={})
    assert resp.status_code == 400 and resp.headers["request-id"].startswith("req_")
    body = resp.json()
    assert body["type"] == "error" and body["error"]["type"] == "invalid_request_error"


def test_file_document_prefix_is_cached(fake: FakeAnthropic, client: anthropic.Anthropic) -> None:
    """A cache_control on a file document counts the file at size/4 tokens and caches it."""
    meta = client.files.upload(file=("doc.pdf", b"%PDF" + b"x" * 8000, "application/pdf"))
    document = {
        "type": "document",
        "source": {"type": "file", "file_id": meta.id},
        "cache_control": {"type": "ephemeral", "ttl": "1h"},
    }
    usages = [
        ask(client, [document, {"type": "text", "text": f"persona {i}"}]).usage  # type: ignore[arg-type]
        for i in range(2)
    ]
    assert usages[0].cache_creation_input_tokens == 2001
    assert usages[0].cache_creation and usages[0].cache_creation.ephemeral_1h_input_tokens == 2001
    assert usages[1].cache_read_input_tokens == 2001
