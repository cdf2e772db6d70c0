"""A backlog of tools to review: CSV, JSON Lines or YAML rows, validated as a whole before any call.

Every row needs a name and at least one source (a URL, a description, or files). Problems are
collected, not raised one at a time, so an editor fixes the whole file in one pass.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from panel.errors import InputError
from panel.sources.documents import (
    HTML_SUFFIXES,
    PDF_SUFFIXES,
    TEXT_SUFFIXES,
    escaping_link,
    is_url,
    refuse_escaping_link,
    slugify,
)
from panel.sources.names import normalize_name

FIELDS = ("name", "url", "description", "files")
FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".yaml": "yaml", ".yml": "yaml"}
FILE_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | PDF_SUFFIXES
# Python's csv module refuses longer fields; a text that long belongs in a file listed under `files`.
CSV_FIELD_LIMIT = csv.field_size_limit()


class TextLoader(yaml.SafeLoader):
    """YAML as written: `no`, `0x1F`, `1.0` and `2024-01-01` stay strings, so a tool named `no` is
    "no", not False. Only null (`~`, an empty value) and merge keys (`<<`) are still resolved."""


_KEPT_TAGS = ("tag:yaml.org,2002:null", "tag:yaml.org,2002:merge")
TextLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag in _KEPT_TAGS]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass(frozen=True)
class BacklogRow:
    """One tool to review; `files` are resolved against the backlog's directory."""

    name: str
    slug: str
    line: int
    url: str | None = None
    description: str | None = None
    files: tuple[str, ...] = ()

    @property
    def sources(self) -> list[str]:
        """What `Request.sources` takes: the files, then the URL."""
        return [*self.files, *([self.url] if self.url else [])]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "slug": self.slug,
            "line": self.line,
            "url": self.url,
            "description": self.description,
            "files": list(self.files),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BacklogRow:
        return cls(
            name=data["name"],
            slug=data["slug"],
            line=data["line"],
            url=data.get("url"),
            description=data.get("description"),
            files=tuple(data.get("files") or ()),
        )


@dataclass(frozen=True)
class RowError:
    file: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


@dataclass
class Backlog:
    path: Path
    rows: list[BacklogRow]
    errors: list[RowError] = field(default_factory=list)


def _slug(name: str) -> str:
    try:
        return slugify(name)
    except InputError:
        return ""


def _text(value: Any) -> str | None:
    """A cell as stripped text; empty cells and nulls are None."""
    if value is None:
        return None
    if not isinstance(value, str | int | float):
        raise ValueError(f"expected text, got {type(value).__name__}")
    text = str(value).strip()
    return text or None


def _files(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        items = [_text(v) for v in value]
    else:
        items = [p.strip() or None for p in (_text(value) or "").split(";")]
    return [i for i in items if i]


def _yaml_reason(exc: yaml.YAMLError) -> str:
    """A YAML error on one line: PyYAML's own text quotes the offending lines under a caret."""
    if isinstance(exc, yaml.MarkedYAMLError):
        return ": ".join(part for part in (exc.context, exc.problem) if part) or type(exc).__name__
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _yaml_line(exc: yaml.YAMLError, default: int) -> int:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    return mark.line + 1 if mark is not None else default


def _csv_rows(path: Path, text: str) -> tuple[list[tuple[int, Any]], list[RowError]]:
    name = str(path)
    rows: list[tuple[int, Any]] = []
    errors: list[RowError] = []
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in reader.fieldnames or []]
        if "name" not in header:
            return [], [RowError(name, 1, "the header row needs a 'name' column")]
        unknown = [h for h in header if h and h not in FIELDS]
        if unknown:
            errors.append(RowError(name, 1, f"unknown column(s): {', '.join(unknown)}"))
        reader.fieldnames = header
        for record in reader:
            line = reader.line_num  # the line the record ended on; rows span one line in practice
            if None in record:
                errors.append(RowError(name, line, "more cells than header columns"))
                continue
            if not any((v or "").strip() for v in record.values()):
                continue
            rows.append((line, record))
    except csv.Error as exc:  # the reader cannot go on past a malformed record
        line = max(reader.reader.line_num, 1)  # DictReader's own count lags one record behind
        if "field larger than field limit" in str(exc):
            raise InputError(
                f"{path}:{line}: a cell is over {CSV_FIELD_LIMIT:,} characters; "
                "put long text in a file and list it under 'files'"
            ) from None
        raise InputError(f"{path}:{line}: not valid CSV: {exc}") from None
    return rows, errors


def _jsonl_rows(path: Path, text: str) -> tuple[list[tuple[int, Any]], list[RowError]]:
    rows: list[tuple[int, Any]] = []
    errors: list[RowError] = []
    # "\n" only: str.splitlines also breaks at U+2028, U+0085 and others, which JSON allows
    # unescaped inside a string.
    for line, source in enumerate(text.split("\n"), start=1):
        if not source.strip():
            continue
        try:
            rows.append((line, json.loads(source)))
        except RecursionError:
            errors.append(RowError(str(path), line, "not valid JSON: nested too deeply"))
        except ValueError as exc:
            errors.append(RowError(str(path), line, f"not valid JSON: {exc}"))
    return rows, errors


