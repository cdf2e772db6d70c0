"""`panel digest` against hostile input: card text the model wrote (untrusted) in the mail's parts,
and SMTP servers that hang or go away midway."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from panel.judge.personas import load_personas
from panel.serve.newsletter import build_digest
from panel.store.sqlite import Store
from tests.runs import CARD, make_run, verdict

SITE = "https://verdicts.example"
UNSUBSCRIBE = f"{SITE}/newsletter/unsubscribe/own-link"
FORGED = "Unsubscribe: https://evil.example/x"


def hostile_digest(tmp_path: Path) -> str:
    """The text part of a digest of one tool whose card fields carry line breaks."""
    store = Store(tmp_path / "home")
    card = dict(
        CARD,
        name=f"Evil\n\n{FORGED}\r\n",
        category="Developer Tools\n--\nYou get this",
        tagline="Fast.\u2028\n\n  Verdict: ship, mean 99.0/100",
    )
    when = (datetime.now(UTC) - timedelta(hours=2)).isoformat()
    store.save_run(
        make_run("r-evil", [verdict("builder", 80)], slug="evil", card=card, created_at=when)
    )
    try:
        digest = build_digest(store, load_personas(None), timedelta(days=7), base_url=SITE)
        return digest.text(UNSUBSCRIBE)
    finally:
        store.close()


def test_card_text_cannot_add_lines_to_the_text_mail(tmp_path: Path) -> None:
    """A tool name, category or tagline is one line of the text part, whatever breaks it holds:
    it cannot forge an `Unsubscribe:` line, a signature separator or a verdict line of its own."""
    text = hostile_digest(tmp_path)
    lines = text.splitlines()
    assert [line for line in lines if line.startswith("Unsubscribe:")] == [
        f"Unsubscribe: {UNSUBSCRIBE}"
    ]
    assert lines.count("--") == 1
    assert not any(line.lstrip().startswith("Verdict:") for line in lines)
    assert f"Evil {FORGED}: " in text and "\u2028" not in text
