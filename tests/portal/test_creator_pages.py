"""The creator portal through the Flask test client: forms posted as a browser posts them, answers as a
user sees them (status, redirects, htmx headers, page text) and the rows the services wrote."""

import re

from app.models import Event, Festival
from app.permissions import SYSTEM
from app.services import writes
from tests.identity.test_pages import client_for, csrf_token, log_in, text

HTMX = {"HX-Request": "true"}
JULY_3 = "2026-07-03T"


def token(client, page="/festivals/new") -> str:
    return csrf_token(client, page)


def new_festival(client, name="Sommerfest", **fields) -> int:
    data = {
        "csrf_token": token(client),
        "festival_name": name,
        "festival_start": "2026-07-03T12:00",
        "festival_end": "2026-07-05T23:00",
        **fields,
    }
    response = client.post("/festivals/new", data=data)
    assert response.status_code == 303, text(response)
    return int(re.search(r"/festivals/(\d+)$", response.headers["Location"]).group(1))


def add_event(client, festival_id, name, start, end, artists="", location="", headers=None):
    data = {
        "csrf_token": token(client, f"/festivals/{festival_id}/events"),
        "event_name": name,
        "event_start": JULY_3 + start,
        "event_end": JULY_3 + end,
        "artists": artists,
        "location": location,
    }
    return client.post(f"/festivals/{festival_id}/events", data=data, headers=headers or {})


def test_dashboard_lists_only_my_festivals_with_event_counts(app, factory, browser_client):
    mine = new_festival(browser_client, "Mine")
    add_event(browser_client, mine, "Opening", "18:00", "19:00")
    other = factory.user("creator")
    factory.create("festival", other, name="Theirs")
    page = text(browser_client.get("/festivals"))
    assert "Mine" in page and "Theirs" not in page
    assert re.search(r"Mine</a></th>.*?<td data-label=\"Events\">1</td>", page, re.S)


def test_festival_create_shows_field_errors_and_keeps_input(browser_client):
    data = {
        "csrf_token": token(browser_client),
        "festival_name": "Kept name",
        "festival_start": "2026-07-05T12:00",
        "festival_end": "2026-07-03T12:00",
        "festival_price": "12 €",
    }
    response = browser_client.post("/festivals/new", data=data)
    assert response.status_code == 422
    page = text(response)
    assert 'id="festival_end-error"' in page and "must not be before" in page.lower()
    assert 'value="Kept name"' in page and 'value="12 €"' in page
    assert Festival.select().count() == 0


def test_inline_check_answers_one_field_with_its_message(browser_client):
    data = {
        "csrf_token": token(browser_client),
        "field": "festival_end",
        "festival_name": "X",
        "festival_start": "2026-07-05T12:00",
        "festival_end": "2026-07-03T12:00",
    }
    response = browser_client.post("/festivals/check", data=data, headers=HTMX)
    assert response.status_code == 200
    page = text(response)
    assert page.strip().startswith('<div id="field-festival_end"') and "field-error" in page


def test_htmx_save_redirects_with_hx_redirect_and_plain_with_303(browser_client):
    festival_id = new_festival(browser_client)
    page = text(browser_client.get(f"/festivals/{festival_id}"))
    version = re.search(r'name="version" type="hidden" value="([^"]+)"', page).group(1)
    data = {
        "csrf_token": token(browser_client),
        "festival_name": "Renamed",
        "version": version,
        "festival_start": "2026-07-03T12:00",
        "festival_end": "2026-07-05T23:00",
    }
    response = browser_client.post(f"/festivals/{festival_id}", data=data, headers=HTMX)
    # htmx: the details again, "Saved." next to the button, the page's heading renamed out of band
    assert response.status_code == 200 and "HX-Redirect" not in response.headers
    assert re.search(
        r'<button type="submit">Save details</button><p [^>]*id="details-notice"[^>]*>Saved\.</p>', text(response)
    )
    assert '<h1 id="festival-title" hx-swap-oob="true">Renamed</h1>' in text(response)
    assert Festival.get_by_id(festival_id).name == "Renamed"
    page = text(browser_client.get(f"/festivals/{festival_id}"))
    data["version"] = re.search(r'name="version" type="hidden" value="([^"]+)"', page).group(1)
    data["festival_name"] = "Renamed again"
    response = browser_client.post(f"/festivals/{festival_id}", data=data)  # no JavaScript: to the message
    assert response.status_code == 303 and response.headers["Location"] == f"/festivals/{festival_id}#details-notice"
    page = text(browser_client.get(f"/festivals/{festival_id}"))
    assert re.search(r'id="details-notice"[^>]*>Saved\.</p>', page) and 'class="flash' not in page


