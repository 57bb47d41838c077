"""A creator runs a festival from the browser (Chromium, real HTTP): log in, create a festival, add
events with artists and a location, see the timetable, publish; the API then lists it."""

from __future__ import annotations

import re
import urllib.request

import orjson
from playwright.sync_api import expect

from app.db import db
from app.models import User
from app.services import api_keys
from tests.browser.test_login_pages import fill_login
from tests.factories import PASSWORD, Factory

EVENTS = [  # name, start, end, artists, location
    ("Opening", "2026-07-03T18:00", "2026-07-03T19:30", "Ada Lovelace", "Main stage"),
    ("Night set", "2026-07-03T21:00", "2026-07-03T23:00", "Bo Diddley, Ada Lovelace", "Main stage"),
    ("Workshop", "2026-07-03T19:00", "2026-07-03T20:00", "Cy Twombly", "Tent"),
]


def log_in(page, email: str) -> None:
    page.goto("/login")
    fill_login(page, email, PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/festivals$"))


def create_festival(page, name: str) -> str:
    page.get_by_test_id("new-festival").click()
    page.get_by_label("Name").fill(name)
    page.get_by_label("Starts").fill("2026-07-03T12:00")
    page.get_by_label("Ends").fill("2026-07-05T23:00")
    page.get_by_role("button", name="Create festival").click()
    expect(page.get_by_role("heading", name=name, level=1)).to_be_visible()
    return page.url


def fill_event(form, name, start, end, artists=None, location=None) -> None:
    """Type an event into the add form and send it."""
    form.get_by_label("Name").fill(name)
    form.get_by_label("Starts").fill(start)
    form.get_by_label("Ends").fill(end)
    for label, value in (("Artists", artists), ("Location", location)):
        if value is not None:
            form.get_by_label(label).fill(value)
    form.get_by_role("button", name="Add event").click()


def add_event(page, name, start, end, artists, location) -> None:
    fill_event(page.locator("#event-add-form"), name, start, end, artists, location)
    expect(page.locator("#event-rows tr", has_text=name)).to_be_visible()


def api_get(server, path: str, key: str) -> dict:
    request = urllib.request.Request(server.url + path, headers={"Api-Key": key})
    with urllib.request.urlopen(request, timeout=5) as response:
        return orjson.loads(response.read())


def test_creator_runs_a_festival_from_the_browser(page, server, screenshot):
    user = server.user("creator")
    log_in(page, user.email)
    editor_url = create_festival(page, "Lakeside Sounds")
    screenshot(page, "festival-editor")

    page.get_by_role("link", name="Events").first.click()
    loads = []
    page.on("load", lambda _: loads.append(page.url))
    for event in EVENTS:
        add_event(page, *event)
    assert loads == [], "adding events swapped rows in place, without a page load"
    expect(page.locator("#event-rows tr")).to_have_count(3)
    expect(page.locator("#event-rows tr", has_text="Night set")).to_contain_text("Ada Lovelace, Bo Diddley")

    # A validation error shows next to its field, without a reload, and what was typed stays.
    fill_event(page.locator("#event-add-form"), "Backwards", "2026-07-03T22:00", "2026-07-03T21:00")
    expect(page.locator("#event-add-form #event_end-error")).to_have_text("Must not be before “Starts”.")
    expect(page.locator("#event-add-form").get_by_label("Name")).to_have_value("Backwards")
    assert loads == []

    page.get_by_role("link", name="Timetable").first.click()
    expect(page.get_by_test_id("tt-event")).to_have_count(3)
    friday = page.get_by_role("table", name="Fri 3 Jul 2026")  # every festival day has its grid, the stages on each
    expect(friday.get_by_role("columnheader", name="Main stage")).to_be_visible()
    expect(friday.get_by_role("columnheader", name="Tent")).to_be_visible()
    screenshot(page, "timetable")
    page.set_viewport_size({"width": 390, "height": 844})  # a phone: the grid scrolls sideways, page does not
    wide = page.evaluate("""[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 391
        && !e.closest('.timetable-scroll')).map(e => e.tagName + '.' + e.className + '#' + e.id).slice(0, 8)""")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1, wide
    screenshot(page, "timetable-phone")
    page.set_viewport_size({"width": 1280, "height": 800})

    page.goto(editor_url)
    page.get_by_role("button", name="Publish").click()  # the checklist first: what is missing
    expect(page.get_by_text("Not published yet: the festival needs a place, an image.")).to_be_visible()
    page.locator("#place-form").get_by_label("Town").fill("Seeburg")
    page.get_by_role("button", name="Save place").click()
    expect(page.get_by_test_id("publish-checklist")).to_have_text(re.compile("needs: an image"))
    festival_id = int(re.search(r"/festivals/(\d+)", editor_url).group(1))
    with server.app.app_context(), db.connection_context():  # an upload needs the file server: made here
        factory = Factory(server.app)
        owner = User.get(User.email == user.email)
        image = factory.create("image", owner)
        factory.link("festival", festival_id, "image", image["image_id"], owner)
    page.reload()
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_text("is published")).to_be_visible()
    page.wait_for_load_state("networkidle")  # a click while the publish answer still loads was lost on a busy CI
    page.get_by_role("link", name="Festivals").first.click()
    expect(page).to_have_url(re.compile(r"/festivals$"))
    expect(page.locator("#festival-table")).to_contain_text("Published")
    screenshot(page, "dashboard")

    with server.app.app_context(), db.connection_context():
        key, _ = api_keys.create_key("browser test")
    listed = api_get(server, "/api/v1/festivals?valid=true&include=events", key)["data"]
    assert [festival["festival_name"] for festival in listed] == ["Lakeside Sounds"]
    names = sorted(event["event_name"] for event in listed[0]["include"]["events"])
    assert names == ["Night set", "Opening", "Workshop"]


