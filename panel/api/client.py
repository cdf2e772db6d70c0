"""The one seam to the Anthropic API: every call the product makes goes through `Client`.

Structured output is requested exactly as `messages.parse(output_format=Model)` puts it on the wire
(`output_config.format` = the SDK's `transform_schema` of the model), but through
`with_raw_response.create` and our own validation, because `parse` throws the raw text away when
validation fails (a failed verdict must keep it), hides the rate-limit headers a scheduler needs, and
Message Batches results need the very same validation path.

The SDK's own retries are off (`max_retries=0`) and its timeouts explicit: every failure worth a
retry comes out of here as `RateLimited` or `Retryable` (with the server's `retry-after`), and
`panel.api.retry` is the one layer that retries, for messages, uploads and batch calls alike. An
`error` event inside a stream and a connection cut mid-stream are transient too.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Mapping
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from panel.api.replies import M, Reply, text_of, usage_of, validate_reply
from panel.api.results import Download, ResultsIncomplete, batch_result, result_line
from panel.config import env_number
from panel.errors import APIError, ConfigError, PanelError, RateLimited, Retryable
from panel.store.connection import redact_endpoint

# The SDK takes about a second to import: only the paths that call the API import it (below, in
# the functions that use it), so `panel --help`, `show`, `list` and a keyless --dry-run start at once.
if TYPE_CHECKING:
    import ssl

    import anthropic
    from anthropic import AsyncAnthropic

# Connecting should take a moment; a persona reply streams within a couple of minutes. The read
# timeout is the longest silence between two chunks, not the whole reply.
DEFAULT_CONNECT_TIMEOUT_S = 10.0
DEFAULT_READ_TIMEOUT_S = 120.0
# The whole of one Messages call, however steadily it trickles: the read timeout alone never
# fires on a reply that sends a byte a second. `PANEL_CALL_DEADLINE` sets it.
DEFAULT_CALL_DEADLINE_S = 300.0
# Error types the API sends (as HTTP errors or `error` events in a stream) that a retry may fix.
TRANSIENT_TYPES = frozenset({"overloaded_error", "api_error", "rate_limit_error", "timeout_error"})
# The token counts a reply's usage carries; a stream's `message_delta` may update any of them.
USAGE_FIELDS = (
    "input_tokens",
    "output_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
    "cache_creation",
)

MISSING_KEY = (
    "ANTHROPIC_API_KEY is not set: export ANTHROPIC_API_KEY=sk-ant-..., put it in ./.env, or run "
    "`panel keys set` (--dry-run shows what would be sent; `panel demo` needs no key)"
)


class FileGone(Exception):
    """A referenced file_id no longer exists on the server (deleted or expired)."""


class NoFilesAPI(APIError):
    """The endpoint answers Messages but has no Files API (an Anthropic-compatible local server):
    documents have to travel inline."""


@cache
def ssl_context() -> ssl.SSLContext:
    """One TLS context per process (the SDK's own default, built once): loading the CA store is the
    slow part of making a client, and `batch` makes more than one."""
    import httpx2

    return httpx2.create_ssl_context()


def custom_endpoint() -> bool:
    """Whether ANTHROPIC_BASE_URL points somewhere other than Anthropic's API."""
    return endpoint().rstrip("/") != "https://api.anthropic.com"


@cache
def output_config(model: type[BaseModel]) -> dict[str, Any]:
    """The wire form of structured output for `model`, as `messages.parse` would send it."""
    from anthropic import transform_schema

    return {
        "format": {"type": "json_schema", "schema": transform_schema(model.model_json_schema())}
    }


def endpoint() -> str:
    """The API endpoint in use: the registry keys file_ids by it (one workspace, one set of ids).

    Redacted (`panel.store.connection.redact_endpoint`): the key is written to the store.
    """
    return redact_endpoint(raw_endpoint())


def raw_endpoint() -> str:
    """`ANTHROPIC_BASE_URL` as given, credentials and all: for the SDK and nothing else (older
    registries keyed their rows by it; `Registry` moves them to the redacted key)."""
    return os.environ.get("ANTHROPIC_BASE_URL") or "https://api.anthropic.com"


class Client:
    """Async wrapper over the SDK; holds the API key in memory only."""

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        sdk: AsyncAnthropic | None = None,
        timeout: float | None = None,
        deadline: float | None = None,
    ) -> None:
        self.deadline = deadline or call_deadline()
        if sdk is None:
            key = api_key or os.environ.get("ANTHROPIC_API_KEY")
            if not key:
                raise ConfigError(MISSING_KEY)
            import httpx2
            from anthropic import AsyncAnthropic, DefaultAsyncHttpxClient

            limit = httpx2.Timeout(timeout or read_timeout(), connect=DEFAULT_CONNECT_TIMEOUT_S)
            sdk = AsyncAnthropic(
                api_key=key,
                base_url=base_url,
                max_retries=0,  # panel.api.retry is the one retry layer
                timeout=limit,
                http_client=DefaultAsyncHttpxClient(timeout=limit, verify=ssl_context()),
            )
        self.sdk = sdk

    async def close(self) -> None:
        """Close the HTTP connections: a library call must not leave sockets behind it."""
        await self.sdk.close()

    async def count_tokens(
        self,
        *,
        model: str,
        system: list[dict[str, Any]],
        messages: list[dict[str, Any]],
        output_format: type[Any] | None = None,
    ) -> int:
        """The input tokens a Messages call would count (`messages.count_tokens`; free); the
        output schema the call will send counts too."""
        extra: dict[str, Any] = {} if output_format is None else {"output_format": output_format}
        try:
            counted = await self.sdk.messages.count_tokens(
                model=model,
                system=system,  # type: ignore[arg-type]
                messages=messages,  # type: ignore[arg-type]
                **extra,
            )
        except Exception as exc:
            raise classify("count_tokens", exc) from exc
        return counted.input_tokens

    async def upload(self, filename: str, data: bytes, mime: str) -> str:
        """Upload one document through the Files API and return its file_id."""
        import anthropic

        try:
            meta = await self.sdk.files.upload(file=(filename, data, mime))
        except anthropic.NotFoundError as exc:
            if custom_endpoint():  # a local server without /v1/files
                raise NoFilesAPI(f"{endpoint()} has no Files API (upload answered 404)") from exc
            raise classify(f"upload of {filename}", exc) from exc
        except Exception as exc:
            raise classify(f"upload of {filename}", exc) from exc
        return meta.id

    async def find_file(self, filename: str, size: int) -> str | None:
        """The newest server file with this name and size: an upload that landed before its answer
        was lost. Names carry the content's hash, so a match is the same bytes."""
        try:
            async for meta in self.sdk.files.list(limit=100):
                if meta.filename == filename and meta.size_bytes == size:
                    return meta.id
        except Exception as exc:
            raise classify("files list", exc) from exc
        return None

    async def structured(
        self,
        schema: type[M],
        *,
        model: str,
        system: list[dict[str, Any]],
        messages: list[dict[str, Any]],
        max_tokens: int,
        on_start: Callable[[], None] | None = None,
    ) -> Reply[M]:
        """One Messages call with structured output; validation failures come back as data.

        With `on_start` the reply is streamed and `on_start` is called at its first event: the
        moment the cache entries this call writes become readable by the calls that follow.
        """
        params: dict[str, Any] = {
            "model": model,
            "max_tokens": max_tokens,
            "system": system,
            "messages": messages,
            "output_config": output_config(schema),
        }
        try:
            async with asyncio.timeout(self.deadline):
                text, stop_reason, usage, headers = await self._reply(params, on_start)
        except TimeoutError:
            raise Retryable(
                f"messages: no whole reply within the {self.deadline:g} s deadline "
                "(PANEL_CALL_DEADLINE)"
            ) from None
        parsed, error = validate_reply(schema, text, stop_reason)
        return Reply(parsed, text, stop_reason, usage_of(usage), error, headers)

    async def _reply(
        self, params: dict[str, Any], on_start: Callable[[], None] | None
    ) -> tuple[str, str | None, Any, Mapping[str, str]]:
        """(text, stop_reason, usage, headers) of one Messages call, its failures classified."""
        import anthropic

        try:
            if on_start is None:
                raw = await self.sdk.messages.with_raw_response.create(**params)
                message = await raw.parse()
                text, stop_reason = text_of(message.content), message.stop_reason
                usage, headers = message.usage, raw.headers
            else:
                text, stop_reason, usage, headers = await self._streamed(params, on_start)
        except anthropic.NotFoundError as exc:
            if "file" in str(exc).lower():
                raise FileGone(str(exc)) from exc
            if "model" in str(exc).lower():  # no call with this model will work: stop, in one line
                raise ConfigError(
                    f"the API does not serve the model {params.get('model')!r} "
                    "(set it with --model or PANEL_MODEL; `panel models` lists the aliases)"
                ) from exc
            raise classify("messages", exc) from exc
        except Exception as exc:
            raise classify("messages", exc) from exc
        return text, stop_reason, usage, headers

    async def _streamed(
        self, params: dict[str, Any], on_start: Callable[[], None]
    ) -> tuple[str, str | None, dict[str, Any], Mapping[str, str]]:
        """(text, stop_reason, usage, headers) of a streamed call, read from the raw events.

        Not the SDK's `messages.stream` helper: it rebuilds a parsed snapshot of the whole message
        at every event, and its first event in a process builds the pydantic schemas of those
        snapshots (about 20 ms) between `message_start` arriving and `on_start`, which is the
        moment the other personas are waiting for.
        """
        raw = await self.sdk.messages.with_raw_response.create(**params, stream=True)
        stream = await raw.parse()
        text: list[str] = []
        stop_reason: str | None = None
        usage: dict[str, Any] = {}
        async with stream:
            async for event in stream:
                if event.type == "message_start":
                    on_start()
                    usage = {k: getattr(event.message.usage, k, None) for k in USAGE_FIELDS}
                elif event.type == "content_block_delta" and event.delta.type == "text_delta":
                    text.append(event.delta.text)
                elif event.type == "message_delta":
                    stop_reason = event.delta.stop_reason
                    final = {k: getattr(event.usage, k, None) for k in USAGE_FIELDS}
                    usage.update({k: v for k, v in final.items() if v is not None})
        return "".join(text), stop_reason, usage, raw.headers


