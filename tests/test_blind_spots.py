"""Blind spots of the unit suite: each test kills one small, deliberate bug (a mutant) that the rest
of the suite let through. Its docstring names the mutant; bench/mutation.py re-applies them."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
import respx

from panel.api.client import Client, retry_after
from panel.api.registry import Registry
from panel.api.replies import text_of, usage_of, validate_reply
from panel.api.scheduler import (
    MIN_RATE_SHARE,
    RECOVERY,
    Limits,
    Scheduler,
    TokenBucket,
)
from panel.judge.decision import decide, majority, mean_score
from panel.model.verdict import Decision, Usage, Verdict, VerdictRecord
from panel.sources.documents import load_description, slugify
from panel.store.diff import DocumentChange, diff_runs, sentences
from panel.store.sqlite import Store
from tests import api
from tests.runs import make_run, verdict

FILES = f"{api.BASE}/v1/files"
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


def ok(persona: str, score: int, decision: Decision) -> VerdictRecord:
    return VerdictRecord(
        persona=persona,
        persona_version=1,
        status="ok",
        score=score,
        decision=decision,
        rationale="r",
    )


def failed(persona: str) -> VerdictRecord:
    return VerdictRecord.failed(persona, 1, "boom")


# panel/judge/decision.py -------------------------------------------------------------------------


def test_tie_at_exactly_the_threshold_ships() -> None:
    """Kills `mean >= threshold` -> `mean > threshold`: a tie whose mean is the threshold ships."""
    assert majority(2, 2, 70.0, 70.0) == "ship"
    verdicts = [ok("a", 80, "ship"), ok("b", 70, "ship"), ok("c", 70, "skip"), ok("d", 60, "skip")]
    assert decide(verdicts, threshold=70.0).decision == "ship"


def test_tie_without_a_mean_skips() -> None:
    """Kills dropping `mean is not None and`: a tie with no scores skips instead of raising."""
    assert majority(1, 1, None, 70.0) == "skip"


def test_an_ok_record_without_a_score_is_left_out_of_the_mean() -> None:
    """Kills dropping `if v.score is not None` in `mean_score`: a scoreless record (the model allows
    one, e.g. a hand-edited stored run) neither crashes the mean nor counts as a zero."""
    scoreless = VerdictRecord(persona="c", persona_version=1, status="ok", decision="ship")
    assert mean_score([ok("a", 80, "ship"), ok("b", 70, "skip"), scoreless]) == 75.0


def test_mean_is_rounded_to_one_decimal() -> None:
    """Kills `round(mean, 1)` -> `round(mean, 2)`: 70, 71, 71 average 70.7, not 70.67."""
    assert mean_score([ok("a", 70, "ship"), ok("b", 71, "ship"), ok("c", 71, "ship")]) == 70.7


def test_ship_share_keeps_three_decimals() -> None:
    """Kills `round(ship / ok, 3)` -> `round(..., 2)`: two ships of three is 0.667."""
    d = decide([ok("a", 80, "ship"), ok("b", 75, "ship"), ok("c", 40, "skip")])
    assert d.ship_share == 0.667


def test_a_panel_smaller_than_the_quorum_still_decides() -> None:
    """Kills `min(quorum, len(verdicts))` -> `quorum`: two personas, both ok, are a decision."""
    d = decide([ok("a", 80, "ship"), ok("b", 75, "ship")], quorum=3)
    assert (d.decision, d.failed) == ("ship", 0)


def test_no_verdicts_at_all_is_incomplete() -> None:
    """Kills dropping `or not ok`: an empty panel is incomplete, not a skip."""
    d = decide([])
    assert (d.decision, d.ship_share, d.mean_score) == ("incomplete", None, None)


def test_a_small_panel_with_a_failure_is_incomplete() -> None:
    """Kills `len(ok) < min(...)` -> `len(ok) <= min(...)` from the other side: 2 of 3 is short."""
    d = decide([ok("a", 80, "ship"), ok("b", 75, "ship"), failed("c")], quorum=3)
    assert d.decision == "incomplete"
    d = decide([ok("a", 80, "ship"), ok("b", 75, "ship"), ok("c", 70, "ship")], quorum=3)
    assert d.decision == "ship"


# panel/sources/documents.py slugify -------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("a" * 200, "a" * 64),
        ("a" * 64, "a" * 64),  # exactly the limit is kept whole
        ("!!" + "b" * 70, "b" * 64),  # leading separators do not eat into the 64
        ("c" * 63 + " tail", "c" * 63),  # a cut right after a dash leaves no trailing dash
    ],
)
def test_slug_is_cut_at_64_characters(name: str, slug: str) -> None:
    """Kills removing `[:64]` (and `[:63]`, the first or second `.strip("-")`): the cut is exact."""
    got = slugify(name)
    assert got == slug and SLUG.match(got)


def test_a_run_of_separators_is_one_dash() -> None:
    """Kills `[^a-z0-9]+` -> `[^a-z0-9]`: `Acme -- CLI!` is `acme-cli`, not `acme----cli`."""
    assert slugify("Acme -- CLI!") == "acme-cli"


# panel/store/diff.py ----------------------------------------------------------------------------


def test_a_persona_only_the_older_run_had_is_kept_in_the_diff() -> None:
    """Kills replacing the union of persona ids by the newer run's ids: a dropped persona shows."""
    old = make_run("r1", [verdict("builder", 80), verdict("skeptic", 50), verdict("founder", 65)])
    new = make_run("r2", [verdict("builder", 70), verdict("founder", 65)])
    personas = diff_runs(old, new).personas
    assert [p.persona for p in personas] == ["builder", "founder", "skeptic"]
    gone = personas[-1]
    assert (gone.old_score, gone.new_score, gone.delta, gone.flipped) == (50, None, None, False)
    assert (gone.old_decision, gone.new_decision) == ("skip", None)


