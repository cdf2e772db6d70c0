"""More blind spots of the unit suite (issue 21): each test kills one deliberate bug that the rest of
the suite let through. Its docstring names the mutant; bench/mutation.py re-applies them."""

from __future__ import annotations

import ipaddress

import pytest
from markdown_it import MarkdownIt

from panel.api.retry import RetryPolicy
from panel.errors import Retryable
from panel.eval.metrics import agreement
from panel.judge.decision import decide
from panel.judge.ensemble import combine
from panel.model.verdict import Decision, Usage, VerdictRecord
from panel.pages.escaping import md_cell, md_text
from panel.sources import netguard
from panel.store.diff import new_sentences, sentences


def ok(persona: str, score: int, decision: Decision, seconds: float = 1.0) -> VerdictRecord:
    return VerdictRecord(
        persona=persona,
        persona_version=1,
        status="ok",
        score=score,
        decision=decision,
        rationale=f"{persona} {score}",
        seconds=seconds,
        usage=Usage(input_tokens=10, output_tokens=5),
    )


def failed(persona: str, seconds: float = 1.0) -> VerdictRecord:
    return VerdictRecord.failed(persona, 1, "boom", seconds=seconds)


# panel/judge/decision.py -------------------------------------------------------------------------


def test_a_failed_persona_is_never_a_dissenter() -> None:
    """Kills `for v in ok` -> `for v in verdicts` in the dissent list: a failure dissents from nothing."""
    verdicts = [ok("a", 80, "ship"), ok("b", 75, "ship"), ok("c", 30, "skip"), failed("d")]
    decision = decide(verdicts)
    assert decision.decision == "ship"
    assert decision.dissenters == ["c"]


# panel/judge/ensemble.py -------------------------------------------------------------------------


def test_failed_samples_are_not_counted_as_skips() -> None:
    """Kills counting failed samples as skips: two ships and one failure are a ship, not a tie."""
    combined = combine([ok("a", 40, "ship"), ok("a", 42, "ship"), failed("a")], threshold=70)
    assert combined.status == "ok" and combined.decision == "ship"
    assert combined.samples_failed == 1


def test_ensemble_seconds_are_the_longest_sample_not_the_sum() -> None:
    """Kills `max(s.seconds ...)` -> `sum(...)`: the samples run at once."""
    combined = combine(
        [ok("a", 70, "ship", 2.0), ok("a", 72, "ship", 5.0), ok("a", 71, "ship", 3.0)]
    )
    assert combined.seconds == 5.0
    assert combined.usage.input_tokens == 30  # usage, unlike time, is summed


# panel/api/retry.py ------------------------------------------------------------------------------


def test_a_wait_of_exactly_the_cap_is_waited_not_failed() -> None:
    """Kills `hint > self.max_wait` -> `hint >= self.max_wait`: the cap itself is allowed."""
    policy = RetryPolicy(attempts=3, max_wait=30.0, backoff=0)
    at_cap = Retryable("slow down", retry_after=30.0)
    past_cap = Retryable("slow down", retry_after=30.5)
    assert policy.retryable(at_cap) and not policy.over_cap(at_cap)
    assert not policy.retryable(past_cap) and policy.over_cap(past_cap)


# panel/eval/metrics.py ---------------------------------------------------------------------------


def test_balanced_accuracy_with_one_label_class_is_that_class_recall() -> None:
    """Kills dividing by the two classes instead of the classes present: all-ship labels, three of
    four right, is 0.75, not 0.375."""
    result = agreement(["ship"] * 4, ["ship", "ship", "ship", "skip"])
    assert result.balanced_accuracy == 0.75
    assert result.accuracy == 0.75


# panel/store/diff.py -----------------------------------------------------------------------------


def test_a_question_mark_ends_a_sentence() -> None:
    """Kills `[.!?]` -> `[.!]`: a question is a sentence of its own in a diff."""
    assert sentences("Is it fast? It is. Wow! Done") == ["Is it fast?", "It is.", "Wow!", "Done"]
    assert new_sentences("Is it fast? It is.", "Is it cheap? It is.") == ["Is it cheap?"]


# panel/sources/netguard.py -----------------------------------------------------------------------


@pytest.mark.parametrize("address", ["2001:2::1", "2001:20::1", "2001:2f:ffff::1", "2001:db8::1"])
def test_special_purpose_ipv6_blocks_are_refused(address: str) -> None:
    """Kills dropping the `is_global` fallback: benchmarking (2001:2::/48), ORCHIDv2 (2001:20::/28)
    and documentation (2001:db8::/32) addresses are not public."""
    assert netguard.describe_address(ipaddress.ip_address(address)) is not None
    assert not netguard.is_public_address(ipaddress.ip_address(address))


def test_a_public_ipv6_address_still_passes() -> None:
    """The fallback does not refuse ordinary global addresses."""
    assert netguard.describe_address(ipaddress.ip_address("2606:4700:4700::1111")) is None


# panel/pages/escaping.py -------------------------------------------------------------------------

MD = MarkdownIt("commonmark").enable("table")


def table_rows(markdown: str) -> list[list[str]]:
    """The cells of the first table, as markdown-it parses it (not as the text looks)."""
    rows: list[list[str]] = []
    tokens = MD.parse(markdown)
    for i, token in enumerate(tokens):
        if token.type == "tr_open":
            rows.append([])
        elif token.type == "inline" and tokens[i - 1].type in ("th_open", "td_open"):
            rows[-1].append(token.content)
    return rows


@pytest.mark.parametrize(
    "hostile",
    ["a | b | c", "line one\nline two | x", "|", "a\n\n| forged | row |", "x \\| y", ""],
)
def test_model_text_in_a_cell_stays_one_cell(hostile: str) -> None:
    """Kills dropping `|` or newline folding from md_cell: a cell cannot add cells or rows."""
    table = f"| persona | paragraph |\n|---|---|\n| Skeptic | {md_cell(hostile)} |\n"
    rows = table_rows(table)
    assert len(rows) == 2 and all(len(row) == 2 for row in rows)


def test_an_empty_cell_keeps_the_row_whole() -> None:
    """Kills `or " "` in md_cell: an empty value still fills its cell."""
    assert md_cell("") == " "
    assert table_rows(f"| a | b |\n|---|---|\n|{md_cell('')}| x |\n")[1] == ["", "x"]


@pytest.mark.parametrize(
    ("text", "rendered"),
    [
        ("1) first", "<p>1) first</p>"),
        ("2. second", "<p>2. second</p>"),
        ("AT&amp;T", "<p>AT&amp;amp;T</p>"),
        ("# not a heading", "<p># not a heading</p>"),
        ("<b>bold</b>", "<p>&lt;b&gt;bold&lt;/b&gt;</p>"),
    ],
)
def test_model_text_renders_as_literal_text(text: str, rendered: str) -> None:
    """Kills dropping `&`, `)` or block-start escaping: the text renders as it was written."""
    assert MD.render(md_text(text)).strip() == rendered
