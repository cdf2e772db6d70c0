"""The fake API's default replies: verdicts, cards and rationales made up from the documents.

Apart from the endpoints: what a reply says when no test scripted it, derived from the
request's documents so that the demo and the end-to-end tests read plausibly.
"""

from __future__ import annotations

import random
import re
from typing import Any

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


# How panel's prompts name the tool under review ("Tool under review: X", "tool card for X. ").
SUBJECT = re.compile(r"(?:Tool under review: |tool card for )([^\n]+?)(?:\.\s|\n|$)")


# What the prompts say when the user gave no name; the model then names the tool from the documents.
UNNAMED_SUBJECT = "the tool described in the documents"


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
