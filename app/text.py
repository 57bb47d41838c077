"""Text rules shared by handlers and services: whole numbers as clients type them."""
from __future__ import annotations


def whole_number(raw: str | None, max_digits: int = 19) -> int | None:
    """`raw` as a non-negative int when it is ASCII digits only (surrounding spaces allowed), else None.
    str.isdigit() alone accepts '²' or '١', which int() then rejects or reads differently."""
    text = (raw or "").strip()
    if not text or len(text) > max_digits or not (text.isascii() and text.isdigit()):
        return None
    return int(text)
