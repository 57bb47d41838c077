"""A festival's schedule as other tools read it: iCalendar, the Frab/pretalx "schedule" format (JSON and
XML: schedule → conference → days → rooms → events) and a CSV of its events; and the festival as the app
shows it (the visitor preview).

The festival is the API's own dict (the read of `GET /festivals/{id}`, which applies the draft rule); its
events come from one lean query with their stages and artists (only the columns the files show) and one for
their images and videos; the preview reads them as `GET /festivals/{id}/events?include=...` does. Published
festivals are readable by anyone (calendar apps poll a subscription URL without headers); drafts only by their
owner and admins, like every other read."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from itertools import groupby
from zoneinfo import ZoneInfo

import orjson
from peewee import JOIN, SQL

from app import sql_shapes
from app.db import db, is_sqlite
from app.errors import NotFound
from app.models import Festival
from app.models.relations import FestivalEvent
from app.permissions import Actor
from app.registry import ENTITIES
from app.serialize import version_text
from app.services import ical as ical_lines
from app.services import writes
from app.services.reads import ListQuery, fetch, read_scope
from app.services.timetable import zone_of
from app.text import FORMULA_START, csv_cell, xml_text

# Fixed, so that a guid (and the calendar UID made from it) never changes: calendar apps and schedule
# readers update an event they know instead of showing it twice.
GUID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://festivalsapp.org/schedule")
# "id": the event's id, so that a re-import of an edited file knows a renamed or moved act (optional when importing)
CSV_COLUMNS = ("name", "day", "start", "end", "stage", "artists", "type", "description", "id")
NO_STAGE = "No stage"
GENERATOR = "FestivalsApp"


@dataclass
class Program:
    festival: dict  # the API's festival dict (with `include` when parts were asked for)
    events: list[dict]  # the API's event dicts with include artist and location, in time order
    zone: ZoneInfo
    # seconds → local time: each export asks for an event's start and end several times
    _local: dict[int, datetime] = field(default_factory=dict, repr=False, compare=False)

    @property
    def timed(self) -> list[dict]:
        """Events with a start time: what calendars and schedule readers can place."""
        return [event for event in self.events if event["event_start"] > 0]

    def local(self, seconds: int) -> datetime:
        found = self._local.get(seconds)
        if found is None:
            # timetable.local's time in one step (the zone converts from UTC either way)
            found = self._local[seconds] = datetime.fromtimestamp(seconds, self.zone)
        return found

    def days(self, events: list[dict] | None = None) -> list[tuple]:
        """(local date, its events) for the timed `events` (all timed ones by default), in time order."""
        timed = self.timed if events is None else events
        return [(day, list(group)) for day, group in groupby(timed, key=lambda e: self.local(e["event_start"]).date())]


def _include(entity: str, *names: str) -> list:
    spec = ENTITIES[entity]
    return [(name, spec.relations[name]) for name in names]


def _events_query() -> ListQuery:
    return ListQuery(include=_include("event", "artist", "location", "image", "video"))


def load_scope(actor: Actor) -> tuple[set, str]:
    """What `load` (without parts) reads: the tables whose data-version counters key a cached export, and the
    caller's visibility class (app/services/reads.py's read_scope)."""
    return read_scope("event", actor, _events_query(), ENTITIES["festival"].relations["events"], anyone=True)


def load(festival_id: int, actor: Actor, *, parts: bool = False) -> Program:
    """The festival (a draft only for its owner or an admin, else NotFound) and its events with artists
    and locations; with `parts` also the festival's image, place, links and tags."""
    festival_parts = _include("festival", "image", "place", "links", "tags") if parts else []
    found = fetch(ENTITIES["festival"], actor, ListQuery(ids=[festival_id], include=festival_parts))
    if not found:
        raise NotFound(f"no festival with id {festival_id}")
    if parts:  # the preview shows what the API serves
        via = (ENTITIES["festival"].relations["events"], festival_id)
        events = fetch(ENTITIES["event"], actor, _events_query(), via=via)
        events.sort(key=lambda event: (event["event_start"], event["event_id"]))
    else:
        events = _events(festival_id)
    return Program(found[0], events, zone_of(found[0]))


