"""The fake API's knobs and script: what a test sets, scripts and observes.

The state every endpoint shares (under one lock), apart from the endpoints, so that a
test's view of the fake (its knobs, its scripted replies and faults) reads in one place.
"""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from typing import Any

from panel.demo import fake_limits
from panel.demo.fake_text import INVENTED_QUOTE
from panel.demo.fake_wire import MODELS, _model_class, _new_id


@dataclass
class Reply:
    """One scripted reply; `text` wins over `json`, neither means "use the default"."""

    text: str | None = None
    json: dict[str, Any] | None = None
    stop_reason: str = "end_turn"
    status: int = 200

    @classmethod
    def verdict(
        cls,
        score: int,
        decision: str,
        rationale: str = "Scripted verdict.",
        evidence: list[dict[str, str]] | None = None,
    ) -> Reply:
        """A verdict in the shape `panel` asks for; `evidence` as `[{"quote", "document"}]`."""
        return cls(
            json={
                "score": score,
                "decision": decision,
                "rationale": rationale,
                "injection_suspected": False,
                "injection_evidence": "",
                "evidence": evidence or [],
            }
        )


@dataclass(frozen=True)
class Timing:
    """How long a Messages call takes, modelled on the real API rather than one flat latency.

    Time to first token is a fixed overhead plus the prefill of the input, where input read from
    the cache costs a tenth or less of fresh input; the rest of the call is generation at a steady
    rate per output token. The defaults are round figures for a Sonnet-class model: a 20k-token
    prefill in 0.8 s, about 70 output tokens a second.
    """

    overhead: float = 0.3  # seconds before the first token, whatever the request
    per_input_token: float = 40e-6  # uncached input and cache writes
    per_cached_token: float = 4e-6  # input read from the cache
    per_output_token: float = 1 / 70

    def split(self, usage: dict[str, Any]) -> tuple[float, float]:
        """(time to first token, generation time) of a reply with this usage."""
        fresh = usage["input_tokens"] + usage.get("cache_creation_input_tokens", 0)
        cached = usage.get("cache_read_input_tokens", 0)
        ttft = self.overhead + fresh * self.per_input_token + cached * self.per_cached_token
        return ttft, usage["output_tokens"] * self.per_output_token

    def describe(self) -> str:
        """The model in one line, for a benchmark's output."""
        return (
            f"time to first token {self.overhead:g} s + {self.per_input_token * 1e6:g} µs per "
            f"input token ({self.per_cached_token * 1e6:g} µs cached), then "
            f"{1 / self.per_output_token:.0f} output tokens/s"
        )


