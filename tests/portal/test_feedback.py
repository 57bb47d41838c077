"""What the portal says: validation messages in plain words (the API's envelope says the same), a save's
message next to what was saved, and deletes that name what they delete and ask first without JavaScript."""

import re

from app.models import Artist
from tests.identity.test_pages import text
from tests.portal.test_creator_pages import HTMX, add_event, new_festival, token

LIBRARY_MESSAGES = re.compile(r"String should|Input should|Value error|valid float|valid integer|valid datetime")


def test_validation_messages_are_plain_words_in_the_api_and_the_portal(app, factory, browser_client, creator):
    client = app.test_client()
    answer = client.post("/api/v1/artists", json={"artist_name": ""}, headers=factory.bearer(creator))
    assert answer.status_code == 400
    assert answer.get_json() == {
        "error": "invalid artist: artist_name must not be empty",
        "fields": {"artist_name": "must not be empty"},
    }
    answer = client.post(
        "/api/v1/places", json={"place_lat": 95, "place_zip": "x" * 11}, headers=factory.bearer(creator)
    )
    assert answer.get_json()["fields"] == {
        "place_lat": "must be at most 90",
        "place_zip": "must be at most 10 characters",
    }

    page = browser_client.post("/library/artists", data={"csrf_token": token(browser_client), "artist_name": " "})
    assert page.status_code == 422
    assert re.search(r'id="artist_name-error" class="field-error">Must not be empty\.</small>', text(page))

    festival_id = new_festival(browser_client)
    page = add_event(browser_client, festival_id, "Long names", "20:00", "21:00", "A" * 300, "Tent", headers=HTMX)
    assert page.status_code == 422
    assert re.search(r'id="artists-error" class="field-error">Must be at most 255 characters\.</small>', text(page))
    assert "Invalid artist" not in text(page) and "artist_name" not in text(page)

    page = browser_client.post(
        f"/festivals/{festival_id}/place",
        data={"csrf_token": token(browser_client), "place_lat": "north", "place_town": "Leipzig"},
    )
    assert "Enter a number, like 51.34." in text(page)
    page = text(browser_client.get("/library/links"))
    assert "A number the apps know" not in page and "Leave -1 if you are not sure" in page
    for response in (page, text(browser_client.post("/festivals/new", data={"csrf_token": token(browser_client)}))):
        assert not LIBRARY_MESSAGES.search(response)


def test_a_library_delete_names_what_goes_and_asks_first_without_javascript(factory, browser_client, creator):
    artist = factory.create("artist", creator, name="Nina Simone")["artist_id"]
    url = f"/library/artists/{artist}/delete"
    item = text(browser_client.get(f"/library/artists/{artist}"))
    assert 'hx-confirm="Delete artist “Nina Simone”?"' in item

    asked = browser_client.post(url, data={"csrf_token": token(browser_client)})
    assert asked.status_code == 200 and "<h1>Delete artist “Nina Simone”?</h1>" in text(asked)
    assert Artist.get_or_none(Artist.id == artist) is not None
    done = browser_client.post(url, data={"csrf_token": token(browser_client), "confirmed": "1"})
    assert done.status_code == 303 and Artist.get_or_none(Artist.id == artist) is None
    assert "“Nina Simone” is deleted." in text(browser_client.get("/library/artists"))

    second = factory.create("artist", creator, name="Bo Diddley")["artist_id"]
    # htmx asked the question in the browser (hx-confirm) before sending it
    done = browser_client.post(
        f"/library/artists/{second}/delete", data={"csrf_token": token(browser_client)}, headers=HTMX
    )
    assert done.status_code == 200 and done.headers["HX-Redirect"] == "/library/artists"
    assert Artist.get_or_none(Artist.id == second) is None


def test_a_locations_place_is_saved_with_its_message_next_to_it(factory, browser_client, creator):
    location = factory.create("location", creator, name="River Tent")["location_id"]
    url = f"/library/locations/{location}/place"
    refused = browser_client.post(url, data={"csrf_token": token(browser_client), "place_lat": "95"})
    assert refused.status_code == 422 and 'id="place_lat-error" class="field-error">Must be at most 90.' in text(
        refused
    )
    saved = browser_client.post(url, data={"csrf_token": token(browser_client), "place_town": "Leipzig"})
    assert saved.headers["Location"] == f"/library/locations/{location}#place-notice"
    page = text(browser_client.get(f"/library/locations/{location}"))
    assert re.search(r'id="place-notice" role="status">The place is saved\.</p>', page)


def test_an_added_library_item_is_said_next_to_the_add_button(browser_client):
    added = browser_client.post("/library/tags", data={"csrf_token": token(browser_client), "tag_name": "open air"})
    assert added.status_code == 303 and added.headers["Location"] == "/library/tags#add-notice"
    page = text(browser_client.get("/library/tags"))
    assert re.search(r'<button type="submit">Add</button><p [^>]*id="add-notice"[^>]*>“open air” is added\.</p>', page)
