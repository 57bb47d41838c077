"""Text rules shared by handlers and services: whole numbers as clients type them, keys of unique names."""

from __future__ import annotations

import unicodedata


def whole_number(raw: str | None, max_digits: int = 19) -> int | None:
    """`raw` as a non-negative int when it is ASCII digits only (surrounding spaces allowed), else None.
    str.isdigit() alone accepts '²' or '١', which int() then rejects or reads differently."""
    text = (raw or "").strip()
    if not text or len(text) > max_digits or not (text.isascii() and text.isdigit()):
        return None
    return int(text)


def name_key(name: str) -> str:
    """The identity of a unique name (festival, tag): compatibility-normalised (fullwidth 'Ｊａｚｚ' is
    'jazz'), case-folded ('STRASSE' is 'straße'), NFC/NFD spellings equal, invisible format characters
    (zero-width space/joiner, soft hyphen, BOM) dropped and runs of white space made one space."""
    visible = "".join(ch for ch in unicodedata.normalize("NFKC", name) if unicodedata.category(ch) != "Cf")
    return " ".join(unicodedata.normalize("NFKC", visible.casefold()).split())