@pytest.mark.parametrize(
    ("source", "name", "label"),
    [
        ("/home/me/docs/acme.md", "acme.md", "acme.md"),
        ("https://acme.dev/pricing", "pricing.txt", "https://acme.dev/pricing"),
        ("--description", "description.txt", "--description"),
    ],
)
def test_a_document_is_labelled_by_file_name_or_source(source: str, name: str, label: str) -> None:
    """Kills `startswith("/")` -> anything else in `DocumentChange.label`: paths show their name."""
    change = DocumentChange(source=source, name=name, status="added")
    assert change.label == label


def test_whitespace_only_text_has_no_sentences() -> None:
    """Kills dropping the `if p` filter in `sentences`: blank text is no sentence, not ['']."""
    assert sentences("   \n\t ") == []


# panel/api/scheduler.py -------------------------------------------------------------------------


def clocked(rpm: float, *, now: list[float]) -> Scheduler:
    """A scheduler with only a request bucket, on a clock the test moves by hand."""
    return Scheduler(
        Limits(concurrency=100, rpm=rpm, itpm=None, otpm=None, headroom=0.9),
        clock=lambda: now[0],
        backoff_s=1.0,
    )


def test_requests_per_minute_hold_back_the_call_past_the_burst() -> None:
    """Kills dropping `self.requests.delay(...)` from `_delay` or `self.requests.take(...)` from
    `acquire`: once the burst (6 of 60 rpm at 0.9 headroom) is spent, the next call waits."""
    now = [1000.0]
    scheduler = clocked(60, now=now)
    burst = int(scheduler.requests.capacity)

    async def scenario() -> None:
        for _ in range(burst):
            await scheduler.acquire(0, 0, 0)
            await scheduler.release()
        with pytest.raises(TimeoutError):  # the clock stands still: no refill, so it must wait
            await asyncio.wait_for(scheduler.acquire(0, 0, 0), 0.05)
        now[0] += 60 / (60 * 0.9)  # one request's worth of refill
        await asyncio.wait_for(scheduler.acquire(0, 0, 0), 1.0)

    asyncio.run(scenario())
    assert scheduler._delay(0, 0, now[0]) > 0


@pytest.mark.parametrize("which", ["input", "output"])
def test_token_limits_hold_back_the_call_past_the_burst(which: str) -> None:
    """Kills dropping the input bucket's `delay` from `_delay` or the output bucket's `take` from
    `acquire` (and the converse): a spent token burst makes the next call wait."""
    now = [1000.0]
    tokens = {
        "itpm": 1000 if which == "input" else None,
        "otpm": 1000 if which == "output" else None,
    }
    scheduler = Scheduler(
        Limits(concurrency=100, rpm=600_000, headroom=0.9, **tokens), clock=lambda: now[0]
    )

    def call(amount: int) -> tuple[int, int, int]:
        return (0, amount, 0) if which == "input" else (0, 0, amount)

    async def scenario() -> None:
        await scheduler.acquire(*call(100))  # the whole burst: 10% of 1000
        await scheduler.release()
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(scheduler.acquire(*call(50)), 0.05)
        now[0] += 50 / (1000 * 0.9 / 60)  # refill of 50 tokens
        await asyncio.wait_for(scheduler.acquire(*call(50)), 1.0)

    asyncio.run(scenario())