NO_PARTS = ()  # an event's images or videos when it has none: one for all (read-only)


@lru_cache(maxsize=4)
def _events_shape(dialect: str) -> tuple[str, tuple]:
    """A festival's events (by the festival's id) in time order, each with its stage (it has one at most) and
    one row per artist (by artist id; one row without when it has none): only the columns the files show. No
    visibility rule: an event is in one festival only, and the festival was just found visible (an event is
    hidden only as part of a draft its reader may not see)."""
    spec = ENTITIES["event"]
    event, stage, artist = spec.model, ENTITIES["location"].model, ENTITIES["artist"].model
    listed = ENTITIES["festival"].relations["events"]
    located, playing = spec.relations["location"], spec.relations["artist"]
    query = (
        event.select(
            event.id,
            version_text(event.version),
            event.name,
            event.description,
            event.type,
            event.start,
            event.end,
            stage.id,
            stage.name,
            stage.description,
            artist.id,
            artist.name,
        )
        .join(listed.table, on=(listed.related_column == event.id))
        .switch(event)
        .join(located.table, JOIN.LEFT_OUTER, on=(located.owner_column == event.id))
        .join(stage, JOIN.LEFT_OUTER, on=(stage.id == located.related_column))
        .switch(event)
        .join(playing.table, JOIN.LEFT_OUTER, on=(playing.owner_column == event.id))
        .join(artist, JOIN.LEFT_OUTER, on=(artist.id == playing.related_column))
        .where(listed.owner_column == sql_shapes.OWNER)
        .order_by(event.start, event.id, artist.id)
    )
    return sql_shapes.compile_shape(query)


def _events(festival_id: int) -> list[dict]:
    """The festival's events in time order as dicts of the fields the files show, each with the `include` of
    its artists, location, image and video: one query for the events with their stages and artists, one per
    other part."""
    sql, slots = _events_shape("sqlite" if is_sqlite() else "postgresql")
    stages: dict[int, list[dict]] = {}  # a stage shared by many events is one dict (read-only)
    events = []
    event_id = artists = None
    for row in db.execute_sql(sql, sql_shapes.bind(slots, {"owner": festival_id})):
        if row[0] != event_id:
            event_id, stage_id, artists = row[0], row[7], []
            if stage_id is None:
                located = []
            else:
                located = stages.get(stage_id)
                if located is None:
                    located = stages[stage_id] = [
                        {"location_id": stage_id, "location_name": row[8], "location_description": row[9]}
                    ]
            events.append(
                {
                    "event_id": event_id,
                    "event_version": row[1],
                    "event_name": row[2],
                    "event_description": row[3],
                    "event_type": row[4],
                    "event_start": row[5],
                    "event_end": row[6],
                    "include": {"artist": artists, "location": located, "image": NO_PARTS, "video": NO_PARTS},
                }
            )
        if row[10] is not None:
            artists.append({"artist_id": row[10], "artist_name": row[11]})
    _attach_parts(events, festival_id)
    return events


@lru_cache(maxsize=4)
def _media_shape(dialect: str) -> tuple[str, tuple]:
    """The images (kind 0) and videos (kind 1) of every event of a festival, by the festival's id, each kind
    by id (the order of the API's includes): one query for both, most festivals' events have neither."""
    spec = ENTITIES["event"]
    branches = []
    for kind, (segment, mime) in enumerate((("image", None), ("video", "mime"))):
        relation, model = spec.relations[segment], ENTITIES[segment].model
        branches.append(
            model.select(
                relation.owner_column, SQL(str(kind)), model.id, model.ref, getattr(model, mime) if mime else SQL("''")
            )
            .join(relation.table, on=(relation.related_column == model.id))
            .join(FestivalEvent, on=(FestivalEvent.related == relation.owner_column))
            .where(FestivalEvent.owner == sql_shapes.OWNER)
        )
    return sql_shapes.compile_shape((branches[0] + branches[1]).order_by(SQL("2"), SQL("3")))


