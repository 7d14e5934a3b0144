"""What people type, made safe to store and show: no invisible or direction-changing characters."""

from __future__ import annotations

import unicodedata

# Format (Cf: zero-width spaces and joiners, bidirectional overrides and isolates, the BOM),
# control (Cc), surrogate and private-use characters carry no visible meaning in a reason, and
# a bidirectional override can make a stored text read differently from what was typed.
_INVISIBLE = {"Cf", "Cc", "Cs", "Co"}


def visible_text(text: str | None) -> str:
    """`text` without invisible characters, its runs of whitespace turned into single spaces."""
    kept = "".join(
        " " if char.isspace() else char
        for char in text or ""
        if char.isspace() or unicodedata.category(char) not in _INVISIBLE
    )
    return " ".join(kept.split())


def ascii_number(text: str, *, max_digits: int = 18) -> int | None:
    """`text` as a whole number written with ASCII digits 0-9 only, or None.

    `str.isdecimal()` accepts every script's digits ("٣", "１"), which would let two spellings
    name one id; a length bound keeps a huge value from being read as a number at all.
    """
    if not text or len(text) > max_digits or not (text.isascii() and text.isdigit()):
        return None
    return int(text)
