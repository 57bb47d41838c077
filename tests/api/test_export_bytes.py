"""Schedule exports byte for byte. The four files of hostile data (umlauts, emoji, quotes, `; , \\` and newlines,
long German names, 26 acts, two time zones, clock changes, drafts) hash as they did when the icalendar library and
ElementTree wrote them: a faster writer must not change a byte that calendar apps and schedule readers see. The
API's answers are the same bytes as the writers' for the rows its own reads give."""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import icalendar
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.permissions import ANONYMOUS
from app.registry import ENTITIES
from app.services import exports, reads
from app.services.exports import Program
from app.services.reads import ListQuery
from app.text import has_control, xml_text

pytestmark = pytest.mark.both_read_paths  # each test with the fast read path on and off (tests/api/conftest.py)

KINDS = ("schedule.ics", "schedule.json", "schedule.xml", "events.csv")
# Saturday 2027-03-27 20:00 UTC: Berlin's clocks go forward that night, New York's went two weeks before.
T0 = int(datetime(2027, 3, 27, 20, 0, tzinfo=UTC).timestamp())
LONG = "Donaudampfschifffahrtsgesellschaftskapitänsmützenträgerinnenvereinigung Süd-Württemberg"
NAMES = [
    "Die Ärzte",
    "Motörhead Tribute; live",
    'The "Quoted" Band',
    "Back\\slash & <Tags>",
    "Nora, Singer",
    "Björk 🎤🎸 Ünïcödé",
    "=cmd|' /C calc'!A0",
    "Zeile eins\nZeile zwei",
    LONG,
    "🎉" * 40,
    "Tab\there",
    "'+quoted formula",
    "Straße, Weg; Platz",
    "Ελληνικά και 日本語",
    "-minus start",
    "Ende\r\nCRLF",
    "x" * 74 + "ä" + "y",
    "Kontrollzeichen \x01\x0b weg",
    "@at start",
    "",
    "Ümlaut am Anfang",
    "ok",
    "a" * 73 + "🎉" + "b",
    "Comma, comma, comma",
    "Semi;colon;s",
    "Last act",
]


def _artist(n: int, name: str) -> dict:
    return {
        "artist_id": 100 + n,
        "artist_version": "2027-01-02T03:04:05Z",
        "artist_name": name,
        "artist_description": "",
    }


def _stage(n: int, name: str) -> dict:
    return {
        "location_id": 200 + n,
        "location_version": "2027-01-02T03:04:05Z",
        "location_name": name,
        "location_description": f"Beschreibung {name}\n„zweite“ Zeile; mit, allem \\",
        "location_accessible": True,
        "location_openair": n % 2 == 0,
    }


def hostile_program(zone: str) -> Program:
    """26 acts on three stages (and none), some past midnight, one through the clock change, one without a time,
    one ending before it starts, with images, videos, artists named like the acts."""
    stages = [_stage(1, "Hauptbühne"), _stage(2, 'Zelt; Süd, "klein"'), _stage(3, "🎪 " + LONG)]
    festival = {
        "festival_id": 7,
        "festival_version": "2027-01-02T03:04:05Z",
        "festival_is_valid": False,
        "festival_name": "Sommer Klang: Ärger, Ölfässer & „Anführungszeichen“ 🎶",
        "festival_start": T0 - 86400,
        "festival_end": T0 + 3 * 86400,
        "festival_description": 'Zeile 1\nZeile 2; mit Komma, Backslash \\ und "Quotes"',
        "festival_price": "49 €",
        "festival_timezone": zone,
    }
    events = []
    for n, name in enumerate(NAMES):
        start = T0 + n * 5400 if n != 19 else 0  # the act without a name has no time either
        end = start + (3600 if n % 3 else 7200)
        if n == 5:
            end = start - 60  # an end before its start: the calendar ends it when it starts
        artists = [_artist(n, name or "Anonym"), _artist(60 + n, NAMES[(n + 7) % len(NAMES)] or "Zweite")][: 1 + n % 2]
        events.append(
            {
                "event_id": 1000 + n,
                "event_version": f"2027-0{1 + n % 9}-1{n % 10}T1{n % 10}:3{n % 10}:0{n % 10}Z",
                "event_name": name,
                "event_description": "" if n % 4 == 0 else f"{name}\n\nBeschreibung mit ; , \\ und\nUmbruch",
                "event_type": n % 7 if n != 20 else -1,  # -1 starts like a spreadsheet formula
                "event_start": start,
                "event_end": end,
                "event_is_scheduled": True,
                "event_has_timeslot": True,
                "include": {
                    "artist": artists if n % 5 else [],
                    "location": [stages[n % 3]] if n % 4 else [],
                    "image": [{"image_id": n, "image_ref": f"https://img.example/{n}.jpg"}] if n % 6 == 0 else [],
                    "video": [{"video_id": n, "video_ref": f"https://vid.example/{n}.mp4", "video_mime": "video/mp4"}]
                    if n % 8 == 0
                    else [],
                },
            }
        )
    events.sort(key=lambda event: (event["event_start"], event["event_id"]))
    return Program(festival, events, exports.zone_of(festival))


