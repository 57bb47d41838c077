"""Schedule exports: iCalendar, Frab/pretalx JSON and XML, CSV. Each format is read back the way its
consumers read it (icalendar's parser, the schedule readers' fields, a spreadsheet's CSV reader) and
compared with the events the API serves.

The Frab checks are written from the published schedule format documentation (the c3voc schedule
XML schema and JSON schema): every element and attribute they require, with the value patterns."""

from __future__ import annotations

import csv
import gc
import io
import re
import uuid
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest

from app.services import exports
from app.services.exports import Program

pytestmark = pytest.mark.both_read_paths  # each test with the fast read path on and off (tests/api/conftest.py)

T0 = int(datetime(2027, 7, 16, 18, 0, tzinfo=UTC).timestamp())
KINDS = ("schedule.ics", "schedule.json", "schedule.xml", "events.csv")


@pytest.fixture
def festival(factory, creator):
    """A published festival with three timed events on two stages (one past midnight), one event without
    a stage, one without a time."""
    festival = factory.create("festival", creator, name="Sommer Klang", start=T0 - 3600, end=T0 + 2 * 86400)
    fid = festival["festival_id"]
    main = factory.create("location", creator, name="Main Stage")["location_id"]
    tent = factory.create("location", creator, name="Zelt Süd")["location_id"]
    a1 = factory.create("artist", creator, name="The Velvet Foxes")["artist_id"]
    a2 = factory.create("artist", creator, name="Nora, Singer")["artist_id"]
    plan = [
        ("Opening", T0, T0 + 3600, main, [a1, a2], "Doors at 17:30.\nBring water.", 2),
        ("Late set", T0 + 5 * 3600, T0 + 7 * 3600, tent, [a2], "", 0),  # 23:00 → 01:00 next day
        ("Day two talk", T0 + 86400, T0 + 86400 + 1800, main, [], "A talk", 6),
        ("Open jam", T0 + 86400 + 3600, T0 + 86400 + 7200, None, [a1], "", 0),
        ("Sometime", 0, 0, None, [], "", 0),
    ]
    for name, start, end, stage, artists, text, kind in plan:
        event = factory.create("event", creator, name=name, start=start, end=end, description=text, type=kind)
        factory.link("festival", fid, "events", event["event_id"], creator)
        if stage:
            factory.link("event", event["event_id"], "location", stage, creator)
        for artist in artists:
            factory.link("event", event["event_id"], "artist", artist, creator)
    return fid


def _api_events(client, headers, festival_id):
    response = client.get(f"/api/v1/festivals/{festival_id}/events?include=artist,location", headers=headers)
    return {event["event_id"]: event for event in response.get_json()["data"]}


def _artists(event):
    return [artist["artist_name"] for artist in event["include"]["artist"]]


def _stage(event):
    return event["include"]["location"][0]["location_name"] if event["include"]["location"] else ""


# --- access and caching ----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_export_of_published_festival_needs_no_credentials(client, festival, kind):
    response = client.get(f"/api/v1/festivals/{festival}/{kind}")
    assert response.status_code == 200
    assert response.headers["ETag"]
    assert "sommer-klang." in response.headers["Content-Disposition"]


@pytest.mark.parametrize("kind", KINDS)
def test_export_of_draft_only_for_owner_and_admin(client, factory, creator, writer, admin, kind):
    draft = factory.create("festival", creator, is_valid=False)["festival_id"]
    url = f"/api/v1/festivals/{draft}/{kind}"
    stranger = factory.bearer(factory.user("creator"))
    assert client.get(url).status_code == 404
    assert client.get(url, headers=factory.api_key_headers()).status_code == 404
    assert client.get(url, headers=stranger).status_code == 404
    assert client.get(url, headers=writer).status_code == 200
    assert client.get(url, headers=admin).status_code == 200


def test_export_of_unknown_festival_is_404_envelope(client):
    response = client.get("/api/v1/festivals/999/schedule.ics")
    assert response.status_code == 404
    assert "no festival with id 999" in response.get_json()["error"]


