"""Characters that render as nothing, stripped from every text that reaches the model.

Hidden words split by zero-width characters, or whole sentences smuggled in Unicode tag
characters, read as instructions to a model and as nothing to a person.
"""

from __future__ import annotations

import re

# Characters that render as nothing but reach a model: zero-width spaces and joiners, the word
# joiner, the byte order mark, the soft hyphen, invisible operators, bidi controls, variation
# selectors and Unicode tag characters (the last two can smuggle whole sentences).
INVISIBLE_CHARS = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\U000e0000-\U000e007f"
    "\U000e0100-\U000e01ef]"
)


def strip_invisible_chars(text: str) -> str:
    """`text` without the characters that render as nothing (see INVISIBLE_CHARS)."""
    return INVISIBLE_CHARS.sub("", text)


# C0 controls but \n and \t (ESC, BEL, backspace, carriage return, ...), DEL, C1 controls (8-bit
# CSI and OSC) and bidi overrides: none may move a terminal's cursor, clear its screen or ring its
# bell; XML (the feed) refuses them; and a bidi override reorders what a reader sees.
CONTROL_CHARS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def strip_control_chars(text: str) -> str:
    """Untrusted text as a terminal or a page may show it: without control characters but
    newline and tab (see CONTROL_CHARS)."""
    return CONTROL_CHARS.sub("", text)
