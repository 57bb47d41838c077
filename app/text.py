"""Text rules shared by handlers and services: whole numbers as clients type them, keys of unique names."""

from __future__ import annotations

import re
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


# Characters XML 1.0 cannot carry: C0 controls but tab, LF and CR; U+FFFE and U+FFFF; lone surrogates.
XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")  # names: no control character at all


def xml_text(value: str) -> str:
    """`value` without the characters XML 1.0 forbids (an export must be well-formed whatever is stored)."""
    return XML_FORBIDDEN.sub("", value)


def has_control(value: str) -> bool:
    return CONTROL.search(value) is not None


# A spreadsheet runs a cell starting with one of these as a formula (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: str) -> str:
    """OWASP's defence: a cell a spreadsheet would run starts with a quote. Also one that already starts with
    quotes before such a character, so that `csv_uncell` gives back exactly what was stored."""
    return "'" + value if value.lstrip("'").startswith(FORMULA_START) else value


def csv_uncell(value: str) -> str:
    """The import's undo of `csv_cell`."""
    return value[1:] if value.startswith("'") and value.lstrip("'").startswith(FORMULA_START) else value
