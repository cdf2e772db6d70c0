"""Issue 21: the fake Anthropic server is as strict as the real API (ANTHROPIC.md), through the SDK."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import anthropic
import pytest

from tests.fake_anthropic import FakeAnthropic

MODEL = "claude-sonnet-5-5"
LONG_DOC = "The quick brown fox reviews the tool carefully. " * 120  # ~1440 tokens
RATE_KINDS = ("requests", "tokens", "input-tokens", "output-tokens")
SCHEMA = {
    "type": "json_schema",
    "schema": {
        "type": "object",
        "properties": {"score": {"type": "integer"}, "rationale": {"type": "string"}},
        "required": ["score", "rationale"],
        "additionalProperties": False,
    },
}


@pytest.fixture
def fake() -> Iterator[FakeAnthropic]:
    with FakeAnthropic() as server:
        yield server


@pytest.fixture
def client(fake: FakeAnthropic) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(api_key="test-key", base_url=fake.url, max_retries=0) as sdk:
        yield sdk


def ask(client: anthropic.Anthropic, text: str = "hello", **kwargs: Any) -> anthropic.types.Message:
    kwargs.setdefault("model", MODEL)
    kwargs.setdefault("max_tokens", 1024)
    return client.messages.create(messages=[{"role": "user", "content": text}], **kwargs)


def failure(client: anthropic.Anthropic, **kwargs: Any) -> anthropic.APIStatusError:
    with pytest.raises(anthropic.APIStatusError) as caught:
        ask(client, **kwargs)
    return caught.value


def cached_system(text: str) -> list[dict[str, Any]]:
    return [{"type": "text", "text": text, "cache_control": {"type": "ephemeral"}}]


def batch_of(client: anthropic.Anthropic, n: int) -> str:
    params = {"model": MODEL, "max_tokens": 50}
    requests: Any = [
        {
            "custom_id": f"r{i}",
            "params": {**params, "messages": [{"role": "user", "content": f"{i}"}]},
        }
        for i in range(n)
    ]
    return client.messages.batches.create(requests=requests).id


# -- errors and headers ----------------------------------------------------------------------


@pytest.mark.parametrize("status", [408, 409, 429, 500, 504, 529])
def test_transient_errors_say_retry(
    fake: FakeAnthropic, client: anthropic.Anthropic, status: int
) -> None:
    """408, 409, 429 and 5xx carry `x-should-retry: true`."""
    fake.fail_next(status)
    assert failure(client).response.headers["x-should-retry"] == "true"


@pytest.mark.parametrize("status", [400, 401, 402, 403, 404, 413])
def test_caller_errors_say_do_not_retry(
    fake: FakeAnthropic, client: anthropic.Anthropic, status: int
) -> None:
    """The caller's mistakes carry `x-should-retry: false`."""
    fake.fail_next(status)
    assert failure(client).response.headers["x-should-retry"] == "false"


def test_402_is_a_billing_error(fake: FakeAnthropic, client: anthropic.Anthropic) -> None:
    """402 is `billing_error`, which the SDK raises as PaymentRequiredError."""
    fake.fail_next(402)
    exc = failure(client)
    assert isinstance(exc, anthropic.PaymentRequiredError)
    assert exc.body["error"]["type"] == "billing_error"  # type: ignore[index]


def test_504_is_a_timeout_error(fake: FakeAnthropic, client: anthropic.Anthropic) -> None:
    """504 is `timeout_error`, the SDK's GatewayTimeoutError."""
    fake.fail_next(504)
    exc = failure(client)
    assert isinstance(exc, anthropic.GatewayTimeoutError)
    assert exc.body["error"]["type"] == "timeout_error"  # type: ignore[index]


def test_rate_limit_headers_on_a_success(client: anthropic.Anthropic) -> None:
    """Every kind of limit, tokens included, with limit, remaining and reset; no retry hint on
    a 200 (a stream's later `error` event must stay retryable)."""
    raw = client.messages.with_raw_response.create(
        model=MODEL, max_tokens=10, messages=[{"role": "user", "content": "hi"}]
    )
    for kind in RATE_KINDS:
        for part in ("limit", "remaining", "reset"):
            assert raw.headers.get(f"anthropic-ratelimit-{kind}-{part}"), (kind, part)
    assert "x-should-retry" not in raw.headers
    assert int(raw.headers["anthropic-ratelimit-requests-remaining"]) < int(
        raw.headers["anthropic-ratelimit-requests-limit"]
    )


@pytest.mark.parametrize("path", ["/v1/messages", "/v1/files"])
def test_rate_limit_headers_on_errors_too(
    fake: FakeAnthropic, client: anthropic.Anthropic, path: str
) -> None:
    """An error reply, here a 404 on Messages or Files, still carries the rate-limit headers."""
    with pytest.raises(anthropic.NotFoundError) as caught:
        if path == "/v1/files":
            client.files.retrieve_metadata("file_missing")
        else:
            ask(client, model="claude-nonexistent-1")
    headers = caught.value.response.headers
    assert all(f"anthropic-ratelimit-{kind}-remaining" in headers for kind in RATE_KINDS)