def _hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()[:24]


# Taken from the exports as the icalendar library and ElementTree wrote them (commit b193a13).
PINNED = {
    ("Europe/Berlin", "schedule.ics"): "68cc1e7627c073a9a62b63a4",
    ("Europe/Berlin", "schedule.json"): "ead41ea2b42140a204666e13",
    ("Europe/Berlin", "schedule.xml"): "7d9812387ecca4b5c422aff1",
    ("Europe/Berlin", "events.csv"): "f223248ddc1179ba04ee2d9c",
    ("America/New_York", "schedule.ics"): "9ba7f4335176a703c612727e",
    ("America/New_York", "schedule.json"): "c4f6f2a7eaae82aecebc139b",
    ("America/New_York", "schedule.xml"): "f356ae6ae5368e124f97d0f2",
    ("America/New_York", "events.csv"): "0d543f1a01821c1783576f15",
}


@pytest.mark.parametrize("zone,kind", list(PINNED))
def test_export_bytes_are_the_pinned_ones(zone, kind):
    body, _, disposition = exports.export(kind, hostile_program(zone), "https://api.example.org/", "1.2.3")
    assert _hash(body) == PINNED[zone, kind]
    assert disposition.endswith(f'filename="sommer-klang-arger-olfasser-anfuhrungszeichen.{kind.rsplit(".")[1]}"')


def shared_program(zone: str) -> Program:
    """The hostile program with its acts' artists and a video shared by many events (a writer may make what it
    writes for an artist or a stage once)."""
    program = hostile_program(zone)
    for n, event in enumerate(program.events):
        event["include"]["artist"] = [_artist(1, NAMES[1]), _artist(3, NAMES[3]), _artist(5, NAMES[5])][: 1 + n % 3]
        if n % 2:
            event["include"]["video"] = [
                {"video_id": 9, "video_ref": "https://vid.example/a&b.mp4", "video_mime": "video/mp4"}
            ]
    return program


# Taken from the writers of commit f8b701a (each event's Frab dict built alone, the XML from those dicts).
PINNED_SHARED = {
    ("Europe/Berlin", "schedule.ics"): "23b62f5edbc08e94ec8f9b79",
    ("Europe/Berlin", "schedule.json"): "d27f5d4308b7a3945ba26eb4",
    ("Europe/Berlin", "schedule.xml"): "c71cb532736e1be49d068429",
    ("Europe/Berlin", "events.csv"): "420e3409e6ca3109e35ddabc",
    ("America/New_York", "schedule.ics"): "116f458f10722b5438227820",
    ("America/New_York", "schedule.json"): "f78b634f60b2491e5dff933a",
    ("America/New_York", "schedule.xml"): "c86b75e618399b35f97d8c25",
    ("America/New_York", "events.csv"): "42c5f7dd64e14f287b677a5d",
}