def _attach_parts(events: list[dict], festival_id: int) -> None:
    """Each event's images and videos (in its `include`, where `_events` left none): one query for the
    festival's events (all visible: an event is in one festival only, and the festival was just found
    visible)."""
    sql, slots = _media_shape("sqlite" if is_sqlite() else "postgresql")
    by_id = None
    for row in db.execute_sql(sql, sql_shapes.bind(slots, {"owner": festival_id})):
        if by_id is None:  # most festivals' events have neither
            by_id = {event["event_id"]: event["include"] for event in events}
        parts = by_id.get(row[0])
        if parts is None:  # linked since the events were read
            continue
        if row[1] == 0:
            media = {"image_id": row[2], "image_ref": row[3]}
            kind = "image"
        else:
            media = {"video_id": row[2], "video_ref": row[3], "video_mime": row[4]}
            kind = "video"
        if parts[kind]:
            parts[kind].append(media)
        else:
            parts[kind] = [media]


def preview(festival_id: int, actor: Actor) -> Program:
    """The visitor preview of a festival its owner (or an admin) is editing, drafts included."""
    writes.require_editable("festival", festival_id, actor)
    return load(festival_id, actor, parts=True)


# --- shared pieces ----------------------------------------------------------------------------------


def artist_names(event: dict) -> list[str]:
    return [artist["artist_name"] for artist in event["include"]["artist"]]


def stage_name(event: dict) -> str:
    located = event["include"]["location"]
    return located[0]["location_name"] if located else ""


def video_links(event: dict) -> list[dict]:
    """The event's video as a schedule link (Frab's `links`: url and title)."""
    return [{"url": video["video_ref"], "title": "Video"} for video in event["include"]["video"]]


@lru_cache(maxsize=65536)  # a schedule asks for each event's, stage's and artist's again and again
def guid(kind: str, entity_id: int) -> str:
    return str(uuid.uuid5(GUID_NAMESPACE, f"{kind}:{entity_id}"))


@lru_cache(maxsize=16384)
def _slug(text: str, joiner: str = "_") -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", joiner, ascii_text).strip(joiner)


def public_slug(festival: dict) -> str:
    """The festival's address on the portal host for visitors (/elbhangfest-dresden); its id when the name
    gives none."""
    return _slug(festival["festival_name"], "-") or str(festival["festival_id"])


def published_by_slug(slug: str) -> int | None:
    """The published festival with this public slug (the oldest when two names give the same), or None."""

    rows = Festival.select(Festival.id, Festival.name).where(Festival.is_valid == True).order_by(Festival.id)  # noqa: E712
    return next(
        (row.id for row in rows if public_slug({"festival_name": row.name, "festival_id": row.id}) == slug), None
    )


def acronym(festival: dict) -> str:
    """Lower-case letters, digits and underscores, at least four characters (what readers key on)."""
    slug = _slug(festival["festival_name"])
    return slug if len(slug) >= 4 else f"festival_{festival['festival_id']}"


def _end(event: dict) -> int:
    return max(event["event_end"], event["event_start"])


def _hours_minutes(seconds: int) -> str:
    minutes = max(0, seconds) // 60
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _version_time(version: str) -> datetime:
    return datetime.fromisoformat(version).replace(tzinfo=UTC)  # "…Z": strptime took ten times as long


def days(program: Program) -> list[date]:
    """The festival's days in its time zone: its own span (when set) and every day an event starts on.
    An event past midnight belongs to the day it starts, as in the timetable."""
    return _days(program, {program.local(event["event_start"]).date() for event in program.timed})


def _days(program: Program, found: set[date]) -> list[date]:
    """`days` of the festival with events on the days `found` (changed here)."""
    festival = program.festival
    if 0 < festival["festival_start"] <= festival["festival_end"]:
        first = program.local(festival["festival_start"]).date()
        # An end at midnight closes the day before (a festival "until the 19th, 00:00" ends on the 18th).
        last = program.local(max(festival["festival_start"], festival["festival_end"] - 1)).date()
        if (last - first).days <= 366:
            found.update(first + timedelta(days=n) for n in range((last - first).days + 1))
    if not found:  # the format needs at least one day
        found.add(program.local(festival["festival_start"]).date())
    return sorted(found)


@dataclass
class Day:
    index: int
    date: date
    start: datetime
    end: datetime
    rooms: dict[str, list[dict]]  # room name → events, rooms by name