def test_a_429_always_says_when_to_retry(fake: FakeAnthropic, client: anthropic.Anthropic) -> None:
    """A 429 without an explicit wait still has `retry-after`."""
    fake.fail_next(429)
    assert int(failure(client).response.headers["retry-after"]) >= 1


# -- request limits --------------------------------------------------------------------------


def test_an_oversized_request_is_413(fake: FakeAnthropic, client: anthropic.Anthropic) -> None:
    """A body over the size limit (a knob here; 32 MB on the API) is 413 request_too_large."""
    fake.max_request_bytes = 2000
    exc = failure(client, text="x" * 3000)
    assert exc.status_code == 413 and exc.body["error"]["type"] == "request_too_large"  # type: ignore[index]
    assert ask(client, text="x" * 100).usage.input_tokens > 0


def test_a_prompt_over_the_context_window_is_refused(
    fake: FakeAnthropic, client: anthropic.Anthropic
) -> None:
    """More input tokens than the context window: 400 "prompt is too long"."""
    fake.context_window = 500
    exc = failure(client, text="word " * 1000)
    assert isinstance(exc, anthropic.BadRequestError) and "prompt is too long" in exc.message


def test_max_tokens_above_the_model_ceiling_is_refused(client: anthropic.Anthropic) -> None:
    """max_tokens over the model's output ceiling is a 400 naming the ceiling."""
    exc = failure(client, max_tokens=64_001, timeout=30)  # Sonnet: 64k at most
    assert isinstance(exc, anthropic.BadRequestError) and "maximum allowed" in exc.message


def test_storage_quota_exceeded_on_upload(fake: FakeAnthropic, client: anthropic.Anthropic) -> None:
    """An upload past the organisation's quota is 400 StorageQuotaExceededError; nothing kept."""
    fake.storage_quota_bytes = 150
    client.files.upload(file=("a.txt", b"a" * 100, "text/plain"))
    with pytest.raises(anthropic.types.StorageQuotaExceededError):
        client.files.upload(file=("b.txt", b"b" * 100, "text/plain"))
    assert len(list(client.files.list())) == 1


def test_files_list_pages_past_a_hundred(client: anthropic.Anthropic) -> None:
    """Over 100 files come a page at a time, which the SDK follows to the end."""
    ids = [client.files.upload(file=(f"{i}.txt", b"x", "text/plain")).id for i in range(105)]
    first = client.files.list(limit=100)
    assert len(first.data) == 100 and first.has_next_page()
    assert sorted(f.id for f in client.files.list(limit=100)) == sorted(ids)


def test_files_list_after_and_before_id(client: anthropic.Anthropic) -> None:
    """`after_id` gives older files, `before_id` newer, with first_id, last_id and has_more."""
    ids = [client.files.upload(file=(f"{i}.txt", b"x", "text/plain")).id for i in range(5)]
    newest_first = ids[::-1]
    older = client.files.list(limit=2, extra_query={"after_id": newest_first[1]}).model_dump()
    assert [f["id"] for f in older["data"]] == newest_first[2:4]
    assert older["has_more"] is True and older["last_id"] == newest_first[3]
    newer = client.files.list(limit=2, extra_query={"before_id": newest_first[3]}).model_dump()
    assert [f["id"] for f in newer["data"]] == newest_first[1:3] and newer["has_more"] is True


# -- prompt caching ---------------------------------------------------------------------------


def test_each_model_has_its_own_minimum_prefix(client: anthropic.Anthropic) -> None:
    """~1440 tokens caches on Sonnet (1024 minimum) but not on Opus (4096): nothing written."""
    sonnet = ask(client, "q", system=cached_system(LONG_DOC)).usage
    opus = ask(client, "q", model="claude-opus-5-5", system=cached_system(LONG_DOC)).usage
    assert sonnet.cache_creation_input_tokens and sonnet.cache_creation_input_tokens > 0
    assert opus.cache_creation_input_tokens == 0
    again = ask(client, "q", model="claude-opus-5-5", system=cached_system(LONG_DOC)).usage
    assert again.cache_read_input_tokens == 0


def test_a_cache_entry_is_readable_once_its_writer_streams(fake: FakeAnthropic) -> None:
    """A call made after the writer's first streamed token reads its entry, mid-stream."""
    fake.latency = (5.0, 5.0)  # a stream opens after 1 s and ends 4 s later

    def stream(sdk: anthropic.Anthropic, text: str) -> Any:
        return sdk.messages.stream(
            model=MODEL,
            max_tokens=100,
            system=cached_system(LONG_DOC),  # type: ignore[arg-type]
            messages=[{"role": "user", "content": text}],
        )

    sdk = anthropic.Anthropic(api_key="test-key", base_url=fake.url, max_retries=0)
    with sdk, stream(sdk, "first") as writer:
        wrote = next(iter(writer))
        with stream(sdk, "second") as reader:
            read = next(iter(reader))
        assert "_ended" not in fake.message_requests[0]  # the writer is still streaming
    assert wrote.type == read.type == "message_start"
    assert wrote.message.usage.cache_creation_input_tokens
    assert (
        read.message.usage.cache_read_input_tokens
        == wrote.message.usage.cache_creation_input_tokens
    )
    assert read.message.usage.cache_creation_input_tokens == 0


