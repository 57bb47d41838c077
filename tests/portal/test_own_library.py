"""Each organizer works with their own library in the portal: their artists, locations, links and tags are
listed and suggested, a typed name finds their own row or makes a new one (never another organizer's), and
an admin sees everyone's with an owner filter. The API keeps sharing them (see tests/api)."""

from app.models import Artist, Event, Location
from app.services import writes
from tests.identity.test_pages import client_for, log_in, text
from tests.portal.test_creator_pages import HTMX, add_event, new_festival


def logged_in(app, user):
    client = client_for(app)
    assert log_in(client, user.email).status_code == 303
    return client


def location_of(event_name: str) -> str:
    from app.models.relations import EventLocation

    event = Event.get(Event.name == event_name)
    link = EventLocation.get(EventLocation.owner == event.id)
    return Location.get_by_id(link.related_id)


def test_a_typed_name_of_another_organizers_location_makes_my_own(app, factory, browser_client, creator):
    other = factory.user("creator")
    theirs = factory.create("location", other, name="River Tent")
    factory.create("artist", other, name="Ada Lovelace")

    festival_id = new_festival(browser_client)
    assert (
        add_event(browser_client, festival_id, "Night set", "21:00", "22:00", "Ada Lovelace", "river tent").status_code
        == 303
    )
    mine = location_of("Night set")
    assert mine.id != theirs["location_id"] and mine.owner_id == creator.id and mine.name == "river tent"

    # Her renaming her location does not touch my event.
    writes.update("location", theirs["location_id"], factory.actor(other), {"location_name": "Riverside"})
    assert location_of("Night set").name == "river tent"

    # A second event with the same name links my own location again, not a third one.
    add_event(browser_client, festival_id, "Late set", "23:00", "23:30", "", "River Tent")
    assert location_of("Late set").id == mine.id


def test_suggestions_and_the_library_list_only_my_own(app, factory, browser_client, creator):
    other = factory.user("creator")
    factory.create("artist", other, name="Ada Theirs")
    factory.create("artist", creator, name="Ada Mine")
    factory.create("tag", other, name="theirtag")
    factory.create("link", other, url="https://their.example.org/")

    festival_id = new_festival(browser_client)
    suggested = text(browser_client.get(f"/festivals/{festival_id}/names/artist?q=ada", headers=HTMX))
    assert "Ada Mine" in suggested and "Ada Theirs" not in suggested

    page = text(browser_client.get("/library/artists"))
    assert "Ada Mine" in page and "Ada Theirs" not in page
    assert "theirtag" not in text(browser_client.get("/library/tags"))
    assert "their.example.org" not in text(browser_client.get("/library/links"))
    assert 'name="owner"' not in page  # the owner filter is an admin's
    searched = text(browser_client.get("/library/artists?q=ada", headers=HTMX))
    assert "Ada Mine" in searched and "Ada Theirs" not in searched


def test_an_admin_sees_everyones_library_and_filters_by_owner(app, factory):
    admin = factory.user("admin")
    one, two = factory.user("creator"), factory.user("creator")
    factory.create("artist", one, name="First Artist")
    factory.create("artist", two, name="Second Artist")
    client = logged_in(app, admin)

    page = text(client.get("/library/artists"))
    assert "First Artist" in page and "Second Artist" in page
    assert one.email in page and two.email in page  # each row names its owner; the filter offers them
    filtered = text(client.get(f"/library/artists?owner={one.id}"))
    assert "First Artist" in filtered and "Second Artist" not in filtered
    assert text(client.get("/library/artists?owner=x")).count("Second Artist") == 1  # not a number: no filter


def test_an_admin_adding_events_to_an_organizers_festival_works_in_that_organizers_library(
    app, factory, browser_client, creator
):
    festival_id = new_festival(browser_client)
    creators = factory.create("location", creator, name="River Tent")
    admin = factory.user("admin")
    factory.create("location", admin, name="River Tent")  # the admin's own of the same name is not taken
    client = logged_in(app, admin)

    assert add_event(client, festival_id, "Admin's set", "20:00", "21:00", "New Band", "River Tent").status_code == 303
    assert location_of("Admin's set").id == creators["location_id"]
    assert Artist.get(Artist.name == "New Band").owner_id == creator.id  # a new name joins the organizer's library