def schedule_days(program: Program) -> list[Day]:
    local, zone = program.local, program.zone
    by_day: dict[date, list[dict]] = {}
    for event in program.events:
        if event["event_start"] > 0:  # timed
            by_day.setdefault(local(event["event_start"]).date(), []).append(event)
    out = []
    for index, day in enumerate(_days(program, set(by_day)), start=1):
        start = datetime.combine(day, time(), zone)
        end = datetime.combine(day + timedelta(days=1), time(), zone)
        rooms: dict[str, list[dict]] = {}
        for event in by_day.get(day, ()):
            located = event["include"]["location"]
            room = located[0]["location_name"] if located else ""
            rooms.setdefault(room or NO_STAGE, []).append(event)
            ending = local(max(event["event_end"], event["event_start"]))
            if ending > end:  # wall clocks compared, as max() did
                end = ending
        out.append(Day(index, day, start, end, dict(sorted(rooms.items()))))
    return out


def rooms(program: Program) -> list[dict]:
    """Each stage once (by location id), with a guid; events without a location share one room."""
    seen: dict[str, dict] = {}
    for event in program.timed:
        located = event["include"]["location"]
        if located:
            location = located[0]
            seen.setdefault(
                location["location_name"],
                {
                    "name": location["location_name"],
                    "guid": guid("location", location["location_id"]),
                    "description": location["location_description"],
                },
            )
        else:
            seen.setdefault(
                NO_STAGE,
                {"name": NO_STAGE, "guid": guid("festival-room", program.festival["festival_id"]), "description": ""},
            )
    return [seen[name] for name in sorted(seen)]


# --- Frab / pretalx schedule ---------------------------------------------------------------------------


def _frab_event(
    program: Program, event: dict, room: str, base_url: str, festival_acronym: str, people: dict[tuple, dict]
) -> dict:
    """An event of the Frab schedule; `people`: the persons made so far, by artist (one dict for all of an
    artist's events: the schedule is written, never changed)."""
    event_id, begins = event["event_id"], event["event_start"]
    start = program.local(begins)
    name = event["event_name"] or "(no name)"
    slug_tail = _slug(name)
    parts = event["include"]
    persons = []
    for artist in parts["artist"]:
        key = (artist["artist_id"], artist["artist_name"])
        person = people.get(key)
        if person is None:
            person = people[key] = {"id": key[0], "guid": guid("artist", key[0]), "public_name": key[1]}
        persons.append(person)
    described = event["event_description"]
    item = {
        "id": event_id,
        "guid": guid("event", event_id),
        "date": start.isoformat(),
        "start": f"{start.hour:02d}:{start.minute:02d}",
        "duration": _hours_minutes(max(event["event_end"], begins) - begins),
        "room": room,
        "slug": f"{festival_acronym}-{event_id}-{slug_tail}" if slug_tail else f"{festival_acronym}-{event_id}",
        "url": f"{base_url}api/v1/events/{event_id}",
        "title": name,
        "subtitle": "",
        "track": "",
        "type": str(event["event_type"]),
        "language": "",
        "abstract": described,
        "description": described,
        "persons": persons,
        "links": video_links(event) if parts["video"] else [],
        "attachments": [],
    }
    if parts["image"]:
        item["logo"] = parts["image"][0]["image_ref"]
    return item


def frab(program: Program, base_url: str, version: str) -> dict:
    """The schedule as a dict in the Frab/pretalx JSON layout. `base_url` ends with a slash."""
    festival = program.festival
    day_list = schedule_days(program)
    festival_acronym = acronym(festival)
    people: dict[tuple, dict] = {}
    conference = {
        "acronym": acronym(festival),
        "title": festival["festival_name"],
        "description": festival["festival_description"],
        "start": day_list[0].date.isoformat(),
        "end": day_list[-1].date.isoformat(),
        "daysCount": len(day_list),
        "timeslot_duration": "00:15",
        "time_zone_name": program.zone.key,
        "url": f"{base_url}api/v1/festivals/{festival['festival_id']}/schedule.json",
        "rooms": rooms(program),
        "days": [
            {
                "index": day.index,
                "date": day.date.isoformat(),
                "day_start": day.start.isoformat(),
                "day_end": day.end.isoformat(),
                "rooms": {
                    room: [_frab_event(program, event, room, base_url, festival_acronym, people) for event in events]
                    for room, events in day.rooms.items()
                },
            }
            for day in day_list
        ],
    }
    return {
        "$schema": "https://c3voc.de/schedule/schema.json",
        "generator": {"name": GENERATOR, "version": version},
        "schedule": {"version": festival["festival_version"], "base_url": base_url, "conference": conference},
    }


