"""Checking a verdict's quotes against the documents' text: what is forgiven, what is not."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

import pytest
from pydantic import ValidationError

from panel.api.replies import Reply
from panel.judge.evidence import Tally, check_all, normalize, summary, tally
from panel.judge.personas import load_personas
from panel.judge.prompts import Prompts
from panel.judge.session import Session, judge
from panel.model import Evidence, Quote, Run, Usage, Verdict
from panel.sources.documents import Document
from tests.runs import make_run, verdict

SOURCE = (
    "# Acme CLI\n\n"
    'Acme turns a backlog   into reviews.\nIt\'s "fast" — and it runs on Linux, macOS\n'
    "and Windows. The café edition costs $20 per seat.\n"
)


def text_doc(text: str = SOURCE, title: str = "acme.md", name: str = "acme.md") -> Document:
    return Document(
        name=name, title=title, mime="text/plain", data=text.encode(), origin="file", source=name
    )


def pdf_doc(title: str = "paper.pdf") -> Document:
    return Document(
        name=title,
        title=title,
        mime="application/pdf",
        data=b"%PDF-1.7 ...",
        origin="file",
        source=title,
    )


def status(quote: str, docs: list[Document] | None = None, document: str = "acme.md") -> str:
    [checked] = check_all([Quote(quote=quote, document=document)], docs or [text_doc()])
    return checked.status


@pytest.mark.parametrize(
    "quote",
    [
        "Acme turns a backlog into reviews.",  # extra whitespace in the source
        "acme turns a backlog into reviews",  # case and the end stop
        "It’s “fast” – and it runs on Linux",  # curly quotes and an en dash for straight ones
        "it runs on Linux, macOS and Windows",  # a line break in the source
        "The cafe\u0301 edition costs $20 per seat",  # NFD in the quote, NFC in the source
        '"Acme turns a backlog into reviews."',  # the quote's own quote marks
        "Acme\u200b turns a backlog into reviews",  # an invisible character
        "Acme\u00a0turns a\tbacklog\ninto reviews",  # no-break space, tab, newline
    ],
)
def test_quote_in_the_source_is_verified(quote: str) -> None:
    """A quote the source holds is verified, however copying changed its spacing or typography."""
    assert status(quote) == "verified"


@pytest.mark.parametrize(
    "quote",
    [
        "Acme converts a backlog into reviews.",  # a paraphrase: one word changed
        "Acme turns backlogs into reviews.",  # a paraphrase: a plural
        "Acme turns a backlog ... costs $20 per seat",  # an elision
        "It is the only tool that ever needs zero configuration.",  # invented
        "",  # nothing at all
        "  ...  ",  # only punctuation
    ],
)
def test_quote_not_in_the_source_is_not_found(quote: str) -> None:
    """A paraphrase, an elision, an invented or an empty quote is not found."""
    assert status(quote) == "not found"


def test_nfc_source_and_nfd_source_are_the_same_text() -> None:
    """A source written in NFD verifies a quote typed in NFC."""
    nfd = text_doc("The cafe\u0301 edition is cheap.")
    assert status("The café edition", [nfd]) == "verified"


@pytest.mark.parametrize(
    ("document", "index"),
    [("acme.md", 0), ("Pricing page", 1), ("2", 1), ("Document 2", 1), ("#1", 0), ("nope", None)],
)
def test_quote_is_placed_in_the_document_that_holds_it(document: str, index: int | None) -> None:
    """The named document (by title or number) is searched first; a misnamed quote is still found."""
    docs = [text_doc("Alpha is fast."), text_doc("Teams pay $20 per seat.", "Pricing page", "p")]
    [e] = check_all([Quote(quote="Teams pay $20 per seat", document=document)], docs)
    assert (e.status, e.document_index) == ("verified", 1)
    [missing] = check_all([Quote(quote="nothing like this", document=document)], docs)
    assert (missing.status, missing.document_index) == ("not found", index)


def test_quote_from_a_pdf_is_unchecked_not_verified() -> None:
    """A quote naming a PDF, whose text the program does not have, is unchecked."""
    docs = [text_doc(), pdf_doc()]
    assert status("Figure 3 shows the speed-up", docs, "paper.pdf") == "unchecked"


def test_quote_naming_a_text_document_beside_a_pdf_is_not_found() -> None:
    """A quote naming a text document that does not hold it is not found, whatever a PDF holds."""
    assert status("Figure 3 shows the speed-up", [text_doc(), pdf_doc()], "acme.md") == "not found"


def test_normalize_folds_typography() -> None:
    """Curly quotes, dashes, ellipsis, case and whitespace fold to one plain form."""
    assert normalize("  “It’s”\u2014FAST\u2026\n ok ") == '"it\'s"-fast... ok'


def test_summary_counts_found_quotes() -> None:
    """The reader's line says how many quotes were found, and how many could not be checked."""
    assert summary(Tally(3, 2, 0)) == "2 of 3 quotes found in the sources"
    assert summary(Tally(2, 1, 1)) == "1 of 2 quotes found in the sources, 1 not checked (PDF)"
    assert summary(Tally()) == "No quotes given"


