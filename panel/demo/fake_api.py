"""An in-process fake of the Anthropic HTTP API, for tests that drive the real SDK.

Why a server and not a mock transport: end-to-end tests run the `panel` command in a
subprocess, which can only be pointed at a URL (`ANTHROPIC_BASE_URL`). The fake mimics the
parts of the API that `panel` relies on (files, messages with structured output, prompt
caching, rate limits, faults, message batches) closely enough that the SDK parses every
reply, and records what it saw so tests can assert on it.

    with FakeAnthropic(latency=(0.01, 0.03)) as fake:
        fake.script("persona: skeptic", Reply.verdict(30, "skip"))
        client = anthropic.Anthropic(api_key="test-key", base_url=fake.url)
"""

from __future__ import annotations

import contextlib
import email.parser
import email.policy
import hashlib
import html
import json
import math
import mimetypes
import random
import re
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from panel.demo import fake_limits

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}
ERROR_TYPES.update({k: v for k, v in fake_limits.EXTRA_ERROR_TYPES.items() if v != "api_error"})
STATUS_FOR_ERROR = {v: k for k, v in ERROR_TYPES.items()}
SAMPLING_PARAMS = ("temperature", "top_p", "top_k")
DOCUMENT_MIME_TYPES = ("application/pdf", "text/plain")
IMAGE_MIME_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")
IMAGE_TOKENS = 1600  # a typical ~1.2-megapixel image; the real count depends on its size
MAX_CACHE_BREAKPOINTS = 4
CUSTOM_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
TRAILING_WORDS = {"a", "an", "the", "in", "of", "to", "and", "or", "for", "with", "that", "into"}
PERSONA_IN_TEXT = re.compile(r"as the (\w+)\.?\s*$", re.MULTILINE)
HEADING_LINE = re.compile(r"^\s*(#{1,6}\s|Title:|Description:)")
SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+")
INLINE_TITLE = re.compile(r'<document title="([^"]*)"')
# What `invent_quote` makes a verdict quote: words no document of a test or the demo holds.
INVENTED_QUOTE = "It is the only tool that ever needs zero configuration on every platform."
PRICE_WORDS = re.compile(r"\$|\bfree\b|\bpric|\bper seat\b|\bplan\b|\blicen", re.IGNORECASE)
AUDIENCE_WORDS = re.compile(
    r"\b(?:for|at) (?:\w+ ){0,3}?(teams|developers|engineers|people|anyone|small|large)\b", re.I
)
AUDIENCE_LEAD = re.compile(r"^.*?\b(?:built|aimed|made|designed|meant) (?:for|at) ", re.I)
# Templates for the fake's default rationales, one voice per persona: {s} the tool, {a} a sentence
# of its documents. The last two close a ship and a skip.
PERSONA_LENSES = {
    "builder": (
        "The primitive here is the one the documents lead with: {a}.",
        "The developer-experience bet is that {a}, and that is the right call for a tool like {s}.",
        "The moment of truth is the first real task, and the material suggests it holds: {a}.",
        "The decision that earns the ship is that {s} keeps its core small and usable on day one.",
        "What keeps it from a ship is that {s} still reads like a weekend script with a landing "
        "page; the primitive needs to prove itself on a real codebase first.",
    ),
    "skeptic": (
        "The direct competitors are the incumbents any buyer already runs, and {s} has to beat "
        "them on one axis; the documents stake it on this: {a}.",
        "The scenario where it breaks is scale and edge cases, which the material barely covers "
        "beyond the claim that {a}.",
        "What kills it in 12 months is a larger platform shipping the same feature; what must "
        "hold true is that {a}.",
        "On balance the evidence is specific enough to ship, with that risk written down.",
        "Until that holds, this is a skip: the claims are plausible but untested.",
    ),
    "founder": (
        "The buyer is a team lead with a tooling budget, and the pitch to them is that {a}.",
        "The pricing architecture follows from the documents: {a}.",
        "The moat is workflow lock-in rather than technology, since {a}.",
        "The stress test is whether it survives cheaper copies; the business case is strong "
        "enough to ship.",
        "The stress test fails for now: nothing here stops a cheaper copy from taking the buyer.",
    ),
    "futurist": (
        "The thesis {s} bets on is that developer tooling keeps moving this way: {a}.",
        "The dependency that has to hold is that {a}.",
        "The second-order effect, if it wins, is that teams stop building this themselves, "
        "because {a}.",
        "It is on time: the trend is already here, and {s} meets it.",
        "It is early: the trend it needs has not arrived, and {s} would wait for it.",
    ),
}
SENTENCES = (
    "The tool does what its README promises and installs cleanly.",
    "Documentation covers the common paths but thins out at the edges.",
    "Maintenance looks active, with recent releases and triaged issues.",
    "The API surface is small and consistent, which keeps adoption cheap.",
    "Error messages are specific enough to act on without reading the source.",
    "Test coverage of the core looks solid; integrations are less covered.",
    "Licensing is permissive and compatible with commercial use.",
    "Performance is adequate for the stated use, though not benchmarked here.",
)


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