@pytest.mark.parametrize("zone,kind", list(PINNED_SHARED))
def test_export_bytes_with_shared_artists_are_the_pinned_ones(zone, kind):
    body, _, _ = exports.export(kind, shared_program(zone), "https://api.example.org/", "1.2.3")
    assert _hash(body) == PINNED_SHARED[zone, kind]


# --- iCalendar: ours against the icalendar library's ---------------------------------------------------------


def icalendar_reference(program: Program) -> bytes:
    """The calendar as the icalendar library builds and writes it (how exports.ical was written before)."""
    festival = program.festival
    calendar = icalendar.Calendar()
    calendar.add("prodid", f"-//{exports.GENERATOR}//Schedule//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("name", festival["festival_name"])
    calendar.add("x-wr-calname", festival["festival_name"])
    calendar.add("x-wr-timezone", program.zone.key)
    calendar.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")
    for event in program.timed:
        item = icalendar.Event()
        version = datetime.fromisoformat(event["event_version"]).replace(tzinfo=UTC)
        item.add("uid", f"{exports.guid('event', event['event_id'])}@festivalsapp")
        item.add("dtstamp", version)
        item.add("last-modified", version)
        item.add("dtstart", program.local(event["event_start"]))
        item.add("dtend", program.local(max(event["event_end"], event["event_start"])))
        item.add("summary", event["event_name"] or "(no name)")
        if exports.stage_name(event):
            item.add("location", exports.stage_name(event))
        artists = exports.artist_names(event)
        text = "\n\n".join(
            part for part in (("Artists: " + ", ".join(artists)) if artists else "", event["event_description"]) if part
        )
        if text:
            item.add("description", text)
        if artists:
            item.add("categories", artists)
        for video in event["include"]["video"]:
            item.add("attach", video["video_ref"], parameters={"FMTTYPE": video["video_mime"]})
        calendar.add_component(item)
    calendar.add_missing_timezones()
    return calendar.to_ical()


def _same_calendars(ours: bytes, theirs: bytes) -> None:
    """Read back by icalendar: the same components in the same order, each with the same properties and values."""
    mine, reference = icalendar.Calendar.from_ical(ours), icalendar.Calendar.from_ical(theirs)
    assert [c.name for c in mine.walk()] == [c.name for c in reference.walk()]
    for got, expected in zip(mine.walk(), reference.walk(), strict=True):
        assert list(got.items()) == list(expected.items())
        for key in expected:
            assert got[key].to_ical() == expected[key].to_ical()
            assert getattr(got[key], "params", {}) == getattr(expected[key], "params", {})


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York", "UTC", "Asia/Kolkata", "Australia/Lord_Howe"])
def test_ics_is_what_icalendar_writes(zone):
    program = hostile_program(zone)
    ours = exports.ical(program)
    _same_calendars(ours, icalendar_reference(program))
    assert ours == icalendar_reference(program)
    assert all(len(line) <= 75 for line in ours.split(b"\r\n"))
    ours.decode()  # folding never splits a UTF-8 character


def test_ics_of_festival_without_timed_events_is_what_icalendar_writes():
    program = hostile_program("Europe/Berlin")
    program.events = [event for event in program.events if not event["event_start"]]
    assert exports.ical(program) == icalendar_reference(program)


# Text a calendar must carry: escapes (also the ones folding must not split), line breaks of every kind, multi-byte
# characters at every distance from a fold.
TEXT = st.lists(st.sampled_from(list("ab ;,:\\^\"'\r\n\tNn’äß€🎉") + ["\\N", "\r\n", "ü" * 3]), max_size=120).map(
    "".join
)


@settings(max_examples=300, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=TEXT, description=TEXT, stage=TEXT, artists=st.lists(TEXT, max_size=3), mime=TEXT, prefix=st.integers(0, 80)
)
def test_ics_of_any_text_is_what_icalendar_writes(name, description, stage, artists, mime, prefix):
    program = hostile_program("Europe/Berlin")
    event = program.events[0]
    event["event_name"] = "x" * prefix + name
    event["event_description"] = description
    event["include"]["location"] = [{**_stage(9, ""), "location_name": stage}]
    event["include"]["artist"] = [_artist(n, artist) for n, artist in enumerate(artists)]
    event["include"]["video"] = [{"video_id": 1, "video_ref": "https://vid.example/a.mp4", "video_mime": mime}]
    program.events = [event]
    assert exports.ical(program) == icalendar_reference(program)


# --- Frab XML: ours against ElementTree's --------------------------------------------------------------------


def _element(parent: ET.Element, tag: str, text: str | None = None, **attrs) -> ET.Element:
    child = ET.SubElement(parent, tag, {key: xml_text(str(value)) for key, value in attrs.items()})
    if text is not None:
        child.text = xml_text(text)
    return child


# The text elements of a Frab <event>, in the schema's order.
FRAB_EVENT_TEXT = "date start duration room slug url title subtitle track type language abstract description".split()


def element_tree_reference(program: Program, base_url: str, version: str) -> bytes:
    """The schedule XML as ElementTree builds, indents and writes it (how exports.frab_xml was written before)."""
    data = exports.frab(program, base_url, version)["schedule"]
    conference = data["conference"]
    root = ET.Element("schedule")
    _element(root, "generator", name=exports.GENERATOR, version=version)
    _element(root, "version", data["version"])
    head = _element(root, "conference")
    for key in ("title", "acronym", "start", "end"):
        _element(head, key, conference[key])
    _element(head, "days", str(conference["daysCount"]))
    _element(head, "timeslot_duration", conference["timeslot_duration"])
    _element(head, "base_url", base_url)
    _element(head, "time_zone_name", conference["time_zone_name"])
    for day in conference["days"]:
        day_element = _element(
            root, "day", index=day["index"], date=day["date"], start=day["day_start"], end=day["day_end"]
        )
        for room, events in day["rooms"].items():
            room_element = _element(day_element, "room", name=room)
            for event in events:
                item = _element(room_element, "event", id=event["id"], guid=event["guid"])
                for key in FRAB_EVENT_TEXT:
                    _element(item, key, event[key])
                if "logo" in event:
                    _element(item, "logo", event["logo"])
                persons = _element(item, "persons")
                for person in event["persons"]:
                    _element(persons, "person", person["public_name"], id=person["id"])
                links = _element(item, "links")
                for link in event["links"]:
                    _element(links, "link", link["title"], href=link["url"])
                _element(item, "attachments")
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York", "UTC"])
def test_xml_is_what_element_tree_writes(zone):
    program = hostile_program(zone)
    assert exports.frab_xml(program, "https://a.example/?x=1&y=<2>", "1.0") == element_tree_reference(
        program, "https://a.example/?x=1&y=<2>", "1.0"
    )
    program.events = [event for event in program.events if not event["event_start"]]
    assert exports.frab_xml(program, "https://a.example/", "1.0") == element_tree_reference(
        program, "https://a.example/", "1.0"
    )


MARKUP = st.lists(st.sampled_from(list("ab <>&\"'\r\n\t\x01\x0b\ufffe;,äß🎉") + ["&amp;", "]]>"]), max_size=60).map(
    "".join
)


@settings(max_examples=200, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(festival=MARKUP, name=MARKUP, description=MARKUP, stage=MARKUP, artist=MARKUP, ref=MARKUP)
def test_xml_of_any_text_is_what_element_tree_writes(festival, name, description, stage, artist, ref):
    program = hostile_program("Europe/Berlin")
    program.festival["festival_name"] = festival
    event = program.events[0]
    event.update(event_name=name, event_description=description)
    event["include"]["location"] = [{**_stage(9, ""), "location_name": stage}]
    event["include"]["artist"] = [_artist(1, artist)]
    event["include"]["image"] = [{"image_id": 1, "image_ref": ref}]
    event["include"]["video"] = [{"video_id": 1, "video_ref": ref, "video_mime": "video/mp4"}]
    assert exports.frab_xml(program, "https://api.example.org/", ref) == element_tree_reference(
        program, "https://api.example.org/", ref
    )


# --- the API's answers --------------------------------------------------------------------------------------


def reference_program(festival_id: int, actor) -> Program:
    """The festival and its events with their parts as the API's generic reads give them to `actor`."""
    event = ENTITIES["event"]
    include = [(name, event.relations[name]) for name in ("artist", "location", "image", "video")]
    festival = reads.fetch(ENTITIES["festival"], actor, ListQuery(ids=[festival_id]))[0]
    via = (ENTITIES["festival"].relations["events"], festival_id)
    events = reads.fetch(event, actor, ListQuery(include=include), via=via)
    events.sort(key=lambda item: (item["event_start"], item["event_id"]))
    return Program(festival, events, exports.zone_of(festival))


@pytest.fixture
def festivals(factory, creator):
    """A published festival in Berlin and a draft in New York, each with the hostile line-up (what a name may
    hold), on three stages, with images and videos; one more event of the draft shows only to its owner."""
    made = []
    for zone, published in (("Europe/Berlin", True), ("America/New_York", False)):
        template = hostile_program(zone)
        fields = {key.removeprefix("festival_"): value for key, value in template.festival.items()}
        fields.update(name=f"{fields['name']} {zone}", is_valid=published)
        del fields["id"], fields["version"]
        fid = factory.create("festival", creator, **fields)["festival_id"]
        stages = {}
        for item in template.events:
            if not item["event_name"] or has_control(item["event_name"]):
                continue  # names are refused with control characters
            fields = {
                key.removeprefix("event_"): item[key] for key in ("event_name", "event_description", "event_type")
            }
            event_id = factory.create(
                "event", creator, **fields, start=item["event_start"], end=max(item["event_end"], item["event_start"])
            )["event_id"]
            factory.link("festival", fid, "events", event_id, creator)
            for stage in item["include"]["location"]:
                if stage["location_name"] not in stages:
                    stages[stage["location_name"]] = factory.create(
                        "location", creator, name=stage["location_name"], description=stage["location_description"]
                    )["location_id"]
                factory.link("event", event_id, "location", stages[stage["location_name"]], creator)
            for artist in item["include"]["artist"]:
                if not has_control(artist["artist_name"]):
                    artist_id = factory.create("artist", creator, name=artist["artist_name"])["artist_id"]
                    factory.link("event", event_id, "artist", artist_id, creator)
            for image in item["include"]["image"]:
                image_id = factory.create("image", creator, ref=image["image_ref"])["image_id"]
                factory.link("event", event_id, "image", image_id, creator)
            for video in item["include"]["video"]:
                video_id = factory.create("video", creator, ref=video["video_ref"])["video_id"]
                factory.link("event", event_id, "video", video_id, creator)
        for n in range(5):  # in place of the names refused: 26 acts
            start = T0 + 86400 + n * 1800
            fields = {"name": f"Zugabe {n}: „Ärger“; ok, \\ 🎉", "start": start, "end": start + 1700}
            event_id = factory.create("event", creator, **fields)["event_id"]
            factory.link("festival", fid, "events", event_id, creator)
        made.append(fid)
    return made


@pytest.mark.parametrize("kind", KINDS)
def test_api_answers_the_writers_bytes_for_its_own_rows(app, client, factory, creator, writer, festivals, kind):
    published, draft = festivals
    for festival_id, headers, actor in ((published, {}, ANONYMOUS), (draft, writer, factory.actor(creator))):
        response = client.get(f"/api/v1/festivals/{festival_id}/{kind}", headers=headers)
        assert response.status_code == 200
        program = reference_program(festival_id, actor)
        assert len(program.events) == 26
        assert response.data == exports.export(kind, program, "http://localhost/", app.config["VERSION"])[0]
