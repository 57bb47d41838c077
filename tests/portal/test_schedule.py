"""The schedule's rules (app/services/timetable.py) on the database in use: local times at Europe/Berlin's
switch nights, events refused (no name, outside the festival's days) or flagged (overlaps, duplicates),
the publish checklist, stage order, shifting and duplicating; and how the portal, the API and the CSV
import use them."""

import html
import re
from datetime import UTC, datetime

import pytest

from app.errors import Invalid
from app.models import Event, FestivalStage
from app.services import exports, festivals, imports, timetable
from tests.identity.test_pages import csrf_token, text

BERLIN = timetable.zone_named("Europe/Berlin")


def utc(*parts) -> int:
    return int(datetime(*parts, tzinfo=UTC).timestamp())


# --- local times at the switch nights -------------------------------------------------------------------


def test_a_time_the_clocks_skip_is_refused_with_a_clear_message():
    # 29 Mar 2026: Berlin goes from 02:00 CET straight to 03:00 CEST.
    with pytest.raises(Invalid) as caught:
        timetable.to_unix(datetime(2026, 3, 29, 2, 30), BERLIN, "event_start")
    assert caught.value.fields == {
        "event_start": "02:30 on Sun 29 Mar 2026 does not exist in Europe/Berlin: the clocks go forward "
        "that night (choose e.g. 03:30)"
    }
    assert timetable.to_unix(datetime(2026, 3, 29, 1, 59), BERLIN) == utc(2026, 3, 29, 0, 59)
    assert timetable.to_unix(datetime(2026, 3, 29, 3, 0), BERLIN) == utc(2026, 3, 29, 1, 0)


def test_a_time_that_happens_twice_is_the_first_and_is_shown_with_its_zone():
    # 25 Oct 2026: Berlin goes from 03:00 CEST back to 02:00 CET; 02:30 happens twice.
    first = timetable.to_unix(datetime(2026, 10, 25, 2, 30), BERLIN)
    assert first == utc(2026, 10, 25, 0, 30)
    assert timetable.format_time(first, BERLIN) == "Sun 25 Oct 02:30 CEST"
    assert timetable.format_time(first + 3600, BERLIN) == "Sun 25 Oct 02:30 CET"
    assert timetable.format_time(utc(2026, 6, 12, 18), BERLIN) == "Fri 12 Jun 20:00"


def test_the_timetable_of_a_switch_night_runs_in_real_time():
    festival = {"festival_timezone": "Europe/Berlin", "festival_start": 0, "festival_end": 0}
    event = {
        "event_id": 1,
        "event_name": "All nighter",
        "event_start": utc(2026, 3, 28, 23),  # 00:00 CET
        "event_end": utc(2026, 3, 29, 3),  # 05:00 CEST: four hours, not five
        "include": {"location": [{"location_id": 7, "location_name": "Club"}], "artist": []},
    }
    [day] = timetable.timetable(festival, [event], [{"id": 7, "name": "Club"}], {})
    assert day.cells[0]["span"] == 4 * 12
    assert [label for _, label in day.hours] == ["00:00", "01:00", "03:00", "04:00", "05:00"]  # an hour for the next


# --- checks ---------------------------------------------------------------------------------------------

FESTIVAL = {  # Fri 12 – Sun 14 Jun 2026 in Berlin
    "festival_timezone": "Europe/Berlin",
    "festival_start": utc(2026, 6, 12, 10),
    "festival_end": utc(2026, 6, 14, 21),
}


