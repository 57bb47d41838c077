"""The creator portal through the Flask test client: forms posted as a browser posts them, answers as a
user sees them (status, redirects, htmx headers, page text) and the rows the services wrote."""
import re

import pytest

from app.models import Event, Festival
from app.permissions import SYSTEM
from app.services import entities
from tests.factories import PASSWORD
from tests.identity.test_pages import client_for, csrf_token, log_in, text

HTMX = {"HX-Request": "true"}
JULY_3 = "2026-07-03T"


@pytest.fixture
def creator(factory):
    return factory.user("creator")


@pytest.fixture
def browser_client(app, creator):
    client = client_for(app)
    assert log_in(client, creator.email).status_code == 303
    return client


def token(client, page="/festivals/new") -> str:
    return csrf_token(client, page)


def new_festival(client, name="Sommerfest", **fields) -> int:
    data = {"csrf_token": token(client), "festival_name": name, "festival_start": "2026-07-03T12:00",
            "festival_end": "2026-07-05T23:00", **fields}
    response = client.post("/festivals/new", data=data)
    assert response.status_code == 303, text(response)
    return int(re.search(r"/festivals/(\d+)$", response.headers["Location"]).group(1))


def add_event(client, festival_id, name, start, end, artists="", location="", headers=None):
    data = {"csrf_token": token(client, f"/festivals/{festival_id}/events"), "event_name": name,
            "event_start": JULY_3 + start, "event_end": JULY_3 + end, "artists": artists, "location": location}
    return client.post(f"/festivals/{festival_id}/events", data=data, headers=headers or {})


def test_dashboard_lists_only_my_festivals_with_event_counts(app, factory, browser_client):
    mine = new_festival(browser_client, "Mine")
    add_event(browser_client, mine, "Opening", "18:00", "19:00")
    other = factory.user("creator")
    factory.create("festival", other, name="Theirs")
    page = text(browser_client.get("/festivals"))
    assert "Mine" in page and "Theirs" not in page
    assert re.search(r"Mine</a></th>.*?<td>1</td>", page, re.S)


def test_festival_create_shows_field_errors_and_keeps_input(browser_client):
    data = {"csrf_token": token(browser_client), "festival_name": "Kept name", "festival_start": "2026-07-05T12:00",
            "festival_end": "2026-07-03T12:00", "festival_price": "12 €"}
    response = browser_client.post("/festivals/new", data=data)
    assert response.status_code == 422
    page = text(response)
    assert 'id="festival_end-error"' in page and "must not be before" in page.lower()
    assert 'value="Kept name"' in page and 'value="12 €"' in page
    assert Festival.select().count() == 0


def test_inline_check_answers_one_field_with_its_message(browser_client):
    data = {"csrf_token": token(browser_client), "field": "festival_end", "festival_name": "X",
            "festival_start": "2026-07-05T12:00", "festival_end": "2026-07-03T12:00"}
    response = browser_client.post("/festivals/check", data=data, headers=HTMX)
    assert response.status_code == 200
    page = text(response)
    assert page.strip().startswith('<div id="field-festival_end"') and "field-error" in page


def test_htmx_save_redirects_with_hx_redirect_and_plain_with_303(browser_client):
    festival_id = new_festival(browser_client)
    page = text(browser_client.get(f"/festivals/{festival_id}"))
    version = re.search(r'name="version" type="hidden" value="([^"]+)"', page).group(1)
    data = {"csrf_token": token(browser_client), "festival_name": "Renamed", "version": version,
            "festival_start": "2026-07-03T12:00", "festival_end": "2026-07-05T23:00"}
    response = browser_client.post(f"/festivals/{festival_id}", data=data, headers=HTMX)
    assert response.status_code == 200 and response.headers["HX-Redirect"] == f"/festivals/{festival_id}"
    assert Festival.get_by_id(festival_id).name == "Renamed"


def test_concurrent_edit_is_a_conflict_that_keeps_the_typed_values(browser_client):
    festival_id = new_festival(browser_client)
    page = text(browser_client.get(f"/festivals/{festival_id}"))
    version = re.search(r'name="version" type="hidden" value="([^"]+)"', page).group(1)
    data = {"csrf_token": token(browser_client), "festival_start": "2026-07-03T12:00",
            "festival_end": "2026-07-05T23:00", "version": version}
    first = browser_client.post(f"/festivals/{festival_id}", data={**data, "festival_name": "First"})
    assert first.status_code == 303
    second = browser_client.post(f"/festivals/{festival_id}", data={**data, "festival_name": "Second"}, headers=HTMX)
    assert second.status_code == 409
    assert 'data-testid="conflict"' in text(second) and 'value="Second"' in text(second)
    assert Festival.get_by_id(festival_id).name == "First"


def test_events_with_artists_and_location_in_one_save(browser_client):
    festival_id = new_festival(browser_client)
    response = add_event(browser_client, festival_id, "Night set", "22:00", "23:30", "Ada, Bo", "Main stage",
                         headers=HTMX)
    assert response.status_code == 200
    assert 'hx-swap-oob="beforeend:#event-rows"' in text(response) and "Ada, Bo" in text(response)
    event = Event.get(Event.name == "Night set")
    assert {a["artist_name"] for a in entities_of(browser_client, festival_id)["artist"]} == {"Ada", "Bo"}
    timetable = text(browser_client.get(f"/festivals/{festival_id}/timetable"))
    assert "Night set" in timetable and "Main stage" in timetable and event.id


def entities_of(client, festival_id):
    from app.services import program
    from app.permissions import Actor
    from app.models import User

    owner = Festival.get_by_id(festival_id).owner_id
    user = User.get_by_id(owner)
    events = program.events_of(festival_id, Actor("user", user_id=user.id, role=user.role))
    return {"artist": [a for e in events for a in e["include"]["artist"]]}


def test_event_validation_error_is_next_to_its_field_and_nothing_is_saved(browser_client):
    festival_id = new_festival(browser_client)
    response = add_event(browser_client, festival_id, "Backwards", "22:00", "21:00", "Ada", "Tent", headers=HTMX)
    assert response.status_code == 422
    assert 'id="event_end-error"' in text(response)
    assert Event.select().count() == 0


def test_other_creator_cannot_open_or_change_my_festival(app, factory, browser_client):
    festival_id = new_festival(browser_client)
    other = client_for(app)
    log_in(other, factory.user("creator").email)
    assert other.get(f"/festivals/{festival_id}").status_code == 404  # a draft of someone else: not there
    assert "Sommerfest" not in text(other.get("/festivals"))
    entities.update("festival", festival_id, SYSTEM, {"festival_is_valid": True})  # published: readable, not theirs
    for path in (f"/festivals/{festival_id}", f"/festivals/{festival_id}/events", f"/festivals/{festival_id}/timetable"):
        assert other.get(path).status_code in (403, 404)
    data = {"csrf_token": csrf_token(other, "/festivals/new"), "festival_name": "Taken over"}
    assert other.post(f"/festivals/{festival_id}", data=data).status_code in (403, 404)
    assert Festival.get_by_id(festival_id).name == "Sommerfest"


def test_publish_makes_the_festival_visible_in_the_api(app, factory, browser_client):
    festival_id = new_festival(browser_client)
    response = browser_client.post(f"/festivals/{festival_id}/publish", data={"csrf_token": token(browser_client)})
    assert response.status_code == 303
    api = app.test_client()
    listed = api.get("/api/v1/festivals?valid=true", headers=factory.api_key_headers()).get_json()["data"]
    assert [f["festival_name"] for f in listed] == ["Sommerfest"]