@pytest.mark.parametrize("kind", KINDS)
def test_export_revalidates_with_etag(client, factory, creator, writer, festival, kind):
    url = f"/api/v1/festivals/{festival}/{kind}"
    first = client.get(url)
    assert client.get(url, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    event = factory.create("event", creator, name="Encore", start=T0 + 9000, end=T0 + 9900)
    factory.link("festival", festival, "events", event["event_id"], creator)
    changed = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != first.headers["ETag"]
    assert b"Encore" in changed.data


def test_exports_leave_the_garbage_collector_on(client, festival):
    assert gc.isenabled()
    assert client.get(f"/api/v1/festivals/{festival}/schedule.json").status_code == 200
    assert client.get("/api/v1/festivals/999/schedule.xml").status_code == 404  # raised while it is paused
    assert gc.isenabled()
    gc.disable()  # and never turned on by an export when it was off
    try:
        assert client.get(f"/api/v1/festivals/{festival}/events.csv").status_code == 200
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_exports_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for kind in KINDS:
        assert "get" in paths[f"/festivals/{{id}}/{kind}"]


def test_export_query_count_does_not_grow_with_events(client, factory, creator, festival, count_queries):  # noqa: F811
    url = f"/api/v1/festivals/{festival}/schedule.json"
    count_queries.count = 0
    assert client.get(url).status_code == 200
    few = count_queries.count
    for n in range(15):
        event = factory.create("event", creator, name=f"Extra {n}", start=T0 + n * 600, end=T0 + n * 600 + 300)
        factory.link("festival", festival, "events", event["event_id"], creator)
        factory.link("event", event["event_id"], "artist", factory.create("artist", creator)["artist_id"], creator)
    count_queries.count = 0
    assert client.get(url).status_code == 200
    assert count_queries.count == few <= 7  # counters, festival, events, artists, locations, images, videos


# --- iCalendar ---------------------------------------------------------------------------------------------


def test_ics_parses_and_round_trips_every_timed_event(client, writer, festival):
    response = client.get(f"/api/v1/festivals/{festival}/schedule.ics")
    assert response.mimetype == "text/calendar"
    calendar = icalendar.Calendar.from_ical(response.data)
    assert str(calendar["X-WR-CALNAME"]) == "Sommer Klang"
    vevents = {str(item["SUMMARY"]): item for item in calendar.walk("VEVENT")}
    events = {e["event_name"]: e for e in _api_events(client, writer, festival).values() if e["event_start"]}
    assert set(vevents) == set(events)  # the untimed event is not in a calendar
    for name, event in events.items():
        item = vevents[name]
        assert int(item.decoded("DTSTART").timestamp()) == event["event_start"]
        assert int(item.decoded("DTEND").timestamp()) == event["event_end"]
        assert str(item.get("LOCATION", "")) == _stage(event)
        description = str(item.get("DESCRIPTION", ""))
        for artist in _artists(event):
            assert artist in description
        assert event["event_description"] in description
        assert str(item["UID"]).startswith(exports.guid("event", event["event_id"]))


def test_ics_uids_stay_when_events_change(client, factory, creator, writer, festival):
    url = f"/api/v1/festivals/{festival}/schedule.ics"
    before = {str(item["UID"]) for item in icalendar.Calendar.from_ical(client.get(url).data).walk("VEVENT")}
    event_id = next(e for e in _api_events(client, writer, festival).values() if e["event_name"] == "Opening")
    client.patch(f"/api/v1/events/{event_id['event_id']}", json={"event_name": "Grand opening"}, headers=writer)
    calendar = icalendar.Calendar.from_ical(client.get(url).data)
    after = {str(item["UID"]) for item in calendar.walk("VEVENT")}
    assert after == before and len(after) == 4
    assert "Grand opening" in {str(item["SUMMARY"]) for item in calendar.walk("VEVENT")}


def _program_in(zone: str) -> Program:
    festival = {
        "festival_id": 7,
        "festival_version": "2027-01-01T00:00:00Z",
        "festival_name": "Zonen Fest",
        "festival_description": "",
        "festival_start": T0,
        "festival_end": T0 + 3600,
        "festival_timezone": zone,
    }
    event = {
        "event_id": 3,
        "event_version": "2027-01-01T00:00:00Z",
        "event_name": "Night",
        "event_type": 0,
        "event_description": "",
        "event_start": T0 + 4 * 3600,
        "event_end": T0 + 5 * 3600,
        "include": {"artist": [], "location": [], "image": [], "video": []},
    }
    return Program(festival, [event], exports.zone_of(festival))


def test_ics_and_frab_use_the_festival_time_zone():
    program = _program_in("Europe/Berlin")  # 22:00 UTC is midnight in Berlin in July
    calendar = icalendar.Calendar.from_ical(exports.ical(program))
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/Berlin"]
    item = calendar.walk("VEVENT")[0]
    assert item["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert item.decoded("DTSTART") == datetime(2027, 7, 17, 0, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    day = exports.frab(program, "https://api.example.org/", "1")["schedule"]["conference"]["days"][-1]
    assert day["date"] == "2027-07-17"
    assert day["rooms"]["No stage"][0]["date"] == "2027-07-17T00:00:00+02:00"
    assert exports.csv_row(program, program.events[0])[1:4] == ["2027-07-17", "00:00", "01:00"]


def test_unknown_time_zone_falls_back_to_utc():
    assert exports.zone_of({"festival_timezone": "Mars/Olympus"}).key == "UTC"
    assert exports.zone_of({}).key == "UTC"


# --- Frab JSON ---------------------------------------------------------------------------------------------

UUID = re.compile(r"^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$")
ACRONYM = re.compile(r"^[a-z0-9_-][a-z0-9_]{3,}(-2[0-9]{3}-[a-z]+)?$")
SLUG = re.compile(r"^[a-z0-9_-]+[a-z0-9]$")
DURATION = re.compile(r"^[0-9]+:[0-9]{2}$")
CLOCK = re.compile(r"^[0-2][0-9]:[0-5][0-9]$")
DATE_TIME_TZ = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})$")
CONFERENCE_KEYS = {
    "acronym",
    "title",
    "description",
    "start",
    "end",
    "daysCount",
    "timeslot_duration",
    "time_zone_name",
    "logo",
    "colors",
    "keywords",
    "url",
    "tracks",
    "rooms",
    "meta",
    "days",
}
EVENT_KEYS = {
    "id",
    "guid",
    "logo",
    "date",
    "start",
    "duration",
    "room",
    "slug",
    "url",
    "title",
    "subtitle",
    "track",
    "type",
    "language",
    "abstract",
    "description",
    "recording_license",
    "do_not_record",
    "do_not_stream",
    "persons",
    "links",
    "attachments",
    "answers",
}
EVENT_REQUIRED = {
    "abstract",
    "date",
    "duration",
    "guid",
    "id",
    "language",
    "links",
    "persons",
    "room",
    "slug",
    "start",
    "subtitle",
    "title",
    "track",
    "type",
    "url",
}


