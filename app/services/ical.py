"""iCalendar (RFC 5545) content lines written directly, byte for byte as the icalendar library writes the few
properties of a schedule (its TEXT escaping, parameter quoting, folding at 75 octets without splitting a UTF-8
character): the library took ~1 ms per event to build and write them. The library still decides what only it
knows well, once per time zone: the zone's VTIMEZONE and how a time in that zone is written.
tests/api/test_export_bytes.py compares both, also on generated text."""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

import icalendar

_SAMPLE = datetime(2000, 1, 2, 3, 4, 5)
_SAMPLE_TEXT = "20000102T030405"


_TEXT_SPECIAL = re.compile(r"[\\;,\r\n]")


def text(value: str) -> str:
    """A TEXT value escaped as icalendar does (in its order: it reads a literal "\\N" as a line break)."""
    if not _TEXT_SPECIAL.search(value):  # most names: nothing to escape
        return value
    if "\\" not in value and "\r" not in value:  # most descriptions: the steps that find nothing left out
        return value.replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")
    return (
        value.replace("\\N", "\n")
        .replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


_RFC_6868 = re.compile(r'\^|\r\n|\r|\n|"')
_RFC_6868_OUT = {"^": "^^", "\n": "^n", "\r": "^n", "\r\n": "^n", '"': "^'"}
_QUOTABLE = re.compile("[,;:’]")  # noqa: RUF001 (icalendar quotes a typographic apostrophe too)


def param(value: str) -> str:
    """A parameter value: RFC 6868 escapes, in double quotes when it holds , ; : or ’ (as icalendar writes it)."""
    value = _RFC_6868.sub(lambda m: _RFC_6868_OUT[m.group(0)], value).replace('"', "'")
    return f'"{value}"' if _QUOTABLE.search(value) else value


def fold(line: str) -> str:
    """`line` in parts of at most 74 octets joined by CRLF and a space, never inside a UTF-8 character, and (as
    icalendar does, for older readers) never right after a backslash or caret that starts an escape."""
    if line.isascii():
        if len(line) <= 74:
            return line
        data = line.encode()
    else:
        data = line.encode()
        if len(data) <= 74:
            return line
    parts = []
    start, size = 0, len(data)
    while size - start > 74:
        end = start + 74
        while data[end] & 0xC0 == 0x80:  # the next part starts at a character's first byte
            end -= 1
        if end - start > 1 and data[end - 1] in b"\\^":
            end -= 1
        parts.append(data[start:end])
        start = end
    parts.append(data[start:])
    return b"\r\n ".join(parts).decode()


@lru_cache(maxsize=64)
def zone(tz: ZoneInfo) -> tuple[str, str, list[str]]:
    """How icalendar writes a time in `tz`: the text between a property's name and the time (";TZID=...:" or
    ":"), what follows the time ("Z" in UTC), and the zone's VTIMEZONE lines (none for UTC), which it writes for
    1970 to 2038 whatever the events' dates."""
    calendar = icalendar.Calendar()
    event = icalendar.Event()
    event.add("dtstart", _SAMPLE.replace(tzinfo=tz))
    calendar.add_component(event)
    calendar.add_missing_timezones()
    lines = calendar.to_ical().decode().split("\r\n")
    dtstart = lines[lines.index("BEGIN:VEVENT") + 1]
    before, after = dtstart[len("DTSTART") :].split(_SAMPLE_TEXT)
    timezone = (
        lines[lines.index("BEGIN:VTIMEZONE") : lines.index("END:VTIMEZONE") + 1] if "BEGIN:VTIMEZONE" in lines else []
    )
    return before, after, timezone


def wall(moment: datetime) -> str:
    """A time as its wall clock reads ("20270716T180000"), cut from its ISO text (a third of the time of
    formatting the six fields)."""
    iso = moment.isoformat()
    return f"{iso[0:4]}{iso[5:7]}{iso[8:10]}T{iso[11:13]}{iso[14:16]}{iso[17:19]}"


def stamp(version: str) -> str:
    """An RFC 3339 UTC version ("2027-01-10T10:30:00Z") as a UTC DATE-TIME ("20270110T103000Z")."""
    return f"{version[0:4]}{version[5:7]}{version[8:10]}T{version[11:13]}{version[14:16]}{version[17:19]}Z"