# -- token counting ---------------------------------------------------------------------------


def test_count_tokens_is_an_estimate_not_the_bill(client: anthropic.Anthropic) -> None:
    """count_tokens answers near the billed input, but not the billing formula's number."""
    counted = client.messages.count_tokens(
        model=MODEL, messages=[{"role": "user", "content": LONG_DOC}]
    ).input_tokens
    billed = ask(client, LONG_DOC).usage.input_tokens
    assert counted != billed and counted == pytest.approx(billed, rel=0.1)


def test_count_tokens_counts_the_output_schema(client: anthropic.Anthropic) -> None:
    """An output schema adds input tokens, to the count and to the bill alike."""
    messages: Any = [{"role": "user", "content": "hello"}]
    bare = client.messages.count_tokens(model=MODEL, messages=messages).input_tokens
    schema = client.messages.count_tokens(
        model=MODEL, messages=messages, extra_body={"output_config": {"format": SCHEMA}}
    ).input_tokens
    assert schema > bare
    billed_bare = ask(client).usage.input_tokens
    billed_schema = ask(client, extra_body={"output_config": {"format": SCHEMA}}).usage
    assert billed_schema.input_tokens > billed_bare


# -- message batches --------------------------------------------------------------------------


def test_batch_counts_move_while_it_runs(fake: FakeAnthropic, client: anthropic.Anthropic) -> None:
    """Halfway through its run a batch has some requests done and the rest processing."""
    fake.batch_delay = 100.0
    batch_id = batch_of(client, 10)
    fake.advance_clock(55)
    batch = client.messages.batches.retrieve(batch_id)
    counts = batch.request_counts
    assert batch.processing_status == "in_progress"
    assert 0 < counts.succeeded < 10 and counts.processing == 10 - counts.succeeded


def test_a_batch_expires_after_24_hours(fake: FakeAnthropic, client: anthropic.Anthropic) -> None:
    """Requests still processing 24 h on come back `expired`; those done stay `succeeded`."""
    fake.batch_delay = 200_000.0
    batch_id = batch_of(client, 10)
    fake.advance_clock(86_401)
    batch = client.messages.batches.retrieve(batch_id)
    counts = batch.request_counts
    assert batch.processing_status == "ended"
    assert counts.expired > 0 and counts.succeeded > 0 and counts.expired + counts.succeeded == 10
    kinds = {r.result.type for r in client.messages.batches.results(batch_id)}
    assert kinds == {"expired", "succeeded"}


def test_cancel_keeps_finished_requests(fake: FakeAnthropic, client: anthropic.Anthropic) -> None:
    """A cancel leaves what had finished `succeeded` and cancels only the rest."""
    fake.batch_delay = 100.0
    batch_id = batch_of(client, 10)
    fake.advance_clock(55)
    done = client.messages.batches.retrieve(batch_id).request_counts.succeeded
    assert client.messages.batches.cancel(batch_id).processing_status == "canceling"
    fake.advance_clock(100)
    counts = client.messages.batches.retrieve(batch_id).request_counts
    assert counts.succeeded == done > 0 and counts.canceled == 10 - done


def half_a_request(fake: FakeAnthropic, path: str, body: bytes, claimed: int) -> None:
    """Send headers claiming `claimed` bytes, then only `body`, then hang up: a killed client."""
    parts = urlsplit(fake.url)
    with socket.create_connection((parts.hostname, parts.port), timeout=5) as sock:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nx-api-key: test-key\r\n"
            "anthropic-version: 2023-06-01\r\nanthropic-beta: files-api-2025-04-14\r\n"
            'content-type: multipart/form-data; boundary="b"\r\n'
            f"content-length: {claimed}\r\n\r\n"
        )
        sock.sendall(head.encode() + body)
        sock.shutdown(socket.SHUT_WR)
        sock.recv(1)  # the server closes without answering


def test_an_upload_cut_off_mid_body_stores_nothing(
    fake: FakeAnthropic, client: anthropic.Anthropic, capfd: pytest.CaptureFixture[str]
) -> None:
    """A server never acts on half a request: the fake once stored the truncated bytes as a file
    (whose size then matched nothing, so a resumed upload could not find it and uploaded twice)."""
    whole = (
        b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n'
        b"Content-Type: text/plain\r\n\r\n" + b"x" * 4000 + b"\r\n--b--\r\n"
    )
    half_a_request(fake, "/v1/files", whole[:2000], len(whole))
    assert fake.files == {} and fake.uploads_started == 0
    assert not client.beta.files.list().data
    assert "Traceback" not in capfd.readouterr().err  # a hung-up client is not a server error