def test_another_creator_cannot_open_my_festival(browser, server):
    from tests.browser.conftest import _page

    owner, other = server.user("creator"), server.user("creator")
    first_context, first = _page(browser, server)
    log_in(first, owner.email)
    editor_url = create_festival(first, "Private Plans")
    first_context.close()

    second_context, second = _page(browser, server)
    log_in(second, other.email)
    expect(second.locator("#festival-table")).not_to_contain_text("Private Plans")
    for suffix in ("", "/events", "/timetable", "/delete"):
        response = second.goto(editor_url + suffix)
        assert response.status in (403, 404), (suffix, response.status)
        expect(second.get_by_text("Private Plans")).to_have_count(0)
    second_context.close()


def test_a_concurrent_edit_shows_a_conflict_instead_of_overwriting(browser, server):
    from tests.browser.conftest import _page

    user = server.user("creator")
    one_context, one = _page(browser, server)
    log_in(one, user.email)
    editor_url = create_festival(one, "Two Tabs")
    two_context, two = _page(browser, server)
    log_in(two, user.email)
    two.goto(editor_url)

    one.goto(editor_url)
    one.locator("#festival-form").get_by_label("Price").fill("20 €")
    one.get_by_role("button", name="Save details").click()
    expect(one.get_by_text("Saved.")).to_be_visible()

    two.locator("#festival-form").get_by_label("Price").fill("25 €")
    two.get_by_role("button", name="Save details").click()
    expect(two.get_by_test_id("conflict")).to_contain_text("someone else changed this festival")
    expect(two.locator("#festival-form").get_by_label("Price")).to_have_value("25 €")
    two.reload()
    expect(two.locator("#festival-form").get_by_label("Price")).to_have_value("20 €")
    one_context.close()
    two_context.close()


def test_the_portal_works_with_javascript_off(page_without_js, server):
    page = page_without_js
    user = server.user("creator")
    log_in(page, user.email)
    create_festival(page, "Plain Forms Fest")
    page.get_by_role("link", name="Events").first.click()
    add_event(page, "Unplugged", "2026-07-03T20:00", "2026-07-03T21:00", "Dee", "Barn")
    expect(page.get_by_text("“Unplugged” is added.")).to_be_visible()

    row = page.locator("#event-rows tr", has_text="Unplugged")
    row.get_by_role("button", name="Edit", exact=True).click()  # a plain link: the page again, with the row as a form
    editing = page.get_by_role("form", name="Edit event")
    editing.get_by_label("Name").fill("Unplugged (late)")
    editing.get_by_label("Ends").fill("2026-07-03T20:30")  # before the start? no: 20:00 → 20:30 is fine
    editing.get_by_role("button", name="Save event").click()
    expect(page.get_by_text("The event is saved.")).to_be_visible()
    expect(page.locator("#event-rows tr", has_text="Unplugged (late)")).to_contain_text("20:00 – 20:30")

    # Delete asks first: without JavaScript on a confirmation page, nothing is deleted before it.
    page.locator("#event-rows tr", has_text="Unplugged (late)").get_by_role("button", name="Delete").click()
    expect(page.get_by_role("heading", name="Delete event “Unplugged (late)”?")).to_be_visible()
    page.get_by_test_id("confirm").click()
    expect(page.get_by_text("“Unplugged (late)” is deleted.")).to_be_visible()
    expect(page.locator("#event-rows tr")).to_have_count(0)


def test_an_event_is_edited_in_its_row(page, server):
    user = server.user("creator")
    log_in(page, user.email)
    create_festival(page, "Row Swaps")
    page.get_by_role("link", name="Events").first.click()
    add_event(page, "Soundcheck", "2026-07-03T16:00", "2026-07-03T17:00", "Eve", "Main stage")
    loads = []
    page.on("load", lambda _: loads.append(page.url))
    page.locator("#event-rows tr", has_text="Soundcheck").get_by_role("button", name="Edit", exact=True).click()
    editing = page.get_by_role("form", name="Edit event")
    editing.get_by_label("Artists").fill("Eve, Finn")
    editing.get_by_role("button", name="Save event").click()
    expect(page.locator("#event-rows tr", has_text="Soundcheck")).to_contain_text("Eve, Finn")
    page.locator("#event-rows tr", has_text="Soundcheck").get_by_role("button", name="Edit", exact=True).click()
    page.get_by_role("form", name="Edit event").get_by_label("Ends").fill("2026-07-03T15:00")
    page.get_by_role("form", name="Edit event").get_by_role("button", name="Save event").click()
    error = page.get_by_role("form", name="Edit event").locator(".field-error")
    expect(error).to_have_text("Must not be before “Starts”.")
    page.get_by_role("form", name="Edit event").get_by_role("button", name="Cancel").click()
    expect(page.locator("#event-rows tr", has_text="Soundcheck")).to_contain_text("16:00 – 17:00")
    assert loads == []