def test_concurrent_edit_is_a_conflict_that_keeps_the_typed_values(browser_client):
    festival_id = new_festival(browser_client)
    page = text(browser_client.get(f"/festivals/{festival_id}"))
    version = re.search(r'name="version" type="hidden" value="([^"]+)"', page).group(1)
    data = {
        "csrf_token": token(browser_client),
        "festival_start": "2026-07-03T12:00",
        "festival_end": "2026-07-05T23:00",
        "version": version,
    }
    first = browser_client.post(f"/festivals/{festival_id}", data={**data, "festival_name": "First"})
    assert first.status_code == 303
    second = browser_client.post(f"/festivals/{festival_id}", data={**data, "festival_name": "Second"}, headers=HTMX)
    assert second.status_code == 409
    assert 'data-testid="conflict"' in text(second) and 'value="Second"' in text(second)
    assert Festival.get_by_id(festival_id).name == "First"


def test_events_with_artists_and_location_in_one_save(browser_client):
    festival_id = new_festival(browser_client)
    response = add_event(
        browser_client, festival_id, "Night set", "22:00", "23:30", "Ada, Bo", "Main stage", headers=HTMX
    )
    assert response.status_code == 200
    assert 'hx-swap-oob="beforeend:#event-rows"' in text(response) and "Ada, Bo" in text(response)
    event = Event.get(Event.name == "Night set")
    assert {a["artist_name"] for a in entities_of(browser_client, festival_id)["artist"]} == {"Ada", "Bo"}
    timetable = text(browser_client.get(f"/festivals/{festival_id}/timetable"))
    assert "Night set" in timetable and "Main stage" in timetable and event.id


def entities_of(client, festival_id):
    from app.models import User
    from app.permissions import Actor
    from app.services import festivals

    owner = Festival.get_by_id(festival_id).owner_id
    user = User.get_by_id(owner)
    events = festivals.events_of(festival_id, Actor("user", user_id=user.id, role=user.role))
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
    writes.update("festival", festival_id, SYSTEM, {"festival_is_valid": True})  # published: readable, not theirs
    for page in ("", "/events", "/timetable"):
        path = f"/festivals/{festival_id}{page}"
        assert other.get(path).status_code in (403, 404)
    data = {"csrf_token": csrf_token(other, "/festivals/new"), "festival_name": "Taken over"}
    assert other.post(f"/festivals/{festival_id}", data=data).status_code in (403, 404)
    assert Festival.get_by_id(festival_id).name == "Sommerfest"


def test_publish_makes_the_festival_visible_in_the_api(app, factory, browser_client, creator):
    festival_id = new_festival(browser_client)
    editor = text(browser_client.get(f"/festivals/{festival_id}"))
    assert "the festival needs: at least one event, a place, an image." in editor
    response = browser_client.post(f"/festivals/{festival_id}/publish", data={"csrf_token": token(browser_client)})
    assert response.status_code == 303
    refused = text(browser_client.get(response.headers["Location"]))
    assert "Not published yet: the festival needs at least one event, a place, an image." in refused
    assert not Festival.get_by_id(festival_id).is_valid

    add_event(browser_client, festival_id, "Opening", "18:00", "19:00", location="Tent")
    for segment, entity in (("place", "place"), ("image", "image")):
        part = factory.create(entity, creator)
        factory.link("festival", festival_id, segment, part[f"{entity}_id"], creator)
    ready = text(browser_client.get(f"/festivals/{festival_id}"))
    assert re.search(r'<div id="publish-checklist"[^>]*\shidden', ready)  # nothing missing: no list shown
    response = browser_client.post(f"/festivals/{festival_id}/publish", data={"csrf_token": token(browser_client)})
    assert response.status_code == 303
    api = app.test_client()
    listed = api.get("/api/v1/festivals?valid=true", headers=factory.api_key_headers()).get_json()["data"]
    assert [f["festival_name"] for f in listed] == ["Sommerfest"]


def test_htmx_fragment_and_full_page_from_one_url_vary_on_hx_request(browser_client):
    new_festival(browser_client)
    full = browser_client.get("/festivals")
    fragment = browser_client.get("/festivals", headers=HTMX)
    boosted = browser_client.get("/festivals", headers={**HTMX, "HX-Boosted": "true"})
    restore = browser_client.get("/festivals", headers={**HTMX, "HX-History-Restore-Request": "true"})
    assert "<html" in text(full) and "<html" in text(boosted) and "<html" in text(restore)
    assert "<html" not in text(fragment) and text(fragment).lstrip().startswith('<div id="festival-table"')
    assert "HX-Request" in full.headers["Vary"] and "HX-Request" in fragment.headers["Vary"]