# What ElementTree escapes in element text, or drops (the characters XML 1.0 forbids): most text holds none.
_XML_SPECIAL = re.compile("[&<>\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_XML_ATTRIBUTE_SPECIAL = re.compile('[&<>"\t\n\r\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]')


def _cdata(text: str) -> str:
    """Element text as ElementTree writes it, without the characters XML 1.0 forbids (names stored before they
    were refused, descriptions)."""
    if not _XML_SPECIAL.search(text):
        return text
    return xml_text(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _attribute(value: str) -> str:
    """An attribute's value as ElementTree writes it (its escapes)."""
    if not _XML_ATTRIBUTE_SPECIAL.search(value):
        return value
    value = _cdata(value).replace('"', "&quot;").replace("\r", "&#13;").replace("\n", "&#10;")
    return value.replace("\t", "&#09;")


def _attributes(**attrs) -> str:
    """Attributes as ElementTree writes them (in their order, its escapes)."""
    return "".join(f' {key}="{_attribute(str(value))}"' for key, value in attrs.items())


def _leaf(pad: str, tag: str, text: str | None, attributes: str = "") -> str:
    """An element without children on its own line; empty ones written short, as ElementTree does."""
    text = _cdata(text) if text else ""
    return f"{pad}<{tag}{attributes}>{text}</{tag}>" if text else f"{pad}<{tag}{attributes} />"


def frab_xml(program: Program, base_url: str, version: str) -> bytes:
    """The same schedule in the Frab XML layout (what ConfClerk and the older readers load), indented as
    ElementTree's `indent` did (tests/api/test_export_bytes.py compares both), written straight from the events
    (no dict per event first: twice as fast)."""
    festival = program.festival
    day_list = schedule_days(program)
    festival_acronym = acronym(festival)
    p1, p2, p3, p4, p5 = ("  " * level for level in range(1, 6))
    url = _cdata(f"{base_url}api/v1/events/")
    lines = [
        "<?xml version='1.0' encoding='utf-8'?>",
        "<schedule>",
        _leaf(p1, "generator", None, _attributes(name=GENERATOR, version=version)),
        _leaf(p1, "version", festival["festival_version"]),
        f"{p1}<conference>",
        _leaf(p2, "title", festival["festival_name"]),
        _leaf(p2, "acronym", festival_acronym),
        _leaf(p2, "start", day_list[0].date.isoformat()),
        _leaf(p2, "end", day_list[-1].date.isoformat()),
        _leaf(p2, "days", str(len(day_list))),
        _leaf(p2, "timeslot_duration", "00:15"),
        _leaf(p2, "base_url", base_url),
        _leaf(p2, "time_zone_name", program.zone.key),
        f"{p1}</conference>",
    ]
    local, append = program.local, lines.append
    person_lines: dict[tuple[int, str], str] = {}  # an artist plays more than once
    fixed = f"{p4}<subtitle />\n{p4}<track />"
    for day in day_list:
        attributes = _attributes(
            index=day.index, date=day.date.isoformat(), start=day.start.isoformat(), end=day.end.isoformat()
        )
        if not day.rooms:
            append(f"{p1}<day{attributes} />")
            continue
        append(f"{p1}<day{attributes}>")
        for room, events in day.rooms.items():
            append(f'{p2}<room name="{_attribute(room)}">')
            room_line = _leaf(p4, "room", room)
            for event in events:
                event_id, begins = event["event_id"], event["event_start"]
                start = local(begins)
                name = event["event_name"] or "(no name)"
                slug_tail = _slug(name)
                slug = f"{festival_acronym}-{event_id}-{slug_tail}" if slug_tail else f"{festival_acronym}-{event_id}"
                described = event["event_description"]
                # ids, guids, times, the slug and the url hold nothing to escape (the url's base is escaped above)
                described = _cdata(described) if described else ""
                text = (
                    f"{p4}<abstract>{described}</abstract>\n{p4}<description>{described}</description>"
                    if described
                    else f"{p4}<abstract />\n{p4}<description />"
                )
                append(
                    f'{p3}<event id="{event_id}" guid="{guid("event", event_id)}">\n'
                    f"{p4}<date>{start.isoformat()}</date>\n"
                    f"{p4}<start>{start.hour:02d}:{start.minute:02d}</start>\n"
                    f"{p4}<duration>{_hours_minutes(max(event['event_end'], begins) - begins)}</duration>\n"
                    f"{room_line}\n"
                    f"{p4}<slug>{slug}</slug>\n"
                    f"{p4}<url>{url}{event_id}</url>\n"
                    f"{_leaf(p4, 'title', name)}\n"
                    f"{fixed}\n"
                    f"{p4}<type>{event['event_type']}</type>\n"
                    f"{p4}<language />\n"
                    f"{text}"
                )
                parts = event["include"]
                if parts["image"]:
                    append(_leaf(p4, "logo", parts["image"][0]["image_ref"]))
                if parts["artist"]:
                    append(f"{p4}<persons>")
                    for artist in parts["artist"]:
                        key = (artist["artist_id"], artist["artist_name"])
                        line = person_lines.get(key)
                        if line is None:
                            line = person_lines[key] = _leaf(p5, "person", key[1], f' id="{key[0]}"')
                        append(line)
                    append(f"{p4}</persons>")
                else:
                    append(f"{p4}<persons />")
                if parts["video"]:
                    append(f"{p4}<links>")
                    for video in parts["video"]:
                        append(f'{p5}<link href="{_attribute(video["video_ref"])}">Video</link>')
                    append(f"{p4}</links>")
                else:
                    append(f"{p4}<links />")
                append(f"{p4}<attachments />\n{p3}</event>")
            append(f"{p2}</room>")
        append(f"{p1}</day>")
    append("</schedule>\n")
    return "\n".join(lines).encode()


# --- iCalendar -----------------------------------------------------------------------------------------


def ical(program: Program) -> bytes:
    """One VEVENT per timed event, in the festival's time zone (with its VTIMEZONE), stable UIDs. The lines are
    icalendar's, in its order (app/services/ical.py): its canonical properties first, then the others by name."""
    festival = program.festival
    before, after, timezone = ical_lines.zone(program.zone)
    name = festival["festival_name"]  # icalendar writes these calendar properties as they are, unescaped
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:-//{GENERATOR}//Schedule//EN",
        "CALSCALE:GREGORIAN",
        ical_lines.fold(f"NAME:{name}"),
        ical_lines.fold(f"X-WR-CALNAME:{name}"),
        "REFRESH-INTERVAL;VALUE=DURATION:PT1H",
        "X-PUBLISHED-TTL:PT1H",
        ical_lines.fold(f"X-WR-TIMEZONE:{program.zone.key}"),
    ]
    events = program.timed
    if events:
        lines += timezone
    fold, text, wall, local, append = ical_lines.fold, ical_lines.text, ical_lines.wall, program.local, lines.append
    places: dict[str, str] = {}  # stage name → its LOCATION line: a stage holds many events
    for event in events:
        stamp = ical_lines.stamp(event["event_version"])
        begins, parts = event["event_start"], event["include"]
        summary = fold("SUMMARY:" + text(event["event_name"] or "(no name)"))
        append(
            f"BEGIN:VEVENT\r\n{summary}\r\n"
            f"DTSTART{before}{wall(local(begins))}{after}\r\n"
            f"DTEND{before}{wall(local(max(event['event_end'], begins)))}{after}\r\n"
            f"DTSTAMP:{stamp}\r\nUID:{guid('event', event['event_id'])}@festivalsapp"
        )
        for video in parts["video"]:  # a link to the file, as calendar apps show attachments
            append(fold(f"ATTACH;FMTTYPE={ical_lines.param(video['video_mime'])}:{video['video_ref']}"))
        description = event["event_description"]
        if parts["artist"]:
            artists = [artist["artist_name"] for artist in parts["artist"]]
            append(fold("CATEGORIES:" + ",".join([text(artist) for artist in artists])))
            listed = "Artists: " + ", ".join(artists)
            described = f"{listed}\n\n{description}" if description else listed
        else:
            described = description
        if described:
            append(fold(f"DESCRIPTION:{text(described)}"))
        located = parts["location"]
        stage = located[0]["location_name"] if located else ""
        if stage:
            place = places.get(stage)
            if place is None:
                place = places[stage] = fold(f"LOCATION:{text(stage)}")
            append(f"LAST-MODIFIED:{stamp}\r\n{place}\r\nEND:VEVENT")
        else:
            append(f"LAST-MODIFIED:{stamp}\r\nEND:VEVENT")
    lines.append("END:VCALENDAR\r\n")
    return "\r\n".join(lines).encode()