def _yaml_rows(path: Path, text: str) -> tuple[list[tuple[int, Any]], list[RowError]]:
    """Rows of a YAML list, each built on its own, so one bad row does not hide the others."""
    rows: list[tuple[int, Any]] = []
    errors: list[RowError] = []
    loader = TextLoader(text)
    try:
        try:
            node = loader.get_single_node()
        except yaml.YAMLError as exc:
            line = _yaml_line(exc, 1)
            raise InputError(f"{path}:{line}: not valid YAML: {_yaml_reason(exc)}") from None
        except RecursionError:
            raise InputError(f"{path}: not valid YAML: nested too deeply") from None
        if node is None:
            return [], []
        if not isinstance(node, yaml.SequenceNode):
            return [], [RowError(str(path), node.start_mark.line + 1, "expected a list of tools")]
        for item in node.value:
            line = item.start_mark.line + 1
            try:
                rows.append((line, loader.construct_document(item)))
            except yaml.YAMLError as exc:
                reason = f"not valid YAML: {_yaml_reason(exc)}"
                errors.append(RowError(str(path), _yaml_line(exc, line), reason))
            except RecursionError:
                errors.append(RowError(str(path), line, "not valid YAML: nested too deeply"))
    finally:
        loader.dispose()
    return rows, errors


def raw_rows(path: Path, text: str) -> tuple[list[tuple[int, Any]], list[RowError]]:
    """(line, mapping) pairs in file order, plus errors for lines that are not rows at all.

    A file that cannot be read as its format at all (a CSV cell over the csv module's limit, YAML
    that does not parse) is one InputError naming the file and line: there are no rows to list.
    """
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise InputError(
            f"{path}: unsupported backlog format {path.suffix!r}: use .csv, .jsonl or .yaml"
        )
    if kind == "csv":
        return _csv_rows(path, text)
    if kind == "jsonl":
        return _jsonl_rows(path, text)
    return _yaml_rows(path, text)


def validate(path: Path, raw: list[tuple[int, Any]]) -> tuple[list[BacklogRow], list[RowError]]:
    """Rows that can be reviewed, and a reason for every one that cannot."""
    name_of = str(path)
    base = path.parent
    rows: list[BacklogRow] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    for line, data in raw:
        if not isinstance(data, dict):
            errors.append(
                RowError(name_of, line, "expected a mapping with name, url, description, files")
            )
            continue
        reasons: list[str] = []
        unknown = sorted(str(k) for k in data if k not in FIELDS)
        if unknown:
            reasons.append(f"unknown field(s): {', '.join(unknown)}")
        try:
            name = normalize_name(_text(data.get("name")) or "") or None
            url = _text(data.get("url"))
            description = _text(data.get("description"))
            files = _files(data.get("files"))
        except ValueError as exc:
            errors.append(RowError(name_of, line, str(exc)))
            continue
        slug = _slug(name or "")
        if not name:
            reasons.append("missing name")
        elif not slug:
            reasons.append(f"name {name!r} has no letters or digits")
        elif slug in seen:
            reasons.append(f"duplicate name {name!r} (first on line {seen[slug]})")
        if not (url or description or files):
            reasons.append("no source: give a url, a description or files")
        if url and not (is_url(url) and url.split("://", 1)[0].lower() in ("http", "https")):
            reasons.append(f"url {url!r} is not an http(s) URL")
        resolved = []
        for f in files:
            p = Path(f) if Path(f).is_absolute() else base / f
            # a relative file lives in the backlog's folder: a link on the way must not leave it
            inside = base if not Path(f).is_absolute() and ".." not in Path(f).parts else None
            target = escaping_link(p, inside)
            if target is not None:
                reasons.append(str(refuse_escaping_link(Path(f), target)))
            elif p.suffix.lower() not in FILE_SUFFIXES:
                reasons.append(f"file {f!r}: unsupported type {p.suffix or '(none)'!r}")
            elif not p.is_file():
                reasons.append(f"file {f!r}: no such file")
            resolved.append(str(p))
        if slug and slug not in seen:
            seen[slug] = line
        if reasons:
            errors.append(RowError(name_of, line, "; ".join(reasons)))
            continue
        assert name is not None
        rows.append(BacklogRow(name, slug, line, url, description, tuple(resolved)))
    return rows, errors


def parse(path: Path) -> Backlog:
    """Read and validate a backlog file; the format is chosen by its extension."""
    try:
        # Bytes, not read_text: universal newlines would turn a "\r" inside a quoted CSV cell
        # into "\n"; every reader below handles "\r\n" itself.
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"{path}: no such backlog file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read: {exc}") from exc
    raw, errors = raw_rows(path, text)
    rows, row_errors = validate(path, raw)
    all_errors = sorted(errors + row_errors, key=lambda e: e.line)
    return Backlog(path, rows, all_errors)


def load(path: Path, *, skip_invalid: bool = False) -> Backlog:
    """A backlog ready to run; every invalid row is listed in one error unless skipped."""
    backlog = parse(path)
    if len(backlog.errors) == 1 and not skip_invalid:
        raise InputError(f"{backlog.errors[0]}; fix it or pass --skip-invalid")
    if backlog.errors and not skip_invalid:
        lines = "\n".join(f"  {e}" for e in backlog.errors)
        raise InputError(
            f"{path}: {len(backlog.errors)} invalid row(s); "
            f"fix them or pass --skip-invalid:\n{lines}"
        )
    if not backlog.rows:
        raise InputError(f"{path}: no tools to review")
    return backlog