@pytest.mark.parametrize(
    ("values", "fields"),
    [
        ({"event_name": "  ", "event_start": 0, "event_end": 0}, {"event_name"}),
        (
            {"event_name": "Early", "event_start": utc(2026, 6, 11, 21), "event_end": utc(2026, 6, 11, 23)},
            {"event_start"},
        ),
        (
            {"event_name": "Late", "event_start": utc(2026, 6, 15, 9), "event_end": utc(2026, 6, 15, 10, 5)},
            {"event_end"},
        ),
        (
            {"event_name": "After", "event_start": utc(2026, 6, 15, 10), "event_end": utc(2026, 6, 15, 11)},
            {"event_start"},
        ),
    ],
)
def test_events_without_a_name_or_outside_the_festival_are_refused(values, fields):
    with pytest.raises(Invalid) as caught:
        timetable.check_event(FESTIVAL, values)
    assert set(caught.value.fields) == fields


def test_events_may_start_at_midnight_of_the_first_day_and_run_until_noon_after_the_last():
    timetable.check_event(FESTIVAL, {"event_name": "Warm-up", "event_start": utc(2026, 6, 11, 22), "event_end": 0})
    timetable.check_event(
        FESTIVAL, {"event_name": "Sunrise", "event_start": utc(2026, 6, 15, 2), "event_end": utc(2026, 6, 15, 10)}
    )
    timetable.check_event({**FESTIVAL, "festival_start": 0, "festival_end": 0}, {"event_name": "Any time"})


def _event(event_id, name, start, end, stage):
    return {
        "event_id": event_id,
        "event_name": name,
        "event_start": start,
        "event_end": end,
        "include": {"location": [{"location_id": 1, "location_name": stage}] if stage else [], "artist": []},
    }


def test_overlaps_on_a_stage_and_exact_duplicates_are_flagged_not_refused():
    events = [
        _event(1, "Set", utc(2026, 6, 12, 18), utc(2026, 6, 12, 19), "Main"),
        _event(2, "Set", utc(2026, 6, 12, 18), utc(2026, 6, 12, 19), "main"),
        _event(3, "Talk", utc(2026, 6, 12, 18, 30), utc(2026, 6, 12, 20), "Main"),
        _event(4, "Next", utc(2026, 6, 12, 20), utc(2026, 6, 12, 21), "Main"),  # starts as Talk ends: fine
        _event(5, "Elsewhere", utc(2026, 6, 12, 18), utc(2026, 6, 12, 19), "Tent"),
    ]
    found = timetable.warnings(events)
    assert found[1] == ["duplicate of “Set”", "overlaps “Talk” on Main"]
    assert found[3] == ["overlaps “Set” on Main", "overlaps “Set” on Main"]
    assert 4 not in found and 5 not in found


def test_overlapping_blocks_get_lanes_side_by_side():
    events = [
        _event(1, "A", utc(2026, 6, 12, 18), utc(2026, 6, 12, 20), "Main"),
        _event(2, "B", utc(2026, 6, 12, 18, 30), utc(2026, 6, 12, 19), "Main"),
        _event(3, "C", utc(2026, 6, 12, 19), utc(2026, 6, 12, 19, 30), "Main"),
        _event(4, "D", utc(2026, 6, 12, 21), utc(2026, 6, 12, 22), "Main"),
    ]
    day, *empty = timetable.timetable(FESTIVAL, events, [{"id": 1, "name": "Main"}], {})
    assert [(other.label, other.cells) for other in empty] == [("Sat 13 Jun 2026", []), ("Sun 14 Jun 2026", [])]
    lanes = {cell["event"]["event_name"]: (cell["lane"], cell["lanes"]) for cell in day.cells}
    assert lanes == {"A": (0, 2), "B": (1, 2), "C": (1, 2), "D": (0, 1)}


# --- on the database ------------------------------------------------------------------------------------


@pytest.fixture
def berlin(factory, creator):
    festival = factory.create(
        "festival",
        creator,
        name="Spree",
        is_valid=False,
        timezone="Europe/Berlin",
        start=FESTIVAL["festival_start"],
        end=FESTIVAL["festival_end"],
    )
    return festival["festival_id"]


def _save(festival_id, creator, factory, name, start, end, stage):
    return timetable.save_event(
        festival_id,
        None,
        factory.actor(creator),
        {"event_name": name, "event_start": start, "event_end": end},
        [],
        stage,
    )


