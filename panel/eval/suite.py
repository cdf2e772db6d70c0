"""An eval suite: a YAML file of tools (sources as in a backlog) with optional labels from people.

    name: Developer tools with a known outcome
    tools:
      - name: Atom
        url: https://github.com/atom/atom
        description: A hackable desktop text editor built on Electron by GitHub.
        outcome: archived          # or `label: ship|skip`; an outcome names its label
        reason: GitHub archived the project in December 2022.

A bare list of tools is a suite too. Rows follow a backlog's fields (`name`, `url`, `description`,
`files`); every problem is listed in one error. (batch/ is a sibling layer, so its parser is not
imported here.)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from panel.errors import InputError
from panel.sources.documents import is_url, slugify

FIELDS = ("name", "url", "description", "files", "label", "outcome", "reason")
# Public outcomes a suite may give instead of a label, and the label each one stands for.
OUTCOMES = {
    "adopted": "ship",
    "widely adopted": "ship",
    "maintained": "ship",
    "abandoned": "skip",
    "archived": "skip",
    "deprecated": "skip",
    "discontinued": "skip",
    "shut down": "skip",
}


@dataclass(frozen=True)
class SuiteTool:
    """One tool of a suite: what to review, and what people decided about it (if anyone did)."""

    name: str
    slug: str
    line: int
    url: str | None = None
    description: str | None = None
    files: tuple[str, ...] = ()
    label: str | None = None
    outcome: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class Suite:
    path: Path
    name: str
    tools: list[SuiteTool]

    @property
    def labelled(self) -> int:
        return sum(t.label is not None for t in self.tools)


def _label(data: dict[str, Any]) -> tuple[str | None, str | None, str | None, list[str]]:
    """(label, outcome, reason, problems) of one row; an outcome implies its label."""
    problems = []
    label = str(data.get("label") or "").strip().lower() or None
    outcome = str(data.get("outcome") or "").strip() or None
    reason = str(data.get("reason") or "").strip() or None
    if label is not None and label not in ("ship", "skip"):
        problems.append(f"label {label!r}: use ship or skip")
    implied = OUTCOMES.get(outcome.lower()) if outcome else None
    if outcome and label is None:
        if implied is None:
            problems.append(
                f"outcome {outcome!r} names no label: use one of {', '.join(OUTCOMES)} "
                "or add label: ship|skip"
            )
        label = implied
    elif implied is not None and label is not None and implied != label:
        problems.append(f"outcome {outcome!r} means {implied}, but label says {label}")
    return label, outcome, reason, problems


def _items(path: Path, text: str) -> tuple[str, list[tuple[int, Any]]]:
    """(suite name, (line, mapping) per tool), read node by node to keep line numbers.

    BaseLoader keeps every scalar a string: a tool named `no` is "no", a date stays as written.
    """
    loader = yaml.BaseLoader(text)
    try:
        node = loader.get_single_node()
        name = path.stem
        if isinstance(node, yaml.MappingNode):
            top = {k.value: v for k, v in node.value if isinstance(k, yaml.ScalarNode)}
            if isinstance(top.get("name"), yaml.ScalarNode):
                name = str(top["name"].value)
            node = top.get("tools")
        if not isinstance(node, yaml.SequenceNode):
            raise InputError(f"{path}: expected a list of tools (or a mapping with `tools:`)")
        items = [(item.start_mark.line + 1, loader.construct_document(item)) for item in node.value]
        return name, items
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: not valid YAML: {str(exc).splitlines()[0]}") from None
    finally:
        loader.dispose()


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _tool(path: Path, line: int, data: Any, seen: set[str]) -> tuple[SuiteTool | None, list[str]]:
    """One row as a tool, or the reasons it is not one."""
    if not isinstance(data, dict):
        return None, ["expected a mapping with name, url, description, files, label, reason"]
    problems = [f"unknown field(s): {', '.join(sorted(k for k in data if k not in FIELDS))}"]
    problems = problems if any(k not in FIELDS for k in data) else []
    name, url, description = (_text(data.get(k)) for k in ("name", "url", "description"))
    raw_files = data.get("files") or []
    files = [f for f in ([raw_files] if isinstance(raw_files, str) else raw_files) if f]
    try:
        slug = slugify(name or "")
    except InputError:
        slug = ""
    if not name or not slug:
        problems.append("missing name" if not name else f"name {name!r} has no letters or digits")
    elif slug in seen:
        problems.append(f"duplicate name {name!r}")
    seen.add(slug)
    if not (url or description or files):
        problems.append("no source: give a url, a description or files")
    if url and not (is_url(url) and url.split("://", 1)[0].lower() in ("http", "https")):
        problems.append(f"url {url!r} is not an http(s) URL")
    resolved = []
    for f in files:
        p = Path(f) if Path(f).is_absolute() else path.parent / f
        if not p.is_file():
            problems.append(f"file {f!r}: no such file")
        resolved.append(str(p))
    label, outcome, reason, bad = _label(data)
    problems += bad
    if problems or name is None:
        return None, problems
    tool = SuiteTool(name, slug, line, url, description, tuple(resolved), label, outcome, reason)
    return tool, []


def load_suite(path: Path) -> Suite:
    """A suite ready to run; every invalid tool is listed in one error."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"{path}: no such suite file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read: {exc}") from None
    name, items = _items(path, text)
    tools: list[SuiteTool] = []
    problems: list[str] = []
    seen: set[str] = set()
    for line, data in items:
        tool, bad = _tool(path, line, data, seen)
        problems += [f"{path}:{line}: {p}" for p in bad]
        if tool is not None:
            tools.append(tool)
    if len(problems) == 1:
        raise InputError(problems[0])
    if problems:
        raise InputError(
            f"{path}: {len(problems)} problems:\n" + "\n".join(f"  {p}" for p in problems)
        )
    if not tools:
        raise InputError(f"{path}: no tools to review")
    return Suite(path, name, tools)