def _date(text: str) -> date:
    return date.fromisoformat(text)


def test_frab_json_carries_everything_the_schema_requires(client, festival):
    body = client.get(f"/api/v1/festivals/{festival}/schedule.json").get_json()
    assert set(body) <= {"$schema", "schedule", "generator"}
    assert isinstance(body["generator"]["name"], str) and isinstance(body["generator"]["version"], str)
    top = body["schedule"]
    assert isinstance(top["version"], str) and top["version"]
    conference = top["conference"]
    assert set(conference) <= CONFERENCE_KEYS
    for key in ("title", "acronym", "days", "daysCount", "start", "end", "timeslot_duration"):
        assert key in conference, key
    assert conference["title"] == "Sommer Klang"
    assert ACRONYM.match(conference["acronym"])
    assert _date(conference["start"]) <= _date(conference["end"])
    assert conference["daysCount"] == len(conference["days"]) == 3  # the festival's span, 18:00 → +2 days
    assert DURATION.match(conference["timeslot_duration"])
    assert conference["time_zone_name"] == "UTC"
    for room in conference["rooms"]:
        assert set(room) <= {"name", "guid", "description", "capacity"} and UUID.match(room["guid"])
    guids, ids, slugs = [], [], []
    for index, day in enumerate(conference["days"], start=1):
        assert set(day) == {"index", "date", "day_start", "day_end", "rooms"}
        assert day["index"] == index
        assert DATE_TIME_TZ.match(day["day_start"]) and DATE_TIME_TZ.match(day["day_end"])
        assert day["day_start"].startswith(day["date"])
        for room, events in day["rooms"].items():
            assert room in {r["name"] for r in conference["rooms"]}
            for event in events:
                assert EVENT_REQUIRED <= set(event) <= EVENT_KEYS, set(event) ^ EVENT_REQUIRED
                assert isinstance(event["id"], int) and event["id"] >= 1
                assert UUID.match(event["guid"]) and SLUG.match(event["slug"])
                assert DATE_TIME_TZ.match(event["date"]) and event["date"].startswith(day["date"])
                assert CLOCK.match(event["start"]) and DURATION.match(event["duration"])
                assert event["room"] == room and event["url"].startswith("http")
                for key in ("title", "type", "language", "subtitle", "track", "abstract", "description"):
                    assert isinstance(event[key], str), key
                assert isinstance(event["links"], list)
                for person in event["persons"]:  # the Frab person form: id and public_name
                    assert isinstance(person["id"], int) and isinstance(person["public_name"], str)
                    assert "name" not in person  # would also match the pretalx form: the schema wants one
                guids.append(event["guid"])
                ids.append(event["id"])
                slugs.append(event["slug"])
    assert len(ids) == 4 and len(set(guids)) == len(set(ids)) == len(set(slugs)) == 4