class Batches:
    """The Message Batches API, through a client that keeps the SDK's retries."""

    def __init__(self, client: Client) -> None:
        self.sdk = client.sdk

    @staticmethod
    def params(
        schema: type[BaseModel],
        *,
        model: str,
        system: list[dict[str, Any]],
        messages: list[dict[str, Any]],
        max_tokens: int,
    ) -> dict[str, Any]:
        """A request body exactly as `Client.structured` sends it live."""
        return {
            "model": model,
            "max_tokens": max_tokens,
            "system": system,
            "messages": messages,
            "output_config": output_config(schema),
        }

    async def create(self, requests: list[dict[str, Any]]) -> str:
        import anthropic
        import httpx2

        try:
            batch = await self.sdk.messages.batches.create(requests=requests)  # type: ignore[arg-type]
        except (anthropic.APIConnectionError, httpx2.TransportError) as exc:
            # The batch may exist: never retried blindly; a resume adopts it (see batch.messages).
            raise APIError(f"batch create: cannot reach the API ({exc})") from exc
        except Exception as exc:
            raise classify("batch create", exc) from exc
        return batch.id

    async def created_since(self, since: datetime) -> list[tuple[str, int]]:
        """(id, request count) of the workspace's batches created at or after `since`, oldest first."""
        found: list[tuple[str, int]] = []
        try:
            async for batch in self.sdk.messages.batches.list(limit=100):
                if batch.created_at < since:
                    break  # the list is newest first
                found.append((batch.id, sum(batch.request_counts.model_dump().values())))
        except Exception as exc:
            raise classify("batch list", exc) from exc
        return found[::-1]

    async def status(self, batch_id: str) -> tuple[str, dict[str, int]]:
        """(processing_status, request_counts)."""
        try:
            batch = await self.sdk.messages.batches.retrieve(batch_id)
        except Exception as exc:
            raise classify(f"batch {batch_id}", exc) from exc
        return batch.processing_status, batch.request_counts.model_dump()

    async def results(self, batch_id: str, *, expected: int | None = None) -> Download:
        """Every result of an ended batch, read line by line: a line that is no result is
        counted, not fatal; a download that stops partway is `ResultsIncomplete`, holding the
        results read so far (`expected`: how many the batch has, for the message)."""
        try:
            decoder = await self.sdk.messages.batches.results(batch_id)
        except Exception as exc:
            raise classify(f"batch {batch_id} results", exc) from exc
        response = decoder.http_response  # read as lines: the SDK's decoder dies on a bad one
        out = Download()
        try:
            async for raw in response.aiter_lines():
                if not raw.strip():
                    continue
                try:
                    out.results.append(batch_result(result_line(raw)))
                except (ValueError, LookupError, TypeError, AttributeError):
                    out.unreadable += 1  # garbled or truncated: names no request
        except Exception as exc:
            import httpx2

            cause = classify(f"batch {batch_id} results", exc)
            reason = str(cause).removeprefix(f"batch {batch_id} results: ")
            if isinstance(exc, httpx2.TimeoutException):
                reason = f"nothing arrived for {read_timeout():g} s"
            raise ResultsIncomplete(batch_id, out.results, expected, reason) from exc
        finally:
            await response.aclose()
        return out