def test_the_checks_refuse_in_the_transaction_and_save_nothing(factory, creator, berlin):
    with pytest.raises(Invalid):
        _save(berlin, creator, factory, "", utc(2026, 6, 12, 18), utc(2026, 6, 12, 19), "New stage")
    with pytest.raises(Invalid):
        _save(berlin, creator, factory, "Too late", utc(2026, 6, 20, 18), utc(2026, 6, 20, 19), "New stage")
    assert Event.select().count() == 0
    assert festivals.name_suggestions("location", "New", factory.actor(creator), berlin) == []


def test_publish_checklist_says_what_is_missing_and_the_api_stays_lenient(app, factory, creator, berlin):
    actor = factory.actor(creator)
    assert timetable.checklist_of(berlin, actor) == ["at least one event", "a place", "an image"]
    with pytest.raises(Invalid, match="the festival needs at least one event, a place, an image"):
        timetable.publish(berlin, actor)
    _save(berlin, creator, factory, "Set", utc(2026, 6, 12, 18), utc(2026, 6, 12, 19), "Main")
    for segment in ("place", "image"):
        part = factory.create(segment, creator)
        factory.link("festival", berlin, segment, part[f"{segment}_id"], creator)
    assert timetable.checklist_of(berlin, actor) == []
    assert timetable.publish(berlin, actor)["festival_is_valid"] is True
    # The API publishes as before (festival_is_valid), checklist or not: old clients keep working.
    empty = factory.create("festival", creator, is_valid=False)
    answer = app.test_client().patch(
        f"/api/v1/festivals/{empty['festival_id']}", json={"festival_is_valid": True}, headers=factory.bearer(creator)
    )
    assert answer.status_code == 200


def test_stage_order_is_stored_and_the_same_every_day(factory, creator, berlin):
    actor = factory.actor(creator)
    _save(berlin, creator, factory, "Fri", utc(2026, 6, 12, 18), utc(2026, 6, 12, 19), "Tent")
    _save(berlin, creator, factory, "Fri 2", utc(2026, 6, 12, 18), utc(2026, 6, 12, 19), "Arena")
    _save(berlin, creator, factory, "Sat", utc(2026, 6, 13, 18), utc(2026, 6, 13, 19), "Tent")
    events = festivals.events_of(berlin, actor)
    stages = timetable.stages(berlin, events)
    assert [stage["name"] for stage in stages] == ["Arena", "Tent"]  # by name until set
    timetable.move_stage(berlin, stages[1]["id"], -1, actor)
    assert FestivalStage.select().where(FestivalStage.festival == berlin).count() == 2
    stages = timetable.stages(berlin, events)
    assert [stage["name"] for stage in stages] == ["Tent", "Arena"]
    days = timetable.timetable(festivals.festival_with_parts(berlin, actor)[0], events, stages, {})
    assert [[cell["column"] for cell in day.cells] for day in days] == [[0, 1], [0], []]  # Tent first on both days
    assert (days[2].label, days[2].start) == ("Sun 14 Jun 2026", utc(2026, 6, 14, 14))  # empty, from 16:00 Berlin


