"""How a request frames what it carries: documents as blocks, tool names kept out of instructions.

Apart from the calls so that the rules that keep fetched text in its place (inside document blocks,
its closing tags defused; a name read from a page never in an instruction) sit in one small module.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import Any

from panel.judge.personas import Persona
from panel.judge.prompts import Prompts
from panel.sources.documents import Document

# A closing document tag inside an inlined document, however it is spelled.
CLOSING_TAG = re.compile(r"</\s*document", re.IGNORECASE)

# How the instructions name a tool whose name was read from its documents.
UNNAMED_TOOL = "the tool described in the documents"


class GivenName(str):
    """A tool name the user gave (`--name`, a backlog's name column): the only name that may
    appear in instructions.

    A name derived from the documents (a page's <title>, og:title or first heading) is text from
    a source, and text from a source stays inside document blocks: instructions call that tool
    UNNAMED_TOOL. Unmarked is untrusted, so a name that loses its mark fails closed.
    """


def instruction_name(tool_name: str) -> str:
    """The name to put in instructions: a GivenName as is (still marked, so applying this twice
    changes nothing), anything else as UNNAMED_TOOL."""
    return tool_name if isinstance(tool_name, GivenName) else UNNAMED_TOOL


def inline_document(doc: Document) -> dict[str, Any]:
    """A text document as a text block, for servers without a Files API (Ollama, vLLM, llama.cpp).

    Wrapped in `<document>` tags so it reads as material, not instructions; a closing tag inside
    the text is defused so a page cannot end its own document early.
    """
    title = html.escape(doc.title, quote=True)
    source = f' source="{html.escape(doc.source, quote=True)}"' if doc.origin == "url" else ""
    text = CLOSING_TAG.sub("&lt;/document", doc.data.decode("utf-8", "replace"))
    return {"type": "text", "text": f'<document title="{title}"{source}>\n{text}\n</document>'}


def document_blocks(
    docs: Sequence[Document],
    file_ids: Sequence[str],
    *,
    ttl: str | None = None,
    cache: bool = True,
    inline: bool = False,
) -> list[dict[str, Any]]:
    """Every document as a file reference (or, `inline`, as a text block); the last one closes the
    shared, cacheable prefix (unless `cache` is off: a call whose write nobody would read should
    not pay for it)."""
    blocks: list[dict[str, Any]] = [
        inline_document(doc)
        if inline
        else {
            "type": "document",
            "source": {"type": "file", "file_id": fid},
            "title": doc.title,
            **({"context": f"Source: {doc.source}"} if doc.origin == "url" else {}),
        }
        for doc, fid in zip(docs, file_ids, strict=True)
    ]
    if blocks and cache:
        blocks[-1]["cache_control"] = {"type": "ephemeral", **({"ttl": ttl} if ttl else {})}
    return blocks


def sent_file_ids(messages: list[dict[str, Any]]) -> list[str]:
    """The file_ids of the document blocks in `messages`."""
    return [
        block["source"]["file_id"]
        for message in messages
        if isinstance(message.get("content"), list)
        for block in message["content"]
        if isinstance(block, dict) and block.get("source", {}).get("type") == "file"
    ]


def persona_instruction(prompts: Prompts, persona: Persona, tool_name: str) -> str:
    """A persona's instruction; `tool_name` appears in it only if the user gave it (GivenName)."""
    return prompts.render("persona", persona=persona, tool_name=instruction_name(tool_name))