def test_an_idle_bucket_refills_only_to_its_capacity() -> None:
    """Kills dropping `min(self.capacity, ...)` in `_refill`: an hour idle is not an hour's burst."""
    bucket = TokenBucket(60, now=0.0, headroom=0.9)
    bucket.delay(1, 3600.0)
    assert bucket.level == pytest.approx(bucket.capacity)


def test_a_slowed_bucket_refills_at_its_share_of_the_rate() -> None:
    """Kills `rate * share` -> `rate` in `_refill`: after a 429 the refill itself is slower."""
    bucket = TokenBucket(60, now=0.0)  # 1 a second, capacity 1
    bucket.take(1, 0.0)
    bucket.share = 0.5
    assert bucket.delay(1, 1.0) == pytest.approx(1.0)  # half refilled after 1 s, 1 s to go
    assert bucket.delay(1, 2.0) == 0.0


def test_drain_keeps_a_debt() -> None:
    """Kills `min(self.level, 0.0)` -> `0.0` in `drain`: a 429 never forgives a debt."""
    bucket = TokenBucket(600, now=0.0, headroom=0.5)
    bucket.take(400, 0.0)
    bucket.drain(0.0)
    assert bucket.level == pytest.approx(-100)


def test_a_429_drains_every_bucket() -> None:
    """Kills dropping `bucket.drain(now)` in `on_rate_limited`: nobody goes before a refill."""
    now = [0.0]
    scheduler = Scheduler(Limits(rpm=60, itpm=6000, otpm=600), clock=lambda: now[0])
    scheduler.on_rate_limited(0.0)
    assert [b.level for b in scheduler.buckets] == [0.0, 0.0, 0.0]


def test_backoff_doubles_per_strike_and_resets_on_success() -> None:
    """Kills `2 ** (strikes - 1)` -> `2 ** strikes` and dropping `_strikes = 0` in `on_success`."""
    now = [100.0]
    scheduler = clocked(60, now=now)
    scheduler.on_rate_limited(None)
    assert scheduler.paused_until == 101.0
    scheduler.on_rate_limited(None)
    assert scheduler.paused_until == 102.0
    scheduler.on_success()
    now[0] = 200.0
    scheduler.on_rate_limited(None)
    assert scheduler.paused_until == 201.0


def test_a_shorter_wait_never_cuts_a_longer_pause() -> None:
    """Kills `max(self.paused_until, now + wait)` -> `now + wait`."""
    now = [0.0]
    scheduler = clocked(60, now=now)
    scheduler.on_rate_limited(10.0)
    scheduler.on_rate_limited(1.0)
    assert scheduler.paused_until == 10.0


def test_the_rate_share_stays_between_its_floor_and_one() -> None:
    """Kills dropping `max(MIN_RATE_SHARE, ...)` or `min(1.0, ...)` around the share."""
    scheduler = clocked(60, now=[0.0])
    for _ in range(10):
        scheduler.on_rate_limited(0.0)
    assert scheduler.requests.share == MIN_RATE_SHARE
    for _ in range(int(2 / RECOVERY)):
        scheduler.on_success()
    assert scheduler.requests.share == 1.0


def test_settle_corrects_each_token_bucket_with_its_own_numbers() -> None:
    """Kills swapped arguments in `Scheduler.settle`: input and output debts stay apart."""
    scheduler = Scheduler(Limits(rpm=60, itpm=6000, otpm=600, headroom=0.5), clock=lambda: 0.0)
    start_in, start_out = scheduler.input.level, scheduler.output.level  # type: ignore[union-attr]
    scheduler.settle(100, 10, 300, 40)
    assert scheduler.input.level == start_in - 200  # type: ignore[union-attr]
    assert scheduler.output.level == start_out - 30  # type: ignore[union-attr]


# panel/api/client.py ----------------------------------------------------------------------------


def test_text_of_skips_a_leading_thinking_block() -> None:
    """Kills taking the first content block instead of the first text block (replies may open
    with `thinking`), for dict blocks and SDK-style objects alike."""
    as_dicts = [
        {"type": "thinking", "thinking": "Let me weigh it.", "signature": "sig"},
        {"type": "text", "text": '{"score": 1}'},
    ]
    as_objects = [SimpleNamespace(**b) for b in as_dicts]
    assert text_of(as_dicts) == '{"score": 1}'
    assert text_of(as_objects) == '{"score": 1}'