def test_shift_moves_all_or_nothing_and_duplicate_copies(factory, creator, berlin):
    actor = factory.actor(creator)
    one = _save(berlin, creator, factory, "One", utc(2026, 6, 12, 18), utc(2026, 6, 12, 19), "Main")
    two = _save(berlin, creator, factory, "Two", utc(2026, 6, 14, 20), utc(2026, 6, 14, 22), "Main")
    ids = [one["event_id"], two["event_id"]]
    with pytest.raises(Invalid, match="outside|after"):
        timetable.shift_events(berlin, ids, 24 * 60, actor)  # Two would end on the 15th at 22:00 Berlin
    assert Event.get_by_id(one["event_id"]).start == utc(2026, 6, 12, 18)
    assert timetable.shift_events(berlin, ids, -30, actor) == 2
    assert Event.get_by_id(two["event_id"]).start == utc(2026, 6, 14, 19, 30)
    copy = timetable.duplicate_event(berlin, one["event_id"], actor)  # the next slot on the stage, as long
    assert (copy["event_name"], copy["event_start"], copy["event_end"]) == (
        "One",
        utc(2026, 6, 12, 18, 30),
        utc(2026, 6, 12, 19, 30),
    )
    assert copy["event_id"] not in timetable.warnings(festivals.events_of(berlin, actor))
    dawn = _save(berlin, creator, factory, "Dawn", utc(2026, 6, 15, 8), utc(2026, 6, 15, 9, 30), "Main")
    late = timetable.duplicate_event(berlin, dawn["event_id"], actor)  # after it, it would end after noon
    assert (late["event_start"], late["event_end"]) == (utc(2026, 6, 15, 8), utc(2026, 6, 15, 9, 30))
    assert timetable.warnings(festivals.events_of(berlin, actor))[late["event_id"]] == ["duplicate of “Dawn”"]


def test_the_csv_import_uses_the_festival_zone_and_the_same_checks(factory, creator, berlin):
    table = imports.read_csv(
        "name,day,start,end,stage\n"
        "Opening,2026-06-12,20:00,21:30,Main\n"
        "Skipped hour,2026-06-12,02:30,03:00,Main\n"  # fine in June
        "Before,2026-06-01,20:00,21:00,Main\n"
    )
    plan = imports.preview(berlin, factory.actor(creator), table, imports.guess_mapping(table.headers))
    assert [row.status for row in plan.rows] == ["new", "new", "error"]
    assert plan.rows[0].start == utc(2026, 6, 12, 18)
    assert "outside the festival's days" in plan.rows[2].reason


def test_the_csv_import_refuses_a_time_the_clocks_skip(factory, creator):
    festival = factory.create(
        "festival", creator, timezone="Europe/Berlin", start=utc(2026, 3, 27, 12), end=utc(2026, 3, 29, 12)
    )
    table = imports.read_csv("name,day,start,end,stage\nLate,2026-03-29,02:30,04:00,Club\n")
    plan = imports.preview(festival["festival_id"], factory.actor(creator), table, imports.guess_mapping(table.headers))
    assert plan.rows[0].status == "error"
    assert "does not exist in Europe/Berlin" in plan.rows[0].reason


def test_exports_are_in_the_festival_zone(factory, creator, berlin):
    _save(berlin, creator, factory, "Opening", utc(2026, 6, 12, 18), utc(2026, 6, 12, 19, 30), "Main")
    program_ = exports.load(berlin, factory.actor(creator))
    assert program_.zone.key == "Europe/Berlin"
    assert exports.events_csv(program_).decode("utf-8-sig").splitlines()[1].startswith("Opening,2026-06-12,20:00,21:30")
    assert b"DTSTART;TZID=Europe/Berlin:20260612T200000" in exports.ical(program_)


# --- the API's field ------------------------------------------------------------------------------------


def test_festival_timezone_in_the_api(app, factory, creator):
    client = app.test_client()
    headers = factory.bearer(creator)
    created = client.post("/api/v1/festivals", json={"festival_name": "Zoned"}, headers=headers)
    assert created.get_json()["data"][0]["festival_timezone"] == "UTC"
    festival_id = created.get_json()["data"][0]["festival_id"]
    bad = client.patch(f"/api/v1/festivals/{festival_id}", json={"festival_timezone": "Mars/Olympus"}, headers=headers)
    assert bad.status_code == 400
    assert bad.get_json()["fields"] == {"festival_timezone": "must be an IANA time zone name such as Europe/Berlin"}
    good = client.patch(f"/api/v1/festivals/{festival_id}", json={"festival_timezone": "Asia/Kolkata"}, headers=headers)
    assert good.get_json()["data"][0]["festival_timezone"] == "Asia/Kolkata"