def retry_after(headers: Mapping[str, str]) -> float | None:
    """The server's wait hint in seconds: `retry-after-ms` first, then `retry-after`."""
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        try:
            value = float(headers.get(name, ""))
        except ValueError:
            continue
        if value >= 0:
            return value / scale  # however long: the retry policy caps what it honours
    return None


def read_timeout() -> float:
    """`PANEL_TIMEOUT` (seconds of silence before a call is abandoned), else the default."""
    return env_number("PANEL_TIMEOUT", DEFAULT_READ_TIMEOUT_S, above=True)


def call_deadline() -> float:
    """`PANEL_CALL_DEADLINE` (seconds one Messages call may take in all), else the default."""
    return env_number("PANEL_CALL_DEADLINE", DEFAULT_CALL_DEADLINE_S, above=True)


def classify(what: str, exc: Exception) -> Exception:
    """An SDK or transport failure as panel's error: `RateLimited`/`Retryable` when a retry may
    fix it (429, 408, 409, 5xx, 529, an `error` event mid-stream, a dropped connection, a
    timeout; `x-should-retry` overrides), `ConfigError` for a refused key, else `APIError`."""
    import anthropic
    import httpx2

    if isinstance(exc, (anthropic.AuthenticationError, anthropic.PermissionDeniedError)):
        return ConfigError(f"the API rejected the key in ANTHROPIC_API_KEY: {exc.message}")
    if isinstance(exc, anthropic.APIStatusError):
        failure = str(_api_error(what, exc))
        headers = exc.response.headers
        wait = retry_after(headers)
        body = exc.body if isinstance(exc.body, dict) else {}
        inner = body.get("error") if isinstance(body.get("error"), dict) else body
        kind = inner.get("type") if isinstance(inner, dict) else None
        should = headers.get("x-should-retry")
        if exc.status_code == 429 or kind == "rate_limit_error":
            return (
                RateLimited(failure, retry_after=wait) if should != "false" else APIError(failure)
            )
        transient = (
            exc.status_code in (408, 409)
            or exc.status_code >= 500
            or (exc.status_code == 200 and kind in TRANSIENT_TYPES)  # an error event in a stream
        )
        if should == "true" or (transient and should != "false"):
            return Retryable(failure, retry_after=wait)
        return APIError(failure)
    if isinstance(exc, (anthropic.APITimeoutError, httpx2.TimeoutException)):
        return Retryable(f"{what}: no answer within the timeout ({exc.__class__.__name__})")
    if isinstance(exc, (anthropic.APIConnectionError, httpx2.TransportError)):
        return Retryable(f"{what}: the connection failed ({exc.__class__.__name__}: {exc})")
    if isinstance(exc, PanelError):
        return exc
    return exc


def _api_error(what: str, exc: anthropic.APIStatusError) -> APIError:
    """One line for an API refusal, with the request id support would ask for."""
    message = str(exc)
    body = exc.body if isinstance(exc.body, dict) else {}
    detail = body.get("error", {}).get("message") if isinstance(body.get("error"), dict) else None
    rid = f" (request {exc.request_id})" if exc.request_id else ""
    return APIError(f"{what}: HTTP {exc.status_code}: {detail or message}{rid}")
