"""Template filters for the portal's times: unix seconds shown in a festival's time zone (its
`festival_timezone`, passed as the filter's argument; UTC without one), with the weekday."""

from __future__ import annotations

import re
from datetime import datetime

from markupsafe import Markup, escape

from app.services import timetable


def _when(seconds, zone: str | None = None) -> str:
    """ "Fri 12 Jun 20:00" """
    return timetable.format_time(seconds, timetable.zone_named(zone))


def _version_when(version: str, zone: str | None = None) -> str:
    """A row's version ("2026-12-07T14:49:01Z", the API's form) as "Mon 7 Dec 15:49" in the festival's zone."""
    moment = datetime.fromisoformat(version.replace("Z", "+00:00"))
    return _when(int(moment.timestamp()), zone)


def _day(seconds, zone: str | None = None) -> str:
    """ "Fri 12 Jun 2026" """
    if not seconds:
        return "—"
    return timetable.describe_day(timetable.local(seconds, timetable.zone_named(zone)).date())


def _clock(seconds, zone: str | None = None) -> str:
    """ "20:00" """
    return timetable.format_time(seconds, timetable.zone_named(zone), weekday=False)


def _until(end, start, zone: str | None = None) -> str:
    """An end after its start: "22:00" on the same day, "Sat 13 Jun 01:30" on another."""
    named = timetable.zone_named(zone)
    if end and start and timetable.local(end, named).date() == timetable.local(start, named).date():
        return timetable.format_time(end, named, weekday=False)
    return timetable.format_time(end, named)


_ADDRESSES = re.compile(r"https?://\S+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def _breakable(text: str) -> Markup:
    """Text whose email addresses and URLs may break before an @ and after dots and slashes (<wbr>), so a long
    one wraps on a phone or in a table cell without a break between two letters."""

    def soften(address: re.Match) -> str:
        return re.sub(r"@|[./]", lambda m: "<wbr>@" if m.group() == "@" else m.group() + "<wbr>", address.group())

    return Markup(_ADDRESSES.sub(soften, str(escape(text))))


def counted(count: int, word: str, plural: str | None = None) -> str:
    """ "1 event", "24 events" (`plural` where adding an s is wrong)."""
    return f"{count} {word if count == 1 else plural or word + 's'}"


def init_filters(bp) -> None:
    bp.add_app_template_filter(counted, "counted")
    bp.add_app_template_filter(_breakable, "breakable")
    bp.add_app_template_filter(_day, "day")
    bp.add_app_template_filter(_when, "when")
    bp.add_app_template_filter(_version_when, "version_when")
    bp.add_app_template_filter(_clock, "clock")
    bp.add_app_template_filter(_until, "until")