# --- CSV -----------------------------------------------------------------------------------------------


def csv_row(program: Program, event: dict) -> list[str]:
    """name, day, start, end (with its date when it is on another day), stage, artists, type, description, id."""
    day = start = end = ""
    begins = event["event_start"]
    if begins > 0:
        first, last = program.local(begins), program.local(max(event["event_end"], begins))
        day, start = first.date().isoformat(), f"{first.hour:02d}:{first.minute:02d}"
        end = f"{last.hour:02d}:{last.minute:02d}"
        if last.day != first.day or last.month != first.month or last.year != first.year:
            end = f"{last.date().isoformat()} {end}"
    parts = event["include"]
    located = parts["location"]
    return [
        event["event_name"],
        day,
        start,
        end,
        located[0]["location_name"] if located else "",
        join_artists([artist["artist_name"] for artist in parts["artist"]]),
        str(event["event_type"]),
        event["event_description"],
        str(event["event_id"]),
    ]


def join_artists(names: list[str]) -> str:
    """Comma-separated, as typed in the portal; semicolons when a name has a comma of its own."""
    if len(names) < 2:  # most acts: one artist (or none)
        return names[0] if names else ""
    return ("; " if any("," in name for name in names) else ", ").join(names)


# What a cell that `csv_cell` changes starts with (quotes: before such a character); most start otherwise.
_FORMULA_FIRST = frozenset("".join(FORMULA_START) + "'")