class FakeState:
    """The knobs, the observations and the script of a fake; the scripting methods."""

    def __init__(
        self,
        *,
        api_key: str = "test-key",
        latency: tuple[float, float] = (0.0, 0.0),
        timing: Timing | None = None,
        rpm_limit: int | None = None,
        min_cache_tokens: int | None = None,
        seed: int = 0,
    ) -> None:
        self.api_key = api_key
        self.latency = latency  # seconds a call takes, drawn in (lo, hi); a stream opens at a fifth
        self.timing = timing  # when set, durations follow the tokens of each call instead
        self.rpm_limit = rpm_limit
        self.rpm_window = 60.0  # seconds; shorten it in tests that wait for the window
        self.min_cache_tokens = min_cache_tokens  # None: each model's own minimum, as the API
        # The API's ceilings (fake_limits), as knobs so a test can reach them cheaply.
        self.max_request_bytes = fake_limits.MAX_REQUEST_BYTES  # a Messages body; 413 above
        self.context_window = fake_limits.CONTEXT_WINDOW  # input tokens; 400 above
        self.storage_quota_bytes = 100 * 1024**3  # the organisation's Files storage; 400 above
        self.clock_offset = 0.0  # seconds added to the batch clock (`advance_clock`)
        self.seed = seed
        self.batch_delay = 0.2
        self.batch_create_delay = 0.0  # seconds a create takes; the batch exists only after it
        self.batch_creates_started = 0
        self.upload_delay = 0.0  # seconds an upload takes before it is stored (a race's window)
        self.uploads_started = 0  # upload requests received, answered or not (`hold_uploads`)
        self._uploads_open = threading.Event()  # cleared by `hold_uploads`
        self._uploads_open.set()
        self.url = ""
        # observation
        self.uploads: list[dict[str, Any]] = []
        self.files: dict[str, dict[str, Any]] = {}
        self.message_requests: list[dict[str, Any]] = []
        self.requests: list[tuple[str, str, int]] = []
        self.count_429 = 0
        self.peak_in_flight = 0
        self.in_flight = 0
        self.batches: dict[str, dict[str, Any]] = {}
        # scripting and internals
        self._lock = threading.RLock()
        self._rng = random.Random(seed)
        self._scripts: dict[str, deque[Reply]] = {}
        self._scores: dict[str, tuple[int, str | None]] = {}
        self._faults: list[dict[str, Any]] = []
        self._inventions: list[dict[str, Any]] = []  # invent_quote: quotes no document holds
        self._batch_faults: list[dict[str, Any]] = []
        # Faults of the next results downloads: ("stall", lines sent first) or ("garble", line).
        self._results_faults: deque[tuple[str, int]] = deque()
        self._stopping = threading.Event()  # a stalled download gives up when the fake stops
        self.models = set(MODELS)  # any other model id is a 404, as on the real API
        # False: no Files API, as on Ollama, vLLM and llama.cpp (/v1/files answers 404, and a
        # file document block is refused).
        self.files_api = True
        self.token_counts = 0  # requests to /v1/messages/count_tokens
        self.thinking = True  # a third of default replies start with a thinking block
        # Pairwise answers (a schema with a first/second `pick`): by default each persona prefers
        # one tool's documents whatever their order; "first" picks whichever came first (a
        # position bias); `pairwise_prefer` makes the group whose documents contain it win.
        self.pairwise_bias: str | None = None
        self.pairwise_prefer: str | None = None
        self._stream_faults: deque[str] = deque()  # "overloaded" | "cut", for the next streams
        self._upload_drops = 0  # uploads stored, then the connection reset before the answer
        self._trickles: deque[float] = deque()  # next replies sent a byte per this many seconds
        self._stopping = threading.Event()  # a trickle stops when the server does
        self._message_dead: set[str] = set()  # expired files: metadata readable, messages 404
        self._file_bytes: dict[str, bytes] = {}
        self._cache: dict[str, dict[str, Any]] = {}  # prefix hash -> {"readable", "expires"}
        # Per model class: (requests, input tokens, output tokens) a window; "*" for any class.
        self.limits: dict[str, tuple[float, float, float]] = {}
        self._windows: dict[str, dict[str, deque[list[Any]]]] = {}
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- scripting -----------------------------------------------------------------------

    def script(self, match: str, *replies: Reply) -> None:
        """Queue replies for message requests whose text contains `match`, used in order."""
        with self._lock:
            self._scripts.setdefault(match, deque()).extend(replies)

    def set_score(self, match: str, score: int, decision: str | None = None) -> None:
        """Make the default responder use this score (and decision) for matching requests."""
        with self._lock:
            self._scores[match] = (score, decision)

    def fail_next(
        self,
        status: int,
        count: int = 1,
        *,
        path: str = "/v1/messages",
        retry_after: float | None = None,
    ) -> None:
        """Answer the next `count` requests to `path` with `status`; `prefix*` matches a prefix."""
        with self._lock:
            self._faults.append(
                {"status": status, "count": count, "path": path, "retry_after": retry_after}
            )

    def invent_quote(self, match: str = "", count: int = 1, quote: str = INVENTED_QUOTE) -> None:
        """Make the next `count` default verdicts whose request text contains `match` add a quote
        that no document holds, as a model that makes one up would."""
        with self._lock:
            self._inventions.append({"match": match, "count": count, "quote": quote})

    def _invention(self, text: str) -> str | None:
        with self._lock:
            for item in self._inventions:
                if item["count"] > 0 and item["match"] in text:
                    item["count"] -= 1
                    return str(item["quote"])
        return None

    def delete_file(self, file_id: str) -> None:
        """Delete a file behind the client's back, as expiry or another process would."""
        with self._lock:
            self.files.pop(file_id, None)
            self._file_bytes.pop(file_id, None)

    def fail_stream(self, kind: str = "overloaded", count: int = 1) -> None:
        """The next `count` streamed replies fail after `message_start`: an `error` event with
        `overloaded_error` (`kind="overloaded"`), or the connection reset mid-stream (`"cut"`)."""
        assert kind in ("overloaded", "cut")
        with self._lock:
            self._stream_faults.extend([kind] * count)

    def trickle_next(self, count: int = 1, interval: float = 2.0) -> None:
        """Send the next `count` Messages replies (streamed or not) one byte every `interval`
        seconds: never silent for long enough to hit a read timeout, and never done."""
        with self._lock:
            self._trickles.extend([interval] * count)

    def hold_uploads(self) -> None:
        """Keep every upload from here on waiting, unstored, until `release_uploads`: a race's
        window held open for as long as a test needs to see the other callers arrive."""
        self._uploads_open.clear()

    def release_uploads(self) -> None:
        self._uploads_open.set()

    def drop_next_upload(self, count: int = 1) -> None:
        """Store the next `count` uploads, then reset the connection before answering."""
        with self._lock:
            self._upload_drops += count

    def expire_file(self, file_id: str) -> None:
        """Expire a file server-side: its metadata is still readable, Messages answer 404."""
        with self._lock:
            self._message_dead.add(file_id)

    def expire_in_batch(self, custom_id_substring: str, count: int = 1) -> None:
        """Make the next `count` batch requests whose custom_id matches come back expired."""
        with self._lock:
            self._batch_faults.append(
                {"match": custom_id_substring, "count": count, "result": {"type": "expired"}}
            )

    def error_in_batch(
        self, custom_id_substring: str, error_type: str = "overloaded_error", count: int = 1
    ) -> None:
        """Make the next `count` matching batch requests come back errored with `error_type`."""
        error = {
            "type": "error",
            "error": {"type": error_type, "message": "Injected error"},
            "request_id": _new_id("req"),
        }
        with self._lock:
            self._batch_faults.append(
                {
                    "match": custom_id_substring,
                    "count": count,
                    "result": {"type": "errored", "error": error},
                }
            )

    def stall_results(self, after: int, count: int = 1) -> None:
        """The next `count` results downloads send `after` lines, then nothing, never closing
        (a stalled proxy or connection): the client's read timeout is what ends them."""
        with self._lock:
            self._results_faults.extend([("stall", after)] * count)

    def garble_results(self, line: int = 0, count: int = 1) -> None:
        """In the next `count` results downloads, line `line` (0-based) is cut in half: a
        truncated JSONL line in an otherwise whole file."""
        with self._lock:
            self._results_faults.extend([("garble", line)] * count)

    def advance_clock(self, seconds: float) -> None:
        """Move the batch clock on, e.g. past a batch's 24 h (its unfinished requests expire)."""
        with self._lock:
            self.clock_offset += seconds

    def _clock(self) -> float:
        return time.time() + self.clock_offset

    def _min_cache(self, model: str) -> int:
        """The shortest prefix the model caches: the knob when set, else the model's own."""
        if self.min_cache_tokens is not None:
            return self.min_cache_tokens
        return fake_limits.min_cache_tokens(_model_class(model))

    def clear_cache(self) -> None:
        """Forget every prompt-cache entry, as if the TTL had passed."""
        with self._lock:
            self._cache.clear()