def test_text_of_joins_every_text_block_without_a_separator() -> None:
    """Kills `"".join` -> `" ".join` and keeping only one text block: split JSON is rejoined."""
    blocks = [
        {"type": "text", "text": '{"a": '},
        {"type": "redacted_thinking", "data": "x"},
        {"type": "text", "text": "1}"},
    ]
    assert text_of(blocks) == '{"a": 1}'


def test_a_thinking_first_reply_is_a_verdict(httpx2_mock: respx.Router) -> None:
    """Kills the first-block mutant at the HTTP level: a reply opening with thinking parses."""
    body = api.fixture("message.json")
    body["content"].insert(0, {"type": "thinking", "thinking": "Hmm.", "signature": "c2ln"})
    httpx2_mock.post(f"{api.BASE}/v1/messages").mock(return_value=api.Response(200, json=body))
    reply = asyncio.run(
        Client(api_key="sk-ant-unit").structured(
            Verdict,
            model="claude-sonnet-5-5",
            system=[{"type": "text", "text": "s"}],
            messages=[{"role": "user", "content": "hi"}],
            max_tokens=100,
        )
    )
    assert reply.error is None and reply.parsed is not None and reply.parsed.score == 82


@pytest.mark.parametrize(
    ("headers", "wait"),
    [
        ({"retry-after-ms": "1500", "retry-after": "9"}, 1.5),  # ms wins when both are sent
        ({"retry-after-ms": "soon", "retry-after": "2"}, 2.0),  # a bad ms falls back, not None
        ({"retry-after": "0"}, 0.0),  # zero is a wait (none), not an absent hint
        ({"retry-after": "-5"}, None),  # a negative wait is ignored
        ({}, None),
    ],
)
def test_retry_after_reads_the_servers_hint(headers: dict[str, str], wait: float | None) -> None:
    """Kills swapping the header order, `continue` -> `return None`, `>= 0` -> `> 0`, and dropping
    the `>= 0` check."""
    assert retry_after(headers) == wait


def test_usage_keeps_each_counter_in_its_field() -> None:
    """Kills swapped cache counters and a dropped `or 0` (the API sends null for absent ones)."""
    raw = {
        "input_tokens": 1,
        "output_tokens": 2,
        "cache_creation_input_tokens": 3,
        "cache_read_input_tokens": None,
    }
    want = Usage(
        input_tokens=1, output_tokens=2, cache_creation_input_tokens=3, cache_read_input_tokens=0
    )
    assert usage_of(raw) == want
    assert usage_of(SimpleNamespace(**raw)) == want


def test_a_truncated_reply_is_a_failure_even_when_its_text_parses() -> None:
    """Kills dropping the `max_tokens` check: a cut-off reply is never a verdict."""
    text = json.dumps({"score": 82, "decision": "ship", "rationale": "Fine."})
    assert validate_reply(Verdict, text, "max_tokens") == (
        None,
        "the reply was cut off at max_tokens",
    )
    assert validate_reply(Verdict, text, "refusal") == (None, "the model refused to answer")


def test_the_first_validation_error_is_the_one_reported() -> None:
    """Kills `exc.errors()[0]` -> `[-1]`: with two bad fields, the first in schema order is named."""
    text = json.dumps({"score": 101, "decision": "maybe", "rationale": "x"})
    _, error = validate_reply(Verdict, text, "end_turn")
    assert error is not None and error.startswith("invalid reply: score: ")


def test_a_top_level_error_has_no_empty_location() -> None:
    """Kills `where + ': ' if where else ''` -> always `where + ': '`: no stray `: ` prefix."""
    assert validate_reply(Verdict, "[]", "end_turn") == (
        None,
        "invalid reply: Input should be an object",
    )


# panel/api/registry.py --------------------------------------------------------------------------


def test_concurrent_ensures_of_one_document_upload_it_once(
    httpx2_mock: respx.Router, tmp_path: Path
) -> None:
    """Kills removing the per-content lock (`self._locks[...]`) from `ensure`: four personas asking
    for the same document at once share one upload (the SQLite claim is re-entrant per owner)."""
    uploads = httpx2_mock.post(FILES).mock(side_effect=api.file_created)
    registry = Registry(Store(tmp_path / "home"), Client(api_key="sk-ant-unit"), api.BASE)
    doc = load_description("# Acme\nA tool.")

    async def scenario() -> list[tuple[str, bool]]:
        return list(await asyncio.gather(*(registry.ensure(doc) for _ in range(4))))

    results = asyncio.run(scenario())
    assert uploads.call_count == 1 and registry.uploads == 1
    assert len({file_id for file_id, _ in results}) == 1
    assert sorted(now for _, now in results) == [False, False, False, True]