# --- one event, three ways in --------------------------------------------------------------------------


def test_an_event_after_the_festival_is_refused_alike_by_portal_and_import_and_kept_by_the_api(
    app, browser_client, factory, creator, berlin
):
    """The checks are chosen by the service (timetable.save_event, imports.preview), not by a handler: the portal
    and the CSV import refuse the same event with the same words; the API keeps it, as its contract says (api.md:
    existing apps create and link events before the festival's dates are final)."""
    words = "outside the festival's days (Fri 12 Jun – Sun 14 Jun)"
    page = f"/festivals/{berlin}/events"
    form = {"csrf_token": csrf_token(browser_client, page), "event_name": "Nachspiel am Müggelsee", "location": "Zelt"}
    refused = browser_client.post(
        page, data={**form, "event_start": "2026-06-20T20:00", "event_end": "2026-06-20T21:00"}
    )
    assert refused.status_code == 422
    start_error = re.search(r'id="event_start-error"[^>]*>([^<]*)<', html.unescape(text(refused)))
    assert start_error and words in start_error.group(1)  # next to the start field

    table = imports.read_csv("name,day,start,end,stage\nNachspiel am Müggelsee,2026-06-20,20:00,21:00,Zelt\n")
    plan = imports.preview(berlin, factory.actor(creator), table, imports.guess_mapping(table.headers))
    assert [row.status for row in plan.rows] == ["error"]
    assert words in plan.rows[0].reason
    assert Event.select().count() == 0

    client, headers = app.test_client(), factory.bearer(creator)
    body = {
        "event_name": "Nachspiel am Müggelsee",
        "event_start": utc(2026, 6, 20, 18),
        "event_end": utc(2026, 6, 20, 19),
    }
    created = client.post("/api/v1/events", json=body, headers=headers)
    assert created.status_code == 201
    event_id = created.get_json()["data"][0]["event_id"]
    assert client.post(f"/api/v1/festivals/{berlin}/events/{event_id}", headers=headers).status_code == 200
    assert [event.name for event in Event.select()] == ["Nachspiel am Müggelsee"]


# --- the portal -----------------------------------------------------------------------------------------


def test_portal_times_are_local_and_a_skipped_time_is_refused_next_to_its_field(browser_client, factory, creator):
    festival = factory.create(
        "festival", creator, timezone="Europe/Berlin", start=utc(2026, 3, 27, 12), end=utc(2026, 3, 29, 20)
    )
    festival_id = festival["festival_id"]
    page = f"/festivals/{festival_id}/events"
    data = {"csrf_token": csrf_token(browser_client, page), "event_name": "Night", "location": "Club"}
    skipped = browser_client.post(
        page, data={**data, "event_start": "2026-03-29T02:30", "event_end": "2026-03-29T04:00"}
    )
    assert skipped.status_code == 422
    assert "does not exist in Europe/Berlin: the clocks go forward that night (choose e.g. 03:30)." in text(skipped)
    saved = browser_client.post(page, data={**data, "event_start": "2026-03-29T01:30", "event_end": "2026-03-29T04:00"})
    assert saved.status_code == 303
    event = Event.get(Event.name == "Night")
    assert (event.start, event.end) == (utc(2026, 3, 29, 0, 30), utc(2026, 3, 29, 2))
    assert "Sun 29 Mar 01:30 – 04:00" in text(browser_client.get(page))


def test_a_festival_entered_in_its_zone(browser_client):
    data = {
        "csrf_token": csrf_token(browser_client, "/festivals/new"),
        "festival_name": "Zoned fest",
        "festival_timezone": "Europe/Berlin",
        "festival_start": "2026-06-12T12:00",
        "festival_end": "2026-06-14T23:00",
    }
    assert browser_client.post("/festivals/new", data=data).status_code == 303
    unknown = browser_client.post(
        "/festivals/new", data={**data, "festival_name": "Nowhere", "festival_timezone": "Nowhere"}
    )
    assert unknown.status_code == 422
    assert "Must be an IANA time zone name such as Europe/Berlin." in text(unknown)
    from app.models import Festival

    stored = Festival.get(Festival.name == "Zoned fest")
    assert (stored.timezone, stored.start) == ("Europe/Berlin", utc(2026, 6, 12, 10))