def test_place_links_and_tags_are_managed_inline(browser_client):
    festival_id = new_festival(browser_client)
    base = f"/festivals/{festival_id}"
    response = browser_client.post(
        base + "/links", data={"csrf_token": token(browser_client), "link_url": "ftp://x"}, headers=HTMX
    )
    assert response.status_code == 422 and 'id="link_url-error"' in text(response)
    response = browser_client.post(
        base + "/links", headers=HTMX, data={"csrf_token": token(browser_client), "link_url": "https://lake.example/"}
    )
    assert response.status_code == 200 and text(response).lstrip().startswith('<div id="festival-links"')
    for name in ("Rock", "ROCK", "Jazz"):  # tags are case-insensitive: Rock and ROCK are one tag
        browser_client.post(base + "/tags", data={"csrf_token": token(browser_client), "tag_name": name})
    response = browser_client.post(
        base + "/place", data={"csrf_token": token(browser_client), "place_town": "Leipzig", "place_lat": "91"}
    )
    assert response.status_code == 422 and 'id="place_lat-error"' in text(response)
    browser_client.post(base + "/place", data={"csrf_token": token(browser_client), "place_town": "Leipzig"})
    browser_client.post(base + "/place", data={"csrf_token": token(browser_client), "place_town": "Halle"})
    festival = entities_with_parts(festival_id)
    assert [link["link_url"] for link in festival["include"]["links"]] == ["https://lake.example/"]
    assert sorted(tag["tag_name"] for tag in festival["include"]["tags"]) == ["Jazz", "Rock"]
    assert [place["place_town"] for place in festival["include"]["place"]] == ["Halle"]
    from app.models import Place

    assert Place.select().count() == 1  # the place was changed, not replaced by a second one
    link_id = festival["include"]["links"][0]["link_id"]
    # Without JavaScript a delete first asks, on a page of its own, naming what goes.
    asked = browser_client.post(f"{base}/links/{link_id}/remove", data={"csrf_token": token(browser_client)})
    assert asked.status_code == 200 and "Delete the link “https://lake.example/”?" in text(asked)
    assert len(entities_with_parts(festival_id)["include"]["links"]) == 1
    response = browser_client.post(
        f"{base}/links/{link_id}/remove", data={"csrf_token": token(browser_client), "confirmed": "1"}
    )
    assert response.status_code == 303 and response.headers["Location"].endswith("#links-notice")
    assert entities_with_parts(festival_id)["include"]["links"] == []
    assert "“https://lake.example/” is deleted." in text(browser_client.get(base))


def entities_with_parts(festival_id):
    from app.services import festivals

    return festivals.festival_with_parts(festival_id, SYSTEM)[0]


def test_library_lists_searches_creates_and_edits(browser_client):
    response = browser_client.post(
        "/library/artists", data={"csrf_token": token(browser_client, "/library/artists"), "artist_name": "Nina Simone"}
    )
    assert response.status_code == 303
    response = browser_client.post(
        "/library/artists", data={"csrf_token": token(browser_client, "/library/artists"), "artist_name": ""}
    )
    assert response.status_code == 422 and "artist_name-error" in text(response)
    found = browser_client.get("/library/artists?q=simone", headers=HTMX)
    assert "Nina Simone" in text(found) and "<html" not in text(found)
    assert "Nina Simone" not in text(browser_client.get("/library/artists?q=zappa"))
    from app.models import Artist

    artist = Artist.get(Artist.name == "Nina Simone")
    page = text(browser_client.get(f"/library/artists/{artist.id}"))
    version = re.search(r'name="version" type="hidden" value="([^"]+)"', page).group(1)
    response = browser_client.post(
        f"/library/artists/{artist.id}",
        data={"csrf_token": token(browser_client, "/library/artists"), "artist_name": "Nina", "version": version},
    )
    assert response.status_code == 303 and Artist.get_by_id(artist.id).name == "Nina"
    assert browser_client.get("/library/unknown").status_code == 404
    assert browser_client.get("/library/artists?page=abc").status_code == 200


def test_plain_user_gets_a_403_page_not_the_editor(app, factory):
    client = client_for(app)
    log_in(client, factory.user("user").email)
    response = client.get("/festivals/new")
    assert response.status_code == 403 and "Not allowed" in text(response)
    assert client.get("/festivals").status_code == 403


def test_logged_out_visitor_is_sent_to_login(app):
    response = app.test_client().get("/festivals/1/events")
    assert response.status_code == 302 and "/login?next=" in response.headers["Location"]
    htmx = app.test_client().get("/festivals", headers=HTMX)
    assert htmx.headers["HX-Redirect"].startswith("/login?next=")