class ApiError(Exception):
    """An error response: the status picks the error type unless one is given."""

    def __init__(
        self,
        status: int,
        message: str,
        error_type: str | None = None,
        headers: dict[str, str] | None = None,
        error_code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type or ERROR_TYPES.get(status, "api_error")
        self.message = message
        self.headers = headers or {}
        self.error_code = error_code  # `error.details.error_code`: the SDK's finer exception


@dataclass
class _Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes
    params: dict[str, str] = field(default_factory=dict)

    def json(self) -> dict[str, Any]:
        try:
            data = json.loads(self.body or b"{}")
        except ValueError as exc:
            raise ApiError(400, f"Request body is not valid JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise ApiError(400, "Request body must be a JSON object")
        return data


@dataclass
class _Response:
    status: int
    body: Any  # JSON-able, or bytes sent as is
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"
    events: Iterator[bytes] | None = None  # a server-sent event stream, written as it is produced
    cut: bool = False  # reset the connection instead of answering


class _Cut(Exception):
    """Raised inside an event stream: the connection is reset mid-stream."""


def _new_id(prefix: str) -> str:
    return f"{prefix}_01{random.getrandbits(96):024x}"


def _rfc3339(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


def _tokens(chars: int | float) -> int:
    """The usual ~4 characters a token."""
    return math.ceil(chars / 4)


def _error_body(err: ApiError, request_id: str) -> dict[str, Any]:
    error: dict[str, Any] = {"type": err.error_type, "message": err.message}
    if err.error_code is not None:
        error["details"] = {"error_code": err.error_code}
    return {"type": "error", "error": error, "request_id": request_id}


def _request_text(params: dict[str, Any]) -> str:
    """System plus every text block of the messages: what `script` and `set_score` match."""
    parts: list[str] = []
    system = params.get("system")
    for block in [system] if isinstance(system, str) else system or []:
        parts.append(block if isinstance(block, str) else str(block.get("text", "")))
    for message in params.get("messages") or []:
        content = message.get("content") if isinstance(message, dict) else None
        for block in [content] if isinstance(content, str) else content or []:
            if isinstance(block, str):
                parts.append(block)
            elif isinstance(block, dict) and block.get("type") == "text":
                parts.append(str(block.get("text", "")))
    return "\n".join(parts)


# How panel's prompts name the tool under review ("Tool under review: X", "tool card for X. ").
SUBJECT = re.compile(r"(?:Tool under review: |tool card for )([^\n]+?)(?:\.\s|\n|$)")
# What the prompts say when the user gave no name; the model then names the tool from the documents.
UNNAMED_SUBJECT = "the tool described in the documents"
MODELS = ("claude-opus-5-5", "claude-sonnet-5-5", "claude-haiku-5-5")
# A generous organisation (tier 4) unless a test sets `limits` or `rpm_limit`.
DEFAULT_LIMITS = (4000, 2_000_000, 400_000)


def _model_class(model: str) -> str:
    found = re.search(r"(opus|sonnet|haiku)", model)
    return found.group(1) if found else model


THOUGHT = "Weighing the documents against this lens before answering."
SENTENCE_SUBJECT = re.compile(r"\s*([A-Z][\w.+-]*(?: [A-Z][\w.+-]*){0,2}) (?:is|are) ")
DOCUMENT_HEADING = re.compile(r"^(?:#{1,3}\s+|Title:\s+)(.+?)\s*#*\s*$", re.MULTILINE)


TAGLINE_WORDS = 14  # the card asks for a tagline under 15 words
CLAUSE_END = re.compile(r",\s|;\s|:\s|\s[—–-]\s|\s(?:so|because|while|which)\s")
LOCATIVE = re.compile(
    r"\s(?:in|on|at|across|within)\s(?:\S+\s){0,3}?\S+(?=\s(?:into|to|and|by|for|with|from)\s|$)"
)
CUT_BEFORE = re.compile(r"\s(?:and|that|with|by|for|from)\s")
PRICE_USAGE = re.compile(
    r"\bper (?:token|request|call|minute|hour|gb|1,?000)|\busage|\bpay as you go|\bmetered", re.I
)
PRICE_MONEY = re.compile(
    r"\$\s?\d|\bcosts?\b|\bpaid\b|\bsubscription|\bper (?:seat|user|month)", re.I
)
PRICE_FREE = re.compile(r"\bfree\b", re.I)
PRICE_OPEN = re.compile(r"\bopen[- ]source\b|\bMIT\b|\bApache\b|\bGPL", re.I)


def _fragment(line: str) -> bool:
    """A heading-like line (short, no closing stop), which a reader does not glue to the next
    sentence ("Beacon" above "Beacon is ..." is not "Beacon Beacon is")."""
    text = line.strip()
    return len(text.split()) < 6 and not text.endswith((".", "!", "?", ":"))


def tagline(sentence: str) -> str:
    """A whole phrase of under 15 words from a tool's first sentence, as a careful editor cuts it:
    the predicate ("Tern is a CLI that ..." -> "A CLI that ..."), up to its first clause break,
    without locative asides ("in a repository"), else cut before a joining word."""
    text = sentence.strip().rstrip(".!")
    found = SENTENCE_SUBJECT.match(text)
    if found:
        text = text[found.end() :]
    text = CLAUSE_END.split(text, maxsplit=1)[0]
    while len(text.split()) > TAGLINE_WORDS:
        shortest = min(LOCATIVE.finditer(text), key=lambda m: len(m.group()), default=None)
        if shortest is None:
            break
        text = text[: shortest.start()] + text[shortest.end() :]
    while len(text.split()) > TAGLINE_WORDS:
        cuts = [m.start() for m in CUT_BEFORE.finditer(text)]
        if not cuts:
            text = " ".join(text.split()[:TAGLINE_WORDS])
            break
        text = text[: cuts[-1]]
    words = text.split()
    while len(words) > 1 and words[-1].lower() in TRAILING_WORDS:
        words.pop()
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def pricing_model(priced: str) -> str:
    """The pricing model a reader infers from the pricing sentences: metered use is usage-based,
    a price beside something free is freemium, a price alone is paid, free and open is open source."""
    money, free = PRICE_MONEY.search(priced), PRICE_FREE.search(priced)
    if PRICE_USAGE.search(priced):
        return "usage-based"
    if money and (free or PRICE_OPEN.search(priced)):
        return "freemium"
    if money:
        return "paid"
    if PRICE_OPEN.search(priced):
        return "open source"
    return "free" if free else "unknown"


class _SchemaFaker:
    """Builds a plausible JSON value for a JSON schema, deterministic per request."""

    def __init__(
        self,
        root: dict[str, Any],
        rng: random.Random,
        score: int,
        decision: str | None,
        subject: str = "Example Tool",
    ) -> None:
        self.root, self.rng, self.score, self.decision = root, rng, score, decision
        self.subject = subject  # what a `name` field says: the tool the request is about
        self.facts: list[str] = []  # sentences of the documents, for text that reads like a review
        self.origin: dict[str, str] = {}  # each fact's document, as the request titled it
        self.persona: str | None = None
        self.invented: str | None = None  # a quote no document holds, for `invent_quote`
        self.quoted: list[str] = []  # the facts the rationale used: its evidence

    def read(self, documents: list[tuple[str, str]], persona: str | None) -> None:
        """Take sentences from the documents (title, text) and the persona's name, as a model would."""
        self.persona = persona
        for title, text in documents:
            body = "\n".join(
                line
                for line in text.splitlines()
                if line.strip() and not HEADING_LINE.match(line) and not _fragment(line)
            )
            for sentence in SENTENCE_SPLIT.split(" ".join(body.split())):
                if 6 <= len(sentence.split()) <= 40 and sentence not in self.facts:
                    self.facts.append(sentence.rstrip())
                    self.origin.setdefault(sentence.rstrip(), title)
        self.facts = self.facts[:12]

    def evidence(self) -> list[dict[str, str]]:
        """The quotes behind the rationale, copied from their documents as a careful model would
        (whitespace as the document has it collapsed); plus an invented one when asked for."""
        quotes = [{"quote": f, "document": self.origin.get(f, "1")} for f in self.quoted[:3]]
        if not quotes and self.facts:
            quotes = [{"quote": self.facts[0], "document": self.origin.get(self.facts[0], "1")}]
        if self.invented is not None:
            document = quotes[0]["document"] if quotes else "1"
            quotes.append({"quote": self.invented, "document": document})
        return quotes

    def value(self, schema: dict[str, Any], name: str = "") -> Any:
        if "$ref" in schema:
            return self.value(self._resolve(schema["$ref"]), name)
        if "const" in schema:
            return schema["const"]
        if "enum" in schema:
            return self._enum(list(schema["enum"]), name)
        for key in ("anyOf", "oneOf"):
            if key in schema:
                options = [s for s in schema[key] if s.get("type") != "null"] or schema[key]
                return self.value(options[0], name)
        kind = schema.get("type")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "null")
        if kind == "object" or "properties" in schema:
            props = schema.get("properties", {})
            return {key: self.value(sub, key) for key, sub in props.items()}
        if kind == "array" and name == "evidence":  # after the rationale, whose facts it quotes
            return self.evidence()
        if kind == "array":
            count = max(int(schema.get("minItems", 0)), 2)
            return [self.value(schema.get("items", {}), name) for _ in range(count)]
        if kind in ("integer", "number"):
            return self.score if name == "score" else self.rng.randint(1, 10)
        if kind == "boolean":
            return False
        if kind == "null":
            return None
        return self._string(name)

    def _resolve(self, ref: str) -> dict[str, Any]:
        node: Any = self.root
        for part in ref.removeprefix("#/").split("/"):
            node = node[part]
        return node

    def _enum(self, options: list[Any], name: str) -> Any:
        if name == "decision" and self.decision in options:
            return self.decision
        if name == "pricing_model" and self.facts:
            found = pricing_model(" ".join(f for f in self.facts if PRICE_WORDS.search(f)))
            if found in options:
                return found
        if {"ship", "skip"} <= set(options):
            return "ship" if self.score >= 60 else "skip"
        return options[0]

    def _string(self, name: str) -> str:
        if "evidence" in name:
            return ""
        if name == "name":
            return self.subject
        if self.facts:
            card = self._card_field(name)
            if card is not None:
                return card
            if name == "rationale":
                return self._rationale()
        count = 3 if name in ("rationale", "reasoning", "summary") else 1
        return " ".join(self.rng.sample(SENTENCES, count))

    def _clause(self, sentence: str) -> str:
        """A sentence to quote mid-paragraph: no final stop, and a lower-case first word unless
        it is the tool's name ("It is built..." -> "it is built...")."""
        text = sentence.rstrip(".")
        first = text.split(" ", 1)[0]
        if first == self.subject or (len(first) > 1 and first.isupper()):
            return text
        return text[:1].lower() + text[1:]

    def _card_field(self, name: str) -> str | None:
        """A tool card's fields, read off the documents the way a careful reader would."""
        facts = self.facts
        if name == "tagline":
            return tagline(facts[0])
        if name == "description":
            return " ".join(facts[:3])
        if name == "pricing_summary":
            priced = [f for f in facts if PRICE_WORDS.search(f)]
            return " ".join(priced[:2]) if priced else "Not stated in the documents."
        if name == "best_for":
            aimed = [f for f in facts if AUDIENCE_WORDS.search(f)]
            if not aimed:
                return f"Teams evaluating {self.subject} for daily work."
            who = AUDIENCE_LEAD.sub("", aimed[0])  # "It is built for small teams" -> "small teams"
            return who[:1].upper() + who[1:]
        return None

    def _rationale(self) -> str:
        """One dense paragraph in the persona's voice, built from the documents' own sentences."""
        lens = PERSONA_LENSES.get((self.persona or "").lower(), PERSONA_LENSES["builder"])
        if not self.quoted:
            self.quoted = self.rng.sample(self.facts, min(3, len(self.facts)))
        quoted = [self._clause(f) for f in self.quoted]
        ship = (self.decision or ("ship" if self.score >= 60 else "skip")) == "ship"
        parts = [lens[0].format(s=self.subject, a=quoted[0])]
        if len(quoted) > 1:
            parts.append(lens[1].format(s=self.subject, a=quoted[1]))
        if len(quoted) > 2:
            parts.append(lens[2].format(s=self.subject, a=quoted[2]))
        parts.append((lens[3] if ship else lens[4]).format(s=self.subject))
        return " ".join(parts)


def _is_pairwise(schema: dict[str, Any]) -> bool:
    """A schema asking which of two tools to pick by position (panel's PairwisePick)."""
    pick = (schema.get("properties") or {}).get("pick") or {}
    return {"first", "second"} <= set(pick.get("enum") or ())


def _group_subject(texts: list[str]) -> str | None:
    """What a reader calls the tool a group of documents is about: its first heading."""
    for text in texts:
        heading = DOCUMENT_HEADING.search(text)
        if heading:
            return heading.group(1).strip()
        sentence = SENTENCE_SUBJECT.match(text)
        if sentence:
            return sentence.group(1)
    return None


def _first_fact(texts: list[str]) -> str:
    """The first sentence of a group's documents that reads like a claim, as a clause."""
    for text in texts:
        body = " ".join(
            line for line in text.splitlines() if line.strip() and not HEADING_LINE.match(line)
        )
        for sentence in SENTENCE_SPLIT.split(" ".join(body.split())):
            if 6 <= len(sentence.split()) <= 40:
                return sentence.rstrip()
    return "the documents say little about it."


class FakeAnthropic:
    """The fake server plus the state tests script and inspect (all access under one lock)."""

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
        self._routes: list[tuple[str, re.Pattern[str], Callable[[_Request], _Response]]] = [
            (m, re.compile(p + "$"), h)
            for m, p, h in (
                ("POST", "/v1/messages", self._messages),
                ("POST", "/v1/messages/count_tokens", self._count_tokens),
                ("POST", "/v1/messages/batches", self._batch_create),
                ("GET", "/v1/messages/batches", self._batch_list),
                ("GET", "/v1/messages/batches/(?P<id>[^/]+)", self._batch_get),
                ("DELETE", "/v1/messages/batches/(?P<id>[^/]+)", self._batch_delete),
                ("POST", "/v1/messages/batches/(?P<id>[^/]+)/cancel", self._batch_cancel),
                ("GET", "/v1/messages/batches/(?P<id>[^/]+)/results", self._batch_results),
                ("POST", "/v1/files", self._file_upload),
                ("GET", "/v1/files", self._file_list),
                ("GET", "/v1/files/(?P<id>[^/]+)", self._file_get),
                ("DELETE", "/v1/files/(?P<id>[^/]+)", self._file_delete),
                ("GET", "/v1/files/(?P<id>[^/]+)/content", self._file_content),
            )
        ]

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> FakeAnthropic:
        """Listen on a free 127.0.0.1 port in a daemon thread."""
        self._stopping.clear()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.fake = self  # type: ignore[attr-defined]
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, daemon=True, kwargs={"poll_interval": 0.05}
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeAnthropic:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

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

    # -- HTTP plumbing -------------------------------------------------------------------

    def handle(self, req: _Request) -> _Response:
        """Authenticate, apply injected faults, route; every failure becomes error JSON."""
        request_id = _new_id("req")
        try:
            self._check_auth(req)
            handler = self._route(req)
            self._check_size(req)
            self._take_fault(req)
            resp = handler(req)
        except ApiError as err:
            resp = _Response(err.status, _error_body(err, request_id), err.headers)
        resp.headers["request-id"] = request_id
        self._add_limit_headers(req, resp)
        with self._lock:
            self.requests.append((req.method, req.path, resp.status))
            if resp.status == 429:
                self.count_429 += 1
        return resp

    def _check_size(self, req: _Request) -> None:
        """413 `request_too_large` for a body over the endpoint's limit, before it is read."""
        limit = {
            "/v1/messages": self.max_request_bytes,
            "/v1/messages/count_tokens": self.max_request_bytes,
            "/v1/messages/batches": fake_limits.MAX_BATCH_BYTES,
            "/v1/files": fake_limits.MAX_FILE_BYTES,
        }.get(req.path)
        if limit is not None and req.method == "POST" and len(req.body) > limit:
            raise ApiError(413, f"Request exceeds the maximum allowed number of bytes ({limit})")

    def _add_limit_headers(self, req: _Request, resp: _Response) -> None:
        """What the API puts on every reply, errors included: `x-should-retry` (on errors), the
        `anthropic-ratelimit-*` headers (a snapshot where the call used no quota) and, on a 429,
        `retry-after`."""
        if resp.status >= 400:  # not on a 200: a stream's later `error` event is still retried
            hint = str(fake_limits.should_retry(resp.status)).lower()
            resp.headers.setdefault("x-should-retry", hint)
        if "anthropic-ratelimit-requests-limit" not in resp.headers:
            model = ""
            if req.path.startswith("/v1/messages") and req.method == "POST":
                with contextlib.suppress(ApiError):
                    model = str(req.json().get("model", ""))
            resp.headers.update(self._rate_snapshot(model))
        resp.headers.update(fake_limits.token_headers(resp.headers))
        if resp.status == 429:
            resp.headers.setdefault("retry-after", "1")

    def _rate_snapshot(self, model: str) -> dict[str, str]:
        """The rate-limit headers as they stand for the model's class, taking nothing."""
        now = time.monotonic()
        family = _model_class(model) if model else "sonnet"
        limits = self.limits.get(family) or self.limits.get("*") or DEFAULT_LIMITS
        if self.rpm_limit is not None:
            limits = (self.rpm_limit, limits[1], limits[2])
        headers: dict[str, str] = {}
        with self._lock:
            windows = self._windows.get(family, {})
            for kind, limit in zip(
                ("requests", "input-tokens", "output-tokens"), limits, strict=True
            ):
                live = [e for e in windows.get(kind, ()) if e[0] > now - self.rpm_window]
                full_at = (live[-1][0] + self.rpm_window - now) if live else 0.0
                prefix = f"anthropic-ratelimit-{kind}-"
                headers[prefix + "limit"] = str(int(limit))
                headers[prefix + "remaining"] = str(max(0, int(limit) - sum(e[1] for e in live)))
                headers[prefix + "reset"] = _rfc3339(time.time() + max(full_at, 0.0))
        return headers

    def _check_auth(self, req: _Request) -> None:
        bearer = req.headers.get("authorization", "")
        key = bearer.removeprefix("Bearer ") if bearer.startswith("Bearer ") else None
        key = key or req.headers.get("x-api-key")
        if key != self.api_key:
            raise ApiError(401, "invalid x-api-key")
        if not req.headers.get("anthropic-version"):
            raise ApiError(400, "anthropic-version: header is required")

    def _route(self, req: _Request) -> Callable[[_Request], _Response]:
        if not self.files_api and req.path.startswith("/v1/files"):
            raise ApiError(404, f"Not found: {req.method} {req.path}")
        for method, pattern, handler in self._routes:
            found = pattern.match(req.path)
            if found and method == req.method:
                req.params = found.groupdict()
                return handler
        raise ApiError(404, f"Not found: {req.method} {req.path}")

    def _take_fault(self, req: _Request) -> None:
        with self._lock:
            for fault in self._faults:
                path = fault["path"]
                hit = req.path.startswith(path[:-1]) if path.endswith("*") else req.path == path
                if hit and fault["count"] > 0:
                    fault["count"] -= 1
                    break
            else:
                return
        if req.path == "/v1/messages":
            self._record_message(req, fault["status"])
        headers = {}
        if fault["retry_after"] is not None:
            headers = {
                "retry-after": str(math.ceil(fault["retry_after"])),
                "retry-after-ms": str(int(fault["retry_after"] * 1000)),
            }
        raise ApiError(fault["status"], "Injected fault", headers=headers)

    def _record_message(self, req: _Request, status: int) -> dict[str, Any]:
        try:
            body = req.json()
        except ApiError:
            body = {}
        body["_status"] = status
        body["_started"] = time.monotonic()  # when it arrived; `_ended` when the answer did
        with self._lock:
            self.message_requests.append(body)
        return body

    # -- messages ------------------------------------------------------------------------

    def _messages(self, req: _Request) -> _Response:
        record = self._record_message(req, 200)
        with self._lock:
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        streaming = False
        try:
            params = req.json()
            self._validate(params)
            # As the API does: admitted on the input it will count (cache reads excluded) and on
            # max_tokens of output, corrected to the real output once the reply is made.
            headers, admitted = self._check_rate_limit(
                params["model"], self._counted_input(params), params["max_tokens"]
            )
            message, on_start = self.respond(params, service_tier="standard")
            with self._lock:
                admitted[1] = message["usage"]["output_tokens"]
            ttft, rest = self._durations(message["usage"])
            with self._lock:
                trickle = self._trickles.popleft() if self._trickles else None
            if params.get("stream"):
                streaming = True
                events = self._timed(self._stream(message, on_start, ttft, rest, record), record)
                if trickle is not None:
                    events = self._trickled(events, trickle)
                return _Response(200, b"", headers, "text/event-stream", events)
            if trickle is not None:  # no content-length: the body ends when the connection does
                body = iter([json.dumps(message).encode()])
                return _Response(200, b"", headers, events=self._trickled(body, trickle))
            time.sleep(ttft + rest)
            on_start()
            record["_ended"] = time.monotonic()
            return _Response(200, message, headers)
        except ApiError as err:
            record["_status"] = err.status
            raise
        finally:
            if not streaming:
                with self._lock:
                    self.in_flight -= 1

    def _durations(self, usage: dict[str, Any]) -> tuple[float, float]:
        """(time to first token, the rest of the call): by `timing` if set, else `latency`."""
        if self.timing is not None:
            return self.timing.split(usage)
        latency = self._rng.uniform(*self.latency)
        return latency / 5, latency * 4 / 5

    def _trickled(self, chunks: Iterator[bytes], interval: float) -> Iterator[bytes]:
        """The chunks a byte at a time, `interval` seconds apart, until the server stops."""
        for chunk in chunks:
            for i in range(len(chunk)):
                yield chunk[i : i + 1]
                if self._stopping.wait(interval):
                    return

    @staticmethod
    def _timed(events: Iterator[bytes], record: dict[str, Any]) -> Iterator[bytes]:
        try:
            yield from events
        finally:
            record["_ended"] = time.monotonic()

    def _stream(
        self,
        message: dict[str, Any],
        on_start: Callable[[], None],
        ttft: float,
        rest: float,
        record: dict[str, Any],
    ) -> Iterator[bytes]:
        """The message as server-sent events. The response has started (and the cache entries it
        wrote become readable) at `message_start`, after `ttft`; the rest follows `rest` later.
        The record gets `_opened`, when `message_start` was sent."""

        def event(kind: str, data: dict[str, Any]) -> bytes:
            return f"event: {kind}\ndata: {json.dumps({'type': kind, **data})}\n\n".encode()

        try:
            time.sleep(ttft)
            usage = message["usage"]
            start = {
                **message,
                "content": [],
                "stop_reason": None,
                "usage": {**usage, "output_tokens": 1},
            }
            yield event("message_start", {"message": start})
            record["_opened"] = time.monotonic()
            on_start()
            with self._lock:
                fault = self._stream_faults.popleft() if self._stream_faults else None
            if fault == "cut":
                raise _Cut
            if fault == "overloaded":
                body = {"type": "overloaded_error", "message": "Overloaded"}
                yield f"event: error\ndata: {json.dumps({'type': 'error', 'error': body})}\n\n".encode()
                return
            time.sleep(rest)
            for index, block in enumerate(message["content"]):
                if block["type"] == "thinking":
                    empty = {"type": "thinking", "thinking": "", "signature": ""}
                    deltas = [
                        {"type": "thinking_delta", "thinking": block["thinking"]},
                        {"type": "signature_delta", "signature": block["signature"]},
                    ]
                else:
                    empty = {"type": "text", "text": ""}
                    deltas = [{"type": "text_delta", "text": block["text"]}]
                yield event("content_block_start", {"index": index, "content_block": empty})
                for delta in deltas:
                    yield event("content_block_delta", {"index": index, "delta": delta})
                yield event("content_block_stop", {"index": index})
            final = {"stop_reason": message["stop_reason"], "stop_sequence": None}
            yield event(
                "message_delta",
                {"delta": final, "usage": {"output_tokens": usage["output_tokens"]}},
            )
            yield event("message_stop", {})
        finally:
            with self._lock:
                self.in_flight -= 1

    def _check_rate_limit(
        self, model: str, tokens_in: int, tokens_out: int
    ) -> tuple[dict[str, str], list[Any]]:
        """Sliding-window limits per model class, as the API counts them: requests, input tokens
        (cache reads excluded) and output tokens a minute, with the `anthropic-ratelimit-*`
        headers on every answer, a 429 among them."""
        now = time.monotonic()
        family = _model_class(model)
        limits = self.limits.get(family) or self.limits.get("*") or DEFAULT_LIMITS
        if self.rpm_limit is not None:
            limits = (self.rpm_limit, limits[1], limits[2])
        wanted = {"requests": 1, "input-tokens": tokens_in, "output-tokens": tokens_out}
        headers: dict[str, str] = {}
        refused: float | None = None
        output_entry: list[Any] = [now, tokens_out]
        with self._lock:
            windows = self._windows.setdefault(family, {k: deque() for k in wanted})
            used: dict[str, int] = {}
            for kind, limit in zip(wanted, limits, strict=True):
                window = windows[kind]
                while window and window[0][0] <= now - self.rpm_window:
                    window.popleft()
                used[kind] = sum(entry[1] for entry in window)
                if used[kind] + wanted[kind] > limit and window:
                    wait = window[0][0] + self.rpm_window - now

                    refused = max(refused or 0.0, wait)
            for kind, limit in zip(wanted, limits, strict=True):
                window = windows[kind]
                if refused is None:
                    window.append(output_entry if kind == "output-tokens" else [now, wanted[kind]])
                    used[kind] += wanted[kind]
                full_at = (window[-1][0] + self.rpm_window - now) if window else 0.0
                prefix = f"anthropic-ratelimit-{kind}-"
                headers[prefix + "limit"] = str(int(limit))
                headers[prefix + "remaining"] = str(max(0, int(limit) - used[kind]))
                headers[prefix + "reset"] = _rfc3339(time.time() + max(full_at, 0.0))
        if refused is not None:
            headers["retry-after"] = str(max(1, math.ceil(refused)))
            raise ApiError(429, "Number of requests has exceeded your rate limit", headers=headers)
        return headers, output_entry

    def _counted_input(self, params: dict[str, Any]) -> int:
        """The input tokens a request counts against the limit: all but a readable cached prefix."""
        blocks = self._blocks(params)
        total = running = read = 0
        now = time.monotonic()
        for i, (tokens, _, cache_control) in enumerate(blocks):
            running += tokens
            total += tokens
            if cache_control and running >= self._min_cache(params["model"]):
                key = self._prefix_key(params["model"], blocks[: i + 1])
                with self._lock:
                    entry = self._cache.get(key)
                if entry and entry["readable"] and entry["expires"] >= now:
                    read = running
        return total - read + fake_limits.schema_tokens(params)

    def respond(
        self, params: dict[str, Any], service_tier: str = "standard"
    ) -> tuple[dict[str, Any], Callable[[], None]]:
        """Validate one messages body and build the Message; the callback opens the cache."""
        self._validate(params)
        text = _request_text(params)
        reply = self._next_script(text)
        if reply is not None and reply.status != 200:
            raise ApiError(reply.status, reply.text or "Scripted error")
        content, stop_reason = self._content(params, text, reply)
        usage, written = self._usage(params)
        out_chars = sum(len(block.get("text") or block.get("thinking") or "") for block in content)
        usage.update(output_tokens=max(1, _tokens(out_chars)), service_tier=service_tier)
        message = {
            "id": _new_id("msg"),
            "type": "message",
            "role": "assistant",
            "model": params["model"],
            "content": content,
            "stop_reason": stop_reason,
            "stop_sequence": None,
            "usage": usage,
        }
        if stop_reason == "refusal":
            message["stop_details"] = {"type": "refusal", "category": None, "explanation": None}

        def on_start() -> None:
            with self._lock:
                for key in written:
                    if key in self._cache:
                        self._cache[key]["readable"] = True

        return message, on_start

    def _validate(self, params: dict[str, Any]) -> None:
        for name in ("model", "max_tokens", "messages"):
            if name not in params:
                raise ApiError(400, f"{name}: Field required")
        if params["model"] not in self.models:
            raise ApiError(404, f"model: {params['model']}")
        if not isinstance(params["max_tokens"], int) or params["max_tokens"] < 1:
            raise ApiError(400, "max_tokens: must be a positive integer")
        ceiling = fake_limits.max_output_tokens(_model_class(params["model"]))
        if params["max_tokens"] > ceiling:
            raise ApiError(
                400,
                f"max_tokens: {params['max_tokens']} > {ceiling}, which is the maximum allowed "
                f"number of output tokens for {params['model']}",
            )
        if not isinstance(params["messages"], list) or not params["messages"]:
            raise ApiError(400, "messages: at least one message is required")
        for name in SAMPLING_PARAMS:
            if name in params:
                raise ApiError(400, f"{name}: Extra inputs are not permitted")
        if (params.get("tool_choice") or {}).get("type") in ("tool", "any"):
            raise ApiError(
                400,
                "Forced tool use is not supported with this model; "
                "use structured outputs (output_config.format) instead.",
            )
        fmt = (params.get("output_config") or {}).get("format")
        if fmt is not None and (
            fmt.get("type") != "json_schema" or not isinstance(fmt.get("schema"), dict)
        ):
            raise ApiError(400, "output_config.format: expected {type: json_schema, schema: {...}}")
        blocks = self._blocks(params)
        if sum(1 for b in blocks if b[2]) > MAX_CACHE_BREAKPOINTS:
            raise ApiError(400, "A maximum of 4 blocks with cache_control may be provided.")
        prompt = sum(b[0] for b in blocks) + fake_limits.schema_tokens(params)
        if prompt > self.context_window:
            raise ApiError(
                400, f"prompt is too long: {prompt} tokens > {self.context_window} maximum"
            )
        for message in params["messages"]:
            if not isinstance(message, dict) or message.get("role") not in ("user", "assistant"):
                raise ApiError(400, "messages: each message needs role user or assistant")
            content = message.get("content")
            for block in content if isinstance(content, list) else []:
                self._validate_block(block, structured=fmt is not None)

    def _validate_block(self, block: dict[str, Any], *, structured: bool) -> None:
        kind, source = block.get("type"), block.get("source") or {}
        if kind not in ("document", "image"):
            return
        if kind == "document" and structured and (block.get("citations") or {}).get("enabled"):
            raise ApiError(400, "Citations cannot be combined with structured outputs.")
        if source.get("type") != "file":
            return
        if not self.files_api:
            raise ApiError(400, "source.type: file is not supported by this server")
        with self._lock:
            meta = self._live_file(source.get("file_id", ""))
            if source.get("file_id") in self._message_dead:
                meta = None
        if meta is None:
            raise ApiError(404, f"File not found: {source.get('file_id')}")
        allowed = DOCUMENT_MIME_TYPES if kind == "document" else IMAGE_MIME_TYPES
        if meta["mime_type"] not in allowed:
            raise ApiError(
                400,
                f"File {meta['id']} has type {meta['mime_type']}; "
                f"a {kind} block accepts {', '.join(allowed)}",
            )

    def _next_script(self, text: str) -> Reply | None:
        with self._lock:
            for match, queue in self._scripts.items():
                if queue and match in text:
                    return queue.popleft()
        return None

    def _content(
        self, params: dict[str, Any], text: str, reply: Reply | None
    ) -> tuple[list[dict[str, Any]], str]:
        """The reply's content blocks and stop reason: scripted, or made up by the defaults."""
        if reply is not None and reply.text is not None:
            return [{"type": "text", "text": reply.text}], reply.stop_reason
        if reply is not None and reply.json is not None:
            return [{"type": "text", "text": json.dumps(reply.json)}], reply.stop_reason
        if reply is not None and reply.stop_reason == "refusal":
            return [], "refusal"  # no text, so `parse` gives parsed_output None
        body = self._default_text(params, text)
        stop_reason = reply.stop_reason if reply is not None else "end_turn"
        limit = params["max_tokens"] * 4
        if len(body) > limit:
            body, stop_reason = body[:limit], "max_tokens"
        blocks: list[dict[str, Any]] = [{"type": "text", "text": body}]
        if self.thinking and int(hashlib.sha256(text.encode()).hexdigest(), 16) % 3 == 0:
            # As real replies may: a thinking block before the answer (select blocks by type).
            thought = {"type": "thinking", "thinking": THOUGHT, "signature": "EqQBCkYIBxgC"}
            blocks.insert(0, thought)
        return blocks, stop_reason

    def _default_text(self, params: dict[str, Any], text: str) -> str:
        # The documents' content is part of the seed, so two tools whose instructions read the same
        # (no --name) still get their own scores, and the same documents always get the same ones.
        documents = "\n".join(text for _, text in self._document_texts(params))
        digest = int(hashlib.sha256(f"{self.seed}:{text}:{documents}".encode()).hexdigest(), 16)
        rng = random.Random(digest)
        with self._lock:
            score, decision = next(
                (v for m, v in reversed(self._scores.items()) if m in text),
                (40 + digest % 56, None),
            )
        fmt = (params.get("output_config") or {}).get("format")
        if fmt is None:
            return " ".join(rng.sample(SENTENCES, 2))
        schema = fmt["schema"]
        if _is_pairwise(schema):
            return json.dumps(self._pairwise_answer(params, text))
        found = SUBJECT.search(text)
        subject = found.group(1).strip() if found else None
        if subject is None or subject == UNNAMED_SUBJECT:
            subject = self._document_subject(params) or "Example Tool"
        persona = PERSONA_IN_TEXT.search(text)
        faker = _SchemaFaker(schema, rng, score, decision, subject)
        if "evidence" in schema.get("properties", {}):
            faker.invented = self._invention(text)
        faker.read(self._document_texts(params), persona.group(1) if persona else None)
        return json.dumps(faker.value(schema))

    def _document_texts(self, params: dict[str, Any]) -> list[tuple[str, str]]:
        """The title and text of every document a request carries (file blocks and inline ones),
        no PDFs. An untitled document is called by its number, as a model would."""
        texts: list[tuple[str, str]] = []
        number = 0
        for message in params.get("messages") or []:
            content = message.get("content") if isinstance(message, dict) else None
            for block in content if isinstance(content, list) else []:
                if not isinstance(block, dict):
                    continue
                source = block.get("source") or {}
                inline = str(block.get("text", "")) if block.get("type") == "text" else ""
                if inline.startswith("<document"):
                    head, _, rest = inline.partition("\n")
                    data = rest.encode()
                    found = INLINE_TITLE.search(head)
                    title = html.unescape(found.group(1)) if found else ""
                elif block.get("type") == "document" and source.get("type") == "file":
                    with self._lock:
                        data = self._file_bytes.get(source.get("file_id", ""), b"")
                    title = str(block.get("title") or "")
                else:
                    continue
                number += 1
                if not data.startswith(b"%PDF"):
                    texts.append((title or str(number), data.decode("utf-8", "replace")[:20_000]))
        return texts

    def _document_subject(self, params: dict[str, Any]) -> str | None:
        """What a model calls a tool its instructions do not name: the documents' first heading
        (`# X`, or the `Title: X` line of an extracted page), else the subject of a document's
        first sentence ("Helix is a modal editor" names Helix), as a reader would."""
        subjects: list[str] = []
        for message in params.get("messages") or []:
            content = message.get("content") if isinstance(message, dict) else None
            for block in content if isinstance(content, list) else []:
                source = block.get("source") or {} if isinstance(block, dict) else {}
                inline = str(block.get("text", "")) if block.get("type") == "text" else ""
                if inline.startswith("<document"):  # a document sent inline, without a file
                    data = inline.split("\n", 1)[-1].encode()
                elif block.get("type") != "document" or source.get("type") != "file":
                    continue
                else:
                    with self._lock:
                        data = self._file_bytes.get(source.get("file_id", ""), b"")
                if data.startswith(b"%PDF"):
                    continue
                text = data.decode("utf-8", "replace")[:20_000]
                heading = DOCUMENT_HEADING.search(text)
                if heading:
                    return heading.group(1).strip()
                sentence = SENTENCE_SUBJECT.match(text)
                if sentence:
                    subjects.append(sentence.group(1))
        return subjects[0] if subjects else None

    def _document_groups(self, params: dict[str, Any]) -> list[list[str]]:
        """The documents of a request in groups, each opened by a text block (pairwise calls put
        "The documents about the first tool follow." before each tool's documents)."""
        groups: list[list[str]] = []
        opened = False
        for message in params.get("messages") or []:
            content = message.get("content") if isinstance(message, dict) else None
            for block in content if isinstance(content, list) else []:
                if not isinstance(block, dict):
                    continue
                source = block.get("source") or {}
                inline = str(block.get("text", "")) if block.get("type") == "text" else ""
                if inline.startswith("<document"):
                    data = inline.split("\n", 1)[-1].encode()
                elif block.get("type") == "document" and source.get("type") == "file":
                    with self._lock:
                        data = self._file_bytes.get(source.get("file_id", ""), b"")
                else:
                    opened = block.get("type") == "text"
                    continue
                if opened or not groups:
                    groups.append([])
                    opened = False
                groups[-1].append(data.decode("utf-8", "replace")[:20_000])
        return groups

    def _pairwise_answer(self, params: dict[str, Any], text: str) -> dict[str, str]:
        """Which of two document groups a persona would ship: a stable preference per persona and
        pair of tools (the same whichever group comes first), unless a knob says otherwise."""
        groups = [*self._document_groups(params), [], []][:2]
        found = PERSONA_IN_TEXT.search(text)
        persona = (found.group(1) if found else "").lower()
        positions = ("first", "second")
        names = [
            _group_subject(g) or f"the {p} tool" for g, p in zip(groups, positions, strict=True)
        ]
        if self.pairwise_bias == "first":
            pick = "first"
        elif self.pairwise_prefer is not None:
            hits = [any(self.pairwise_prefer in t for t in g) for g in groups]
            pick = "tie" if hits[0] == hits[1] else "first" if hits[0] else "second"
        else:
            marks = [
                hashlib.sha256(f"{self.seed}:{persona}:{sorted(g)}".encode()).hexdigest()
                for g in groups
            ]
            pick = "tie" if marks[0] == marks[1] else "first" if marks[0] > marks[1] else "second"
        won = names[0] if pick == "first" else names[1]
        facts = [_first_fact(g) for g in groups]
        reason = (
            f"Through this lens {won} is the stronger ship: {facts[0 if pick == 'first' else 1]}"
            if pick != "tie"
            else "Through this lens neither tool pulls ahead: both cover the same ground."
        )
        return {
            "pick": pick,
            "reason": reason,
            "pick_first_if": f"you want what {names[0]} leads with: {facts[0]}",
            "pick_second_if": f"you want what {names[1]} leads with: {facts[1]}",
        }

    # -- token counting and prompt caching -----------------------------------------------

    def _count_tokens(self, req: _Request) -> _Response:
        """`messages.count_tokens`: every input token the request would carry (cached or not),
        the output schema included; an estimate that is close to the bill but not the bill's
        formula (`fake_limits.counted_tokens`), as the real endpoint warns."""
        params = req.json()
        for name in ("model", "messages"):
            if name not in params:
                raise ApiError(400, f"{name}: Field required")
        if params["model"] not in self.models:
            raise ApiError(404, f"model: {params['model']}")
        for message in params["messages"]:
            for block in message.get("content") or [] if isinstance(message, dict) else []:
                if isinstance(block, dict):
                    self._validate_block(block, structured=False)
        with self._lock:
            self.token_counts += 1
        billed = [b[0] for b in self._blocks(params)]
        return _Response(200, {"input_tokens": fake_limits.counted_tokens(billed, params)})

    def _blocks(self, params: dict[str, Any]) -> list[tuple[int, str, dict[str, Any] | None]]:
        """(tokens, canonical text, cache_control) for each block, in cache order."""
        raw: list[Any] = list(params.get("tools") or [])
        system = params.get("system")
        raw += [system] if isinstance(system, str) else list(system or [])
        for message in params.get("messages") or []:
            content = message.get("content") if isinstance(message, dict) else None
            raw += [content] if isinstance(content, str) else list(content or [])
        out = []
        for block in raw:
            if isinstance(block, str):
                block = {"type": "text", "text": block}
            cache_control = block.get("cache_control")
            stripped = {k: v for k, v in block.items() if k != "cache_control"}
            canonical = json.dumps(stripped, sort_keys=True)
            out.append((self._block_tokens(stripped, canonical), canonical, cache_control))
        return out

    def _block_tokens(self, block: dict[str, Any], canonical: str) -> int:
        kind, source = block.get("type"), block.get("source") or {}
        if kind == "text":
            return _tokens(len(block.get("text", "")))
        if kind == "image":
            return IMAGE_TOKENS
        if kind == "document" and source.get("type") == "file":
            with self._lock:
                meta = self.files.get(source.get("file_id", ""))
            return _tokens(meta["size_bytes"]) if meta else 0
        if kind == "document" and source.get("type") == "base64":
            return _tokens(len(source.get("data", "")) * 3 / 4)
        if kind == "document" and source.get("type") == "text":
            return _tokens(len(source.get("data", "")))
        return _tokens(len(canonical))

    def _usage(self, params: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
        """Usage with caching: read the longest readable cached prefix, write up to the last
        breakpoint. Returns the usage and the cache keys to open once the response starts."""
        blocks = self._blocks(params)
        total = sum(b[0] for b in blocks)
        prefix_tokens, breakpoints, running = [], [], 0
        for i, (tokens, _, cache_control) in enumerate(blocks):
            running += tokens
            prefix_tokens.append(running)
            if cache_control and running >= self._min_cache(params["model"]):
                breakpoints.append(i)
        read = created = 0
        written: list[str] = []
        ttls = {"5m": 0, "1h": 0}
        now = time.monotonic()
        with self._lock:
            keys = {i: self._prefix_key(params["model"], blocks[: i + 1]) for i in breakpoints}
            for key in [k for k, e in self._cache.items() if e["expires"] < now]:
                del self._cache[key]
            hits = [i for i in breakpoints if self._cache.get(keys[i], {}).get("readable")]
            if hits:
                read = prefix_tokens[hits[-1]]
            for i in breakpoints:
                ttl = blocks[i][2].get("ttl", "5m")  # type: ignore[union-attr]
                seconds = 3600 if ttl == "1h" else 300
                entry = self._cache.get(keys[i])
                if entry is not None and entry["readable"]:
                    entry["expires"] = max(entry["expires"], now + seconds)  # a hit refreshes
                    continue
                if entry is None:
                    self._cache[keys[i]] = {"readable": False, "expires": now + seconds}
                written.append(keys[i])
            if breakpoints and breakpoints[-1] not in hits:
                created = prefix_tokens[breakpoints[-1]] - read
                ttl = blocks[breakpoints[-1]][2].get("ttl", "5m")  # type: ignore[union-attr]
                ttls["1h" if ttl == "1h" else "5m"] = created
        usage = {
            "input_tokens": total - read - created + fake_limits.schema_tokens(params),
            "cache_creation_input_tokens": created,
            "cache_read_input_tokens": read,
            "cache_creation": {
                "ephemeral_5m_input_tokens": ttls["5m"],
                "ephemeral_1h_input_tokens": ttls["1h"],
            },
        }
        return usage, written

    @staticmethod
    def _prefix_key(model: str, blocks: list[tuple[int, str, Any]]) -> str:
        digest = hashlib.sha256(model.encode())
        for _, canonical, _ in blocks:
            digest.update(canonical.encode())
        return digest.hexdigest()

    # -- files ---------------------------------------------------------------------------

    def _live_file(self, file_id: str) -> dict[str, Any] | None:
        """The file's metadata, or None if deleted or past its expiry (caller holds the lock)."""
        meta = self.files.get(file_id)
        if meta is not None and meta.get("_expires", math.inf) <= time.time():
            self.files.pop(file_id)
            return None
        return meta

    @staticmethod
    def _public(record: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in record.items() if not k.startswith("_")}

    def _file_upload(self, req: _Request) -> _Response:
        fields = _parse_multipart(req.headers.get("content-type", ""), req.body)
        if "file" not in fields:
            raise ApiError(400, "file: Field required")
        filename, mime_type, data = fields["file"]
        if not mime_type or mime_type == "application/octet-stream":
            mime_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        time.sleep(self.upload_delay)
        with self._lock:
            used = sum(
                m["size_bytes"] for m in list(self.files.values()) if self._live_file(m["id"])
            )
        if used + len(data) > self.storage_quota_bytes:
            raise ApiError(
                400,
                f"Storage quota exceeded: {used} of {self.storage_quota_bytes} bytes used; "
                "delete files to free up space",
                error_code="storage_quota_exceeded",
            )
        now = time.time()
        meta: dict[str, Any] = {
            "id": _new_id("file"),
            "type": "file",
            "filename": filename,
            "mime_type": mime_type,
            "size_bytes": len(data),
            "created_at": _rfc3339(now),
            "downloadable": False,
            "expires_at": None,
        }
        if "expires_in_seconds" in fields:
            seconds = int(fields["expires_in_seconds"][2])
            if not 3600 <= seconds <= 7776000:
                raise ApiError(400, "expires_in_seconds: must be between 3600 and 7776000")
            meta["expires_at"], meta["_expires"] = _rfc3339(now + seconds), now + seconds
        with self._lock:
            self.files[meta["id"]] = meta
            self._file_bytes[meta["id"]] = data
            self.uploads.append(
                {
                    "file_id": meta["id"],
                    "filename": filename,
                    "mime_type": mime_type,
                    "size_bytes": len(data),
                    "sha256": hashlib.sha256(data).hexdigest(),
                }
            )
            drop = self._upload_drops > 0
            self._upload_drops -= drop
        if drop:
            return _Response(200, b"", cut=True)
        return _Response(200, self._public(meta))

    def _file_list(self, req: _Request) -> _Response:
        """Newest first, a page at a time (`limit`, `after_id`, `before_id`), as the API pages."""
        with self._lock:
            live = [m for m in list(self.files.values()) if self._live_file(m["id"])]
        newest_first = [self._public(m) for m in reversed(live)]  # insertion is creation order
        try:
            return _Response(200, fake_limits.page(newest_first, req.query))
        except ValueError as exc:
            raise ApiError(400, str(exc)) from exc

    def _get_file(self, file_id: str) -> dict[str, Any]:
        with self._lock:
            meta = self._live_file(file_id)
        if meta is None:
            raise ApiError(404, f"File not found: {file_id}")
        return meta

    def _file_get(self, req: _Request) -> _Response:
        return _Response(200, self._public(self._get_file(req.params["id"])))

    def _file_delete(self, req: _Request) -> _Response:
        self._get_file(req.params["id"])
        self.delete_file(req.params["id"])
        return _Response(200, {"id": req.params["id"], "type": "file_deleted"})

    def _file_content(self, req: _Request) -> _Response:
        self._get_file(req.params["id"])
        raise ApiError(
            400,
            "File is not downloadable: only files created by skills or the "
            "code execution tool can be downloaded",
        )

    # -- message batches -----------------------------------------------------------------

    def _batch_create(self, req: _Request) -> _Response:
        requests = req.json().get("requests")
        if not isinstance(requests, list) or not requests:
            raise ApiError(400, "requests: at least one request is required")
        seen: set[str] = set()
        for item in requests:
            custom_id = item.get("custom_id") if isinstance(item, dict) else None
            if not isinstance(custom_id, str) or not CUSTOM_ID.match(custom_id):
                raise ApiError(400, f"custom_id {custom_id!r}: 1-64 characters of [A-Za-z0-9_-]")
            if custom_id in seen:
                raise ApiError(400, f"custom_id {custom_id!r} is not unique in the batch")
            if not isinstance(item.get("params"), dict):
                raise ApiError(400, f"requests[{custom_id}].params: Field required")
            seen.add(custom_id)
        with self._lock:
            self.batch_creates_started += 1
        time.sleep(self.batch_create_delay)  # a client killed now never learns the batch's id
        now = self._clock()
        batch: dict[str, Any] = {
            "id": _new_id("msgbatch"),
            "type": "message_batch",
            "processing_status": "in_progress",
            "request_counts": {
                "processing": len(requests),
                "succeeded": 0,
                "errored": 0,
                "canceled": 0,
                "expired": 0,
            },
            "created_at": _rfc3339(now),
            "expires_at": _rfc3339(now + 86400),
            "ended_at": None,
            "cancel_initiated_at": None,
            "archived_at": None,
            "results_url": None,
            "_requests": requests,
            "_ends": now + self.batch_delay,
            "_results": None,
            # Progress (`_progress`): requests finish one by one in `_order` until `_ends`; any
            # still processing at `_expires` (24 h on) or at `_cancel_at` never run.
            "_started": now,
            "_expires": now + fake_limits.BATCH_TTL,
            "_cancel_at": None,
            "_order": requests,
            "_done": {},
            "_opened": [],
        }
        batch["_order"] = self._batch_order(requests, batch["id"])
        with self._lock:
            self.batches[batch["id"]] = batch
        return _Response(200, self._public(batch))

    def _batch(self, batch_id: str) -> dict[str, Any]:
        """The batch, finished first if its time has come."""
        with self._lock:
            batch = self.batches.get(batch_id)
            if batch is None:
                raise ApiError(404, f"Message batch not found: {batch_id}")
            if batch["processing_status"] != "ended":
                self._progress(batch)
            return batch

    def _batch_order(self, requests: list[dict[str, Any]], batch_id: str) -> list[dict[str, Any]]:
        """The order a batch's requests are processed in: any order, as on the real API."""
        order = list(requests)
        random.Random(f"{self.seed}:{batch_id}:order").shuffle(order)
        return order

    def _progress(self, batch: dict[str, Any]) -> None:
        """Move the batch on to now (`fake_limits.progress`), ending it when its time has come.
        Caller holds the lock."""
        results = fake_limits.progress(
            batch, self._clock(), lambda item: self._batch_result(item, batch["_opened"])
        )
        if results is not None:
            self._end_batch(batch, results)

    def _end_batch(self, batch: dict[str, Any], results: list[dict[str, Any]]) -> None:
        """End the batch with these results, shuffled, like the real API.

        The real API runs a batch's requests concurrently and in any order, so one request's cache
        write is not there for the others to read: the cache entries open only once all are done.
        """
        for on_start in batch["_opened"]:
            on_start()
        random.Random(f"{self.seed}:{batch['id']}").shuffle(results)
        counts = dict.fromkeys(("processing", "succeeded", "errored", "canceled", "expired"), 0)
        for line in results:
            counts[line["result"]["type"]] += 1
        batch.update(
            processing_status="ended",
            request_counts=counts,
            _results=results,
            ended_at=_rfc3339(self._clock()),
            results_url=f"{self.url}/v1/messages/batches/{batch['id']}/results",
        )

    def _batch_result(
        self, item: dict[str, Any], opened: list[Callable[[], None]]
    ) -> dict[str, Any]:
        for fault in self._batch_faults:
            if fault["count"] > 0 and fault["match"] in item["custom_id"]:
                fault["count"] -= 1
                return fault["result"]
        try:
            message, on_start = self.respond(item["params"], service_tier="batch")
        except ApiError as err:
            return {"type": "errored", "error": _error_body(err, _new_id("req"))}
        opened.append(on_start)
        return {"type": "succeeded", "message": message}

    def _batch_get(self, req: _Request) -> _Response:
        return _Response(200, self._public(self._batch(req.params["id"])))

    def _batch_list(self, req: _Request) -> _Response:
        with self._lock:
            data = [self._public(self._batch(i)) for i in reversed(list(self.batches))]
        return _Response(
            200,
            {
                "data": data,
                "has_more": False,
                "first_id": data[0]["id"] if data else None,
                "last_id": data[-1]["id"] if data else None,
            },
        )

    def _batch_cancel(self, req: _Request) -> _Response:
        with self._lock:
            batch = self._batch(req.params["id"])
            if batch["processing_status"] == "in_progress":
                now = self._clock()
                batch.update(
                    processing_status="canceling",
                    cancel_initiated_at=_rfc3339(now),
                    _cancel_at=now,  # what finished by now stays `succeeded`; the rest cancel
                )
            return _Response(200, self._public(batch))

    def _batch_delete(self, req: _Request) -> _Response:
        with self._lock:
            if self._batch(req.params["id"])["processing_status"] != "ended":
                raise ApiError(400, "A batch must finish processing before it can be deleted")
            del self.batches[req.params["id"]]
        return _Response(200, {"id": req.params["id"], "type": "message_batch_deleted"})

    def _batch_results(self, req: _Request) -> _Response:
        batch = self._batch(req.params["id"])
        if batch["_results"] is None:
            raise ApiError(404, "Results are not available until the batch has ended")
        lines = [json.dumps(line) + "\n" for line in batch["_results"]]
        with self._lock:
            fault = self._results_faults.popleft() if self._results_faults else None
        if fault is not None and fault[0] == "garble" and fault[1] < len(lines):
            cut = lines[fault[1]]
            lines[fault[1]] = cut[: len(cut) // 2] + "\n"
        if fault is not None and fault[0] == "stall":
            head = [line.encode() for line in lines[: fault[1]]]
            return _Response(
                200, b"", content_type="application/binary", events=self._stalled(head)
            )
        return _Response(200, "".join(lines).encode(), content_type="application/binary")

    def _stalled(self, head: list[bytes]) -> Iterator[bytes]:
        """Some lines, then silence until the fake stops (or the client hangs up)."""
        yield from head
        self._stopping.wait()


def _parse_multipart(content_type: str, body: bytes) -> dict[str, tuple[str, str, bytes]]:
    """Form fields by name as (filename, content type, bytes), using the stdlib email parser."""
    if not content_type.startswith("multipart/form-data"):
        raise ApiError(400, "Content-Type must be multipart/form-data")
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    fields: dict[str, tuple[str, str, bytes]] = {}
    for part in message.iter_parts():  # type: ignore[attr-defined]
        name = part.get_param("name", header="content-disposition")
        data = bytes(part.get_payload(decode=True) or b"")
        mime = part.get_content_type() if part.get("content-type") else ""
        fields[str(name)] = (part.get_filename() or "", mime, data)
    return fields


class _Handler(BaseHTTPRequestHandler):
    """Turns raw HTTP into a `_Request` for the fake and writes its `_Response` back."""

    protocol_version = "HTTP/1.1"
    # TCP_NODELAY, as API servers set it: otherwise a body written after its headers waits for
    # the client's delayed ACK, up to 40 ms on every unstreamed answer.
    disable_nagle_algorithm = True
    server: Any

    def _serve(self) -> None:
        split = urlsplit(self.path)
        length = int(self.headers.get("content-length") or 0)
        req = _Request(
            self.command,
            split.path,
            parse_qs(split.query),
            {k.lower(): v for k, v in self.headers.items()},
            self.rfile.read(length),
        )
        resp = self.server.fake.handle(req)
        if resp.cut:
            self._reset()
            return
        if resp.events is not None:
            self._serve_events(resp)
            return
        payload = resp.body if isinstance(resp.body, bytes) else json.dumps(resp.body).encode()
        self.send_response(resp.status)
        self.send_header("content-type", resp.content_type)
        self.send_header("content-length", str(len(payload)))
        for name, value in resp.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def _serve_events(self, resp: _Response) -> None:
        """Write a stream as it is produced; the connection closes at its end (no length known)."""
        assert resp.events is not None
        self.send_response(resp.status)
        self.send_header("content-type", resp.content_type)
        self.send_header("connection", "close")
        for name, value in resp.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.close_connection = True
        try:
            for chunk in resp.events:
                self.wfile.write(chunk)
                self.wfile.flush()
        except _Cut:
            self._reset()

    def _reset(self) -> None:
        """Drop the connection with a TCP reset, as a failing proxy or network would."""
        self.close_connection = True
        self.wfile.flush()
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()

    do_GET = do_POST = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read `FakeAnthropic.requests` instead."""
