"""The fake API's reply content: scripted replies first, else one made up for the request.

A mixin of `FakeAnthropic`, apart from the Messages handler that sends the content.
"""

from __future__ import annotations

import hashlib
import html
import json
import random
from typing import Any

from panel.demo.fake_state import FakeState, Reply
from panel.demo.fake_text import (
    DOCUMENT_HEADING,
    INLINE_TITLE,
    PERSONA_IN_TEXT,
    SENTENCE_SUBJECT,
    SENTENCES,
    SUBJECT,
    THOUGHT,
    UNNAMED_SUBJECT,
    _first_fact,
    _group_subject,
    _is_pairwise,
    _SchemaFaker,
)


class FakeContent(FakeState):
    """What a reply says."""

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