def test_delete_without_javascript_asks_on_a_page_first(browser_client, factory, creator, berlin):
    event = _save(berlin, creator, factory, "Keep me", utc(2026, 6, 12, 18), utc(2026, 6, 12, 19), "Main")
    url = f"/festivals/{berlin}/events/{event['event_id']}/delete"
    token = csrf_token(browser_client, f"/festivals/{berlin}/events")
    page = browser_client.post(url, data={"csrf_token": token})
    assert page.status_code == 200 and "Delete event “Keep me”?" in text(page)
    assert Event.select().count() == 1
    gone = browser_client.post(url, data={"csrf_token": token, "confirmed": "1"})
    assert gone.status_code == 303 and Event.select().count() == 0


def test_portal_shift_duplicate_move_and_stage_order(browser_client, factory, creator, berlin):
    one = _save(berlin, creator, factory, "One", utc(2026, 6, 12, 18), utc(2026, 6, 12, 19), "Main")
    two = _save(berlin, creator, factory, "Two", utc(2026, 6, 12, 20), utc(2026, 6, 12, 21), "Tent")
    page = f"/festivals/{berlin}/events"
    token = csrf_token(browser_client, page)

    shifted = browser_client.post(
        f"{page}/shift", data={"csrf_token": token, "minutes": "15", "events": [one["event_id"], two["event_id"]]}
    )
    assert shifted.status_code == 303
    assert "2 events shifted by 15 minutes." in text(browser_client.get(page))
    assert Event.get_by_id(two["event_id"]).start == utc(2026, 6, 12, 20, 15)
    too_far = browser_client.post(f"{page}/shift", data={"csrf_token": token, "minutes": "99999", "events": [1]})
    assert too_far.status_code == 422 and "Shift by 1 minute up to 7 days." in text(too_far)

    assert browser_client.post(f"{page}/{one['event_id']}/duplicate", data={"csrf_token": token}).status_code == 303
    listed = text(browser_client.get(page))
    assert "“One” is duplicated: the copy starts at Fri 12 Jun 21:15, after the original." in listed
    assert "duplicate of “One”" not in listed  # the copy is the next slot, not a flagged twin

    move = f"{page}/{two['event_id']}/move"
    form = text(browser_client.get(move))
    assert 'value="2026-06-12T22:15"' in form  # its start, in Berlin time
    outside = browser_client.post(move, data={"csrf_token": token, "start": "2026-06-20T20:00", "location": "Tent"})
    assert outside.status_code == 422 and "Is outside the festival&#39;s days" in text(outside)
    moved = browser_client.post(move, data={"csrf_token": token, "start": "2026-06-13T19:02", "location": "Main"})
    assert moved.status_code == 303
    event = festivals.event_of(berlin, two["event_id"], factory.actor(creator))
    assert (event["event_start"], timetable.stage_of(event)) == (utc(2026, 6, 13, 17), "Main")  # 19:00 Berlin

    _save(berlin, creator, factory, "Three", utc(2026, 6, 13, 12), utc(2026, 6, 13, 13), "Tent")
    timetable_page = f"/festivals/{berlin}/timetable"
    tent = next(
        s for s in timetable.stages(berlin, festivals.events_of(berlin, factory.actor(creator))) if s["name"] == "Tent"
    )
    assert (
        browser_client.post(f"/festivals/{berlin}/stages/{tent['id']}/left", data={"csrf_token": token}).status_code
        == 303
    )
    headers = text(browser_client.get(timetable_page))
    assert headers.index('data-stage="Tent"') < headers.index('data-stage="Main"')
