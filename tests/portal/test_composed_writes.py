"""A composed write (the portal's event save with its artists and location, a festival's parts) authorizes
once, bumps each version once and writes one audit row for the user's action, in few statements."""

import re

import orjson

from app.db import db
from app.models import Artist, AuditEntry, Event, Location
from app.services import timetable
from tests.identity.test_pages import csrf_token
from tests.portal.test_creator_pages import JULY_3, new_festival


def _event_form(client, festival_id, name, artists, location, prefix=""):
    fields = {
        "event_name": name,
        "event_start": JULY_3 + "18:00",
        "event_end": JULY_3 + "19:00",
        "artists": artists,
        "location": location,
    }
    data = {f"{prefix}{key}": value for key, value in fields.items()}
    data["csrf_token"] = csrf_token(client, f"/festivals/{festival_id}/events")
    return data


def _audit(app, since_id):
    with app.app_context(), db.connection_context():
        return [
            (row.entity, row.action, orjson.loads(row.details))
            for row in AuditEntry.select().where(AuditEntry.id > since_id).order_by(AuditEntry.id)
        ]


def _last_audit_id(app):
    with app.app_context(), db.connection_context():
        last = AuditEntry.select().order_by(AuditEntry.id.desc()).first()
        return last.id if last else 0


def test_event_save_with_new_artists_and_location_is_one_write_of_at_most_20_statements(
    app, factory, creator, count_queries
):
    festival_id = factory.create("festival", creator)["festival_id"]
    values = {"event_name": "Opening", "event_start": 1783101600, "event_end": 1783105200}
    before = _last_audit_id(app)
    with app.app_context(), db.connection_context():
        count_queries.count = 0
        saved = timetable.save_event(
            festival_id, None, factory.actor(creator), values, ["Ada Lux", "Bo Tide"], "Main stage"
        )
        statements = count_queries.count
    assert statements <= 20, f"{statements} statements for one event save"
    assert sorted(a["artist_name"] for a in saved["include"]["artist"]) == ["Ada Lux", "Bo Tide"]
    assert [location["location_name"] for location in saved["include"]["location"]] == ["Main stage"]
    entries = _audit(app, before)
    assert len(entries) == 1
    entity, action, details = entries[0]
    with app.app_context(), db.connection_context():
        event = Event.get(Event.name == "Opening")
        artists = {row.name: row.id for row in Artist.select()}
        location = Location.get(Location.name == "Main stage")
    assert (entity, action) == ("event", "create")
    assert details["festival"] == festival_id
    assert sorted(details["artist"]) == sorted(artists.values()) and details["location"] == [location.id]
    assert sorted(details["created"]["artist"]) == sorted(artists.values())
    assert details["created"]["location"] == [location.id]
    assert "event_name" in details["fields"]
    assert event.owner_id is not None


def test_event_change_of_artists_and_location_is_one_audit_row_and_one_version(app, browser_client):
    festival_id = new_festival(browser_client)
    added = browser_client.post(
        f"/festivals/{festival_id}/events",
        data=_event_form(browser_client, festival_id, "Set", "Ada Lux, Bo Tide", "Tent"),
    )
    assert added.status_code == 303
    with app.app_context(), db.connection_context():
        event = Event.get(Event.name == "Set")
    prefix = f"e{event.id}-"
    page = browser_client.get(f"/festivals/{festival_id}/events/{event.id}/edit").get_data(as_text=True)
    version = re.search(rf'name="{prefix}version"[^>]*value="([^"]+)"', page) or re.search(
        rf'value="([^"]+)"[^>]*name="{prefix}version"', page
    )
    data = _event_form(browser_client, festival_id, "Set", "Bo Tide, Cy Wave", "", prefix=prefix)
    data[f"{prefix}version"] = version.group(1)
    before = _last_audit_id(app)
    saved = browser_client.post(f"/festivals/{festival_id}/events/{event.id}", data=data)
    assert saved.status_code == 303
    entries = _audit(app, before)
    assert [(entity, action) for entity, action, _ in entries] == [("event", "update")]
    details = entries[0][2]
    with app.app_context(), db.connection_context():
        names = {row.id: row.name for row in Artist.select()}
        after = Event.get_by_id(event.id)
    assert sorted(names[i] for i in details["artist"]) == ["Bo Tide", "Cy Wave"]
    assert details["location"] == [] and [names[i] for i in details["created"]["artist"]] == ["Cy Wave"]
    assert after.version > event.version


def test_event_save_that_changes_nothing_writes_nothing(app, browser_client):
    festival_id = new_festival(browser_client)
    browser_client.post(
        f"/festivals/{festival_id}/events", data=_event_form(browser_client, festival_id, "Same", "Ada Lux", "Tent")
    )
    with app.app_context(), db.connection_context():
        event = Event.get(Event.name == "Same")
    prefix = f"e{event.id}-"
    page = browser_client.get(f"/festivals/{festival_id}/events/{event.id}/edit").get_data(as_text=True)
    version = re.search(rf'name="{prefix}version"[^>]*value="([^"]+)"', page) or re.search(
        rf'value="([^"]+)"[^>]*name="{prefix}version"', page
    )
    data = _event_form(browser_client, festival_id, "Same", "Ada Lux", "Tent", prefix=prefix)
    data[f"{prefix}version"] = version.group(1)
    before = _last_audit_id(app)
    assert browser_client.post(f"/festivals/{festival_id}/events/{event.id}", data=data).status_code == 303
    with app.app_context(), db.connection_context():
        assert Event.get_by_id(event.id).version == event.version
    assert _audit(app, before) == []