def _cell(value: str) -> str:
    return csv_cell(value) if value and value[0] in _FORMULA_FIRST else value


def events_csv(program: Program) -> bytes:
    """UTF-8 with a byte-order mark, so that spreadsheet programs read accents right; no cell runs as a
    formula when the file is opened (the import takes the quote off again)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for event in program.events:
        name, day, start, end, stage, artists, kind, description, event_id = csv_row(program, event)
        # day, times and id start with a digit: only the stored text (and a type of -1) can start like a formula
        writer.writerow(
            (_cell(name), day, start, end, _cell(stage), _cell(artists), _cell(kind), _cell(description), event_id)
        )
    return out.getvalue().encode("utf-8-sig")


# file name → (media type, Content-Disposition): what `export` makes
EXPORTS = {
    "schedule.ics": ("text/calendar", "inline"),
    "schedule.json": ("application/json", "inline"),
    "schedule.xml": ("application/xml", "inline"),
    "events.csv": ("text/csv", "attachment"),
}


def export(kind: str, program: Program, base_url: str, version: str) -> tuple[bytes, str, str]:
    """One of EXPORTS: the file's bytes, its media type and its Content-Disposition (with a file name)."""
    if kind == "schedule.ics":
        body = ical(program)
    elif kind == "schedule.json":
        body = orjson.dumps(frab(program, base_url, version))
    elif kind == "schedule.xml":
        body = frab_xml(program, base_url, version)
    else:
        body = events_csv(program)
    mimetype, disposition = EXPORTS[kind]
    name = _slug(program.festival["festival_name"], "-") or "festival"
    return body, mimetype, f'{disposition}; filename="{name}.{kind.rsplit(".", 1)[1]}"'
