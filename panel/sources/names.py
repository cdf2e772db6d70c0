"""A tool's name as an identity, and its slug: the key its runs are stored under.

A name is stored in Unicode NFC and compared with its whitespace and case folded, so `Café`
typed as one code point or as `e` plus a combining accent is one tool. The slug keeps the
letters of Latin names (`Café` is `cafe`, `Straße` `strasse`: text-unidecode, the table
python-slugify uses) and leaves every other script to a stable hash, as before. Slugs are
stored keys, so the rules of earlier versions are kept (`previous_slugs`) for finding the runs
recorded under them.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

from panel.errors import InputError

# A `+` or `#` right after a letter, digit or another of them is part of the name: C, C++ and C#
# are three languages. Elsewhere (`#1 tool`, `a + b`) they separate words like any other sign.
_ATTACHED_SIGN = re.compile(r"(?<=[a-z0-9+#])[+#]")
_SIGN_WORDS = {"+": "plus", "#": "sharp"}


def normalize_name(name: str) -> str:
    """The name as stored and shown: NFC, trimmed (inside, it stays as written)."""
    return unicodedata.normalize("NFC", name).strip()


def name_key(name: str) -> str:
    """What two names must share to be one tool's: NFC, every run of whitespace one space,
    case folded."""
    return " ".join(unicodedata.normalize("NFC", name).split()).casefold()


def slugify(name: str) -> str:
    """A path-safe key for a tool: `^[a-z0-9][a-z0-9-]{0,63}$`, so never `/` or `..`.

    Lowercase ASCII letters and digits, every other run of characters one dash: `Acme CLI` is
    `acme-cli`. Latin letters with accents are spelled without them (`Crème Brûlée` is
    `creme-brulee`); a `+` or `#` attached to a name is spelled out (C is `c`, C++ `c-plus-plus`,
    C# `c-sharp`); a name with no Latin letter or digit but other letters, digits or symbols
    (`日本語ツール`, `🚀`) is `tool-` plus 8 hex digits of its SHA-256: stable rather than
    readable. A name with nothing to key on (`!!!`) is an InputError. Names that still share a
    slug (`Node.js`, `Node JS`) are told apart by the store.
    """
    slug = _ascii_slug(_transliterate(normalize_name(name)))  # NFC: é is one LATIN letter
    return slug or _hashed_slug(name)


def previous_slugs(name: str) -> list[str]:
    """The slugs earlier versions gave `name`, newest rule first, where they differ from today's:
    before transliteration (`Café` was `caf`, `É` hashed), and before `+` and `#` were spelled
    out (`C++` was `c`). Only runs bearing the name may be found under them."""
    name = normalize_name(name)
    found: list[str] = []
    for old in (_ascii_slug(name) or _maybe_hashed(name), _slug_v1(name)):
        if old and old not in found:
            found.append(old)
    return [s for s in found if s != _maybe(slugify, name)]


def _transliterate(name: str) -> str:
    """Latin letters as ASCII (`é` -> `e`, `ß` -> `ss`); every other character as it is."""
    return "".join(
        _unidecode(c) if ord(c) > 127 and unicodedata.name(c, "").startswith("LATIN ") else c
        for c in name
    )


def _ascii_slug(name: str) -> str:
    spelled = _ATTACHED_SIGN.sub(lambda m: f"-{_SIGN_WORDS[m.group()]}-", name.lower())
    return re.sub(r"[^a-z0-9]+", "-", spelled).strip("-")[:64].strip("-")


def _hashed_slug(name: str) -> str:
    if any(ord(c) > 127 and unicodedata.category(c)[0] in "LNS" for c in name):
        key = " ".join(unicodedata.normalize("NFKC", name).casefold().split())
        return "tool-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:8]
    raise InputError(f"--name {name!r}: has no letters or digits to make a key from")


def _maybe_hashed(name: str) -> str:
    return _maybe(_hashed_slug, name)


def _maybe(make: object, name: str) -> str:
    try:
        return make(name)  # type: ignore[operator, no-any-return]
    except InputError:
        return ""


def _slug_v1(name: str) -> str:
    """The first rule: ASCII letters and digits, all else a dash (`C++` was `c`)."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:64].strip("-")


def _unidecode(c: str) -> str:
    """text-unidecode's ASCII for one Latin letter, imported only when a name has one."""
    from text_unidecode import unidecode

    return str(unidecode(c))