def _read_like_a_schedule_reader(body: dict) -> dict:
    """What Giggity, EventFahrplan, ConfClerk-style readers take from a schedule.json: per event its guid,
    title, room, persons' public names, abstract/description, and its times from `date` + `duration`."""
    read = {}
    for day in body["schedule"]["conference"]["days"]:
        for room, events in day["rooms"].items():
            for event in events:
                start = datetime.fromisoformat(event["date"])
                hours, minutes = (int(part) for part in event["duration"].split(":"))
                assert start.strftime("%H:%M") == event["start"]
                read[event["title"]] = {
                    "guid": uuid.UUID(event["guid"]),
                    "room": room,
                    "start": int(start.timestamp()),
                    "end": int((start + timedelta(hours=hours, minutes=minutes)).timestamp()),
                    "persons": [person["public_name"] for person in event["persons"]],
                    "abstract": event["abstract"],
                    "description": event["description"],
                    "day": day["date"],
                }
    return read


def test_frab_json_read_like_a_schedule_reader_gives_back_the_events(client, writer, festival):
    read = _read_like_a_schedule_reader(client.get(f"/api/v1/festivals/{festival}/schedule.json").get_json())
    events = {e["event_name"]: e for e in _api_events(client, writer, festival).values() if e["event_start"]}
    assert set(read) == set(events)
    for name, event in events.items():
        got = read[name]
        assert (got["start"], got["end"]) == (event["event_start"], event["event_end"])
        assert got["room"] == (_stage(event) or "No stage")
        assert got["persons"] == _artists(event)
        assert got["description"] == event["event_description"]
        assert got["day"] == datetime.fromtimestamp(event["event_start"], UTC).date().isoformat()
    assert read["Late set"]["day"] == "2027-07-16"  # past midnight: stays on the day it starts


# --- Frab XML ----------------------------------------------------------------------------------------------

XML_EVENT_REQUIRED = ("room", "title", "subtitle", "type", "date", "start", "duration", "abstract", "slug", "track")
XML_EVENT_OPTIONAL = {
    "logo",
    "persons",
    "language",
    "description",
    "recording",
    "links",
    "attachments",
    "video_download_url",
    "url",
}
XML_CONFERENCE = {"title", "acronym", "start", "end", "days", "timeslot_duration", "base_url", "time_zone_name"}
XSD_DURATION = re.compile(r"^([0-9]{1,2}:[0-9]{2})$|^([0-9]{1,2}:[0-9]{2}:[0-9]{1,2})$")
XSD_START = re.compile(r"^[0-2][0-9]:[0-5][0-9](:[0-5][0-9])?$")