def test_share_leaves_out_unchecked_quotes() -> None:
    """The verified share counts only quotes that could be checked."""
    quotes = [
        Evidence(quote="a", document="1", status=s) for s in ("verified", "not found", "unchecked")
    ]
    assert tally(quotes).share == 0.5
    assert tally([]).share is None


def test_verdict_keeps_at_most_four_quotes() -> None:
    """A fifth quote is dropped rather than failing the verdict."""
    quotes = [{"quote": f"q{i}", "document": "1"} for i in range(6)]
    v = Verdict(score=80, decision="ship", rationale="Good.", evidence=quotes)
    assert [q.quote for q in v.evidence] == ["q0", "q1", "q2", "q3"]


def test_quote_needs_its_document() -> None:
    """A quote without the document it comes from does not validate."""
    with pytest.raises(ValidationError):
        Quote.model_validate({"quote": "Acme is fast."})


def test_schema_describes_evidence_for_the_model() -> None:
    """The JSON schema sent to the model asks for quotes and names each one's document."""
    schema = json.dumps(Verdict.model_json_schema())
    assert "copied word for word" in schema and "its number in order of appearance" in schema


def test_record_without_evidence_still_loads() -> None:
    """A run written before verdicts carried evidence (schema 1) loads, with evidence None."""
    old = make_run("r-old", [verdict("builder", 80)]).model_dump(mode="json")
    old["schema_version"] = 1
    for v in old["verdicts"]:
        del v["evidence"]
    run = Run.model_validate(old)
    assert run.verdicts[0].evidence is None


def test_judge_records_checked_evidence() -> None:
    """A persona's verdict is stored with each quote and what the check found."""
    parsed = Verdict(
        score=80,
        decision="ship",
        rationale="Good.",
        evidence=[
            Quote(quote="Acme turns a backlog into reviews.", document="acme.md"),
            Quote(quote="Acme is the fastest tool ever built.", document="1"),
        ],
    )
    session = Session(
        client=None,  # type: ignore[arg-type]  # the reply is given: no call is made
        registry=KnownFiles(),  # type: ignore[arg-type]
        prompts=Prompts(),
        docs=[text_doc()],
        tool_name="Acme",
        system="system",
        max_tokens=100,
    )
    first = Reply(parsed, parsed.model_dump_json(), "end_turn", Usage())
    record = asyncio.run(judge(session, load_personas()[0], "m", first=first))
    assert [(e.quote, e.status, e.document_index) for e in record.evidence or []] == [
        ("Acme turns a backlog into reviews.", "verified", 0),
        ("Acme is the fastest tool ever built.", "not found", 0),
    ]


@dataclass
class KnownFiles:
    """A registry that knows every document's file: enough for `Session.messages`."""

    inline: bool = False

    def known(self, doc: Document) -> str:
        return "file_1"