def test_frab_xml_carries_everything_the_schema_requires(client, writer, festival):
    response = client.get(f"/api/v1/festivals/{festival}/schedule.xml")
    assert response.mimetype == "application/xml"
    root = ET.fromstring(response.data)
    assert root.tag == "schedule" and not root.attrib
    tags = [child.tag for child in root]
    # sequence: generator?, version, conference, day+
    assert tags[:3] == ["generator", "version", "conference"] and set(tags[3:]) == {"day"} and len(tags) > 3
    assert set(root.find("generator").attrib) <= {"name", "version"}
    assert root.findtext("version")
    conference = root.find("conference")
    children = [child.tag for child in conference]
    assert len(children) == len(set(children)) and set(children) <= XML_CONFERENCE
    assert conference.findtext("title") == "Sommer Klang" and conference.findtext("acronym")
    assert _date(conference.findtext("start")) <= _date(conference.findtext("end"))
    assert int(conference.findtext("days")) == len(tags) - 3
    assert XSD_DURATION.match(conference.findtext("timeslot_duration"))
    assert conference.findtext("base_url").startswith(("http://", "https://"))
    indexes, guids, ids, slugs = [], [], [], []
    for day in root.findall("day"):
        assert set(day.attrib) <= {"date", "start", "end", "index"}
        _date(day.get("date"))
        assert DATE_TIME_TZ.match(day.get("start")) and DATE_TIME_TZ.match(day.get("end"))
        indexes.append(int(day.get("index")))
        for room in day:
            assert room.tag == "room" and set(room.attrib) <= {"name"}
            for event in room:
                assert event.tag == "event" and set(event.attrib) == {"id", "guid"}
                assert int(event.get("id")) >= 1 and UUID.match(event.get("guid"))
                tags = [child.tag for child in event]
                assert len(tags) == len(set(tags))  # xs:all: each at most once
                assert set(XML_EVENT_REQUIRED) <= set(tags) <= set(XML_EVENT_REQUIRED) | XML_EVENT_OPTIONAL
                assert event.findtext("room") == room.get("name")
                assert DATE_TIME_TZ.match(event.findtext("date")) and event.findtext("date").startswith(day.get("date"))
                assert XSD_START.match(event.findtext("start")) and XSD_DURATION.match(event.findtext("duration"))
                assert event.findtext("url").startswith(("http://", "https://"))
                for person in event.find("persons"):
                    assert person.tag == "person" and set(person.attrib) <= {"id"} and int(person.get("id")) >= 1
                guids.append(event.get("guid"))
                ids.append(event.get("id"))
                slugs.append(event.findtext("slug"))
    assert indexes == list(range(1, len(indexes) + 1))
    assert len(ids) == 4 and len(set(guids)) == len(set(ids)) == len(set(slugs)) == 4
    events = {e["event_name"]: e for e in _api_events(client, writer, festival).values()}
    opening = root.find(".//event[title='Opening']")
    assert [p.text for p in opening.find("persons")] == _artists(events["Opening"])
    assert opening.findtext("description") == events["Opening"]["event_description"]


def test_frab_json_and_xml_agree(client, festival):
    body = client.get(f"/api/v1/festivals/{festival}/schedule.json").get_json()
    root = ET.fromstring(client.get(f"/api/v1/festivals/{festival}/schedule.xml").data)
    from_json = {
        (e["guid"], e["date"], e["duration"], e["room"], e["title"])
        for day in body["schedule"]["conference"]["days"]
        for events in day["rooms"].values()
        for e in events
    }
    from_xml = {
        (e.get("guid"), e.findtext("date"), e.findtext("duration"), e.findtext("room"), e.findtext("title"))
        for e in root.iter("event")
    }
    assert from_json == from_xml and len(from_json) == 4


def test_frab_xml_of_festival_without_events_still_has_a_day(client, factory, creator):
    empty = factory.create("festival", creator)["festival_id"]
    root = ET.fromstring(client.get(f"/api/v1/festivals/{empty}/schedule.xml").data)
    assert len(root.findall("day")) == 1


# --- CSV ---------------------------------------------------------------------------------------------------


def test_events_csv_has_one_row_per_event(client, writer, festival):
    response = client.get(f"/api/v1/festivals/{festival}/events.csv")
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.data.startswith(b"\xef\xbb\xbf")  # UTF-8 byte-order mark, for spreadsheets
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0] == ["name", "day", "start", "end", "stage", "artists", "type", "description", "id"]
    by_name = {row[0]: row for row in rows[1:]}
    assert len(rows) - 1 == len(_api_events(client, writer, festival)) == 5
    ids = {event["event_name"]: str(event["event_id"]) for event in _api_events(client, writer, festival).values()}
    assert by_name["Opening"] == [
        "Opening",
        "2027-07-16",
        "18:00",
        "19:00",
        "Main Stage",
        "The Velvet Foxes; Nora, Singer",
        "2",
        "Doors at 17:30.\nBring water.",
        ids["Opening"],  # a re-import of the edited file knows it by this
    ]
    assert by_name["Late set"][1:5] == ["2027-07-16", "23:00", "2027-07-17 01:00", "Zelt Süd"]
    assert by_name["Open jam"][4] == ""
    assert by_name["Sometime"][1:4] == ["", "", ""]
