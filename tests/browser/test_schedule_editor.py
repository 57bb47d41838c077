"""The schedule in Chromium: a festival in Europe/Berlin entered in local times, artist suggestions as
one types, the timetable's drag and drop, overlapping events side by side; screenshots of the events page
and the timetable at 390 and 1440 px (`screenshots/events-*.png`, `screenshots/timetable-overlaps-*.png`)."""

from __future__ import annotations

import re
import urllib.request

import orjson
from playwright.sync_api import expect

from app.db import db
from tests.browser.conftest import _page, row_box
from tests.browser.test_creator_portal import create_festival, fill_event, log_in
from tests.factories import Factory

# Fri 12 Jun 2026, 20:00 in Berlin (summer time, UTC+2) is 18:00 UTC: 2026-06-12T18:00:00Z.
FRIDAY_20_00_BERLIN = 1781287200
BERLIN = {"timezone_id": "Europe/Berlin", "locale": "en-GB"}
WIDTHS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1440, "height": 900}}


def events_page_in_berlin(browser, server, name: str):
    """A creator's browser in Berlin, on the events page of a new festival: (context, page, user, festival id)."""
    context, page = _page(browser, server, **BERLIN)
    user = server.user("creator")
    log_in(page, user.email)
    festival_id = festival_in_berlin(page, name)
    page.get_by_role("link", name="Events").first.click()
    return context, page, user, festival_id


def api_get(server, user, path: str) -> dict:
    """The API's answer for the festival's owner (drafts are not shown to an Api-Key)."""
    with server.app.app_context(), db.connection_context():
        token = Factory(server.app).token(user)
    request = urllib.request.Request(server.url + path, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return orjson.loads(response.read())


def festival_in_berlin(page, name: str) -> str:
    """A new festival, 12–14 Jun 2026; its time zone is the browser's (Europe/Berlin) by default."""
    page.get_by_test_id("new-festival").click()
    expect(page.get_by_label("Time zone")).to_have_value("Europe/Berlin")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Starts").fill("2026-06-12T12:00")
    page.get_by_label("Ends").fill("2026-06-14T23:00")
    page.get_by_role("button", name="Create festival").click()
    expect(page.get_by_role("heading", name=name, level=1)).to_be_visible()
    return re.search(r"/festivals/(\d+)", page.url).group(1)


def add_event(page, name, start, end, artists, location) -> None:
    """Through the add form; the new row appears at the end of the table (warnings may name it elsewhere)."""
    rows = page.locator("#event-rows tr:not(.deleted)")
    count = rows.count()
    fill_event(page.locator("#event-add-form"), name, start, end, artists, location)
    expect(rows).to_have_count(count + 1)
    expect(rows.last.get_by_role("rowheader")).to_contain_text(name)


def block(page, name: str):
    """A timetable block by its event's name (other blocks' warnings may name it too)."""
    return page.get_by_test_id("tt-event").filter(has=page.get_by_role("link", name=name, exact=True))


def no_page_overflow(page, width: int) -> None:
    wide = page.evaluate(
        """w => [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > w + 1
        && !e.closest('.timetable-scroll, .table-wrap')).map(e => e.tagName + '.' + e.className).slice(0, 8)""",
        width,
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= width + 1, wide


def test_berlin_local_times_come_out_of_the_api_as_the_right_unix_seconds(browser, server, screenshot):
    context, page, user, festival_id = events_page_in_berlin(browser, server, "Spree Nights")
    add_event(page, "Opening", "2026-06-12T20:00", "2026-06-12T21:30", "Ada Lovelace", "Main stage")
    row = page.locator("#event-rows tr", has_text="Opening")
    expect(row).to_contain_text("Fri 12 Jun 20:00 – 21:30")
    expect(row.get_by_test_id("row-status")).to_have_text("Added.")

    # The add form keeps the day and the stage: the next event starts where this one ended, as long.
    form = page.locator("#event-add-form")
    expect(form.get_by_label("Starts")).to_have_value("2026-06-12T21:30")
    expect(form.get_by_label("Location")).to_have_value("Main stage")
    expect(form.get_by_label("Length (minutes)")).to_have_value("90")
    form.get_by_label("Name").fill("Late set")
    form.get_by_role("button", name="Add event").click()
    expect(page.locator("#event-rows tr", has_text="Late set")).to_contain_text("Fri 12 Jun 21:30 – 23:00")

    # Outside the festival's days: refused, with the message next to the field.
    form = page.locator("#event-add-form")
    fill_event(form, "Too early", "2026-06-01T20:00", "2026-06-01T21:00")
    expect(form.locator("#event_start-error")).to_contain_text(
        "Is outside the festival's days (Fri 12 Jun – Sun 14 Jun)"
    )

    events = api_get(server, user, f"/api/v1/festivals/{festival_id}/events")["data"]
    opening = next(event for event in events if event["event_name"] == "Opening")
    assert opening["event_start"] == FRIDAY_20_00_BERLIN
    assert opening["event_end"] == FRIDAY_20_00_BERLIN + 90 * 60
    festival = api_get(server, user, f"/api/v1/festivals/{festival_id}")["data"][0]
    assert festival["festival_timezone"] == "Europe/Berlin"
    assert festival["festival_start"] == FRIDAY_20_00_BERLIN - 8 * 3600  # 12:00 Berlin
    context.close()


def test_artist_suggestions_are_shown_after_typing(browser, server):
    context, page, _, _ = events_page_in_berlin(browser, server, "Suggest Fest")
    add_event(page, "Opening", "2026-06-12T20:00", "2026-06-12T21:00", "Ada Lovelace", "River Tent")
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)

    form = page.locator("#event-add-form")
    form.get_by_label("Artists").press_sequentially("Bo, Ad", delay=30)
    # The datalist stays in the page and is filled: Chromium shows its options under the field.
    expect(form.get_by_label("Artists")).to_have_value("Bo, Ad")
    expect(page.locator("datalist#artist-names option")).to_have_attribute("value", "Bo, Ada Lovelace")
    assert form.get_by_label("Artists").evaluate("input => input.list && input.list.options.length") == 1
    form.get_by_label("Location").fill("")  # the form kept the last stage
    form.get_by_label("Location").press_sequentially("riv", delay=30)
    expect(page.locator("datalist#location-names option")).to_have_count(1)
    assert page.locator("datalist#location-names option").get_attribute("value") == "River Tent"
    assert not [e for e in errors if "htmx" in e], errors
    context.close()


def test_timetable_drag_and_drop_moves_an_event_and_overlaps_stand_side_by_side(browser, server, screenshot):
    context, page, user, festival_id = events_page_in_berlin(browser, server, "Grid Fest")
    add_event(page, "Opening", "2026-06-12T18:00", "2026-06-12T19:00", "Ada", "Main stage")
    add_event(page, "Workshop", "2026-06-12T18:30", "2026-06-12T19:30", "Bo", "Main stage")  # overlaps Opening
    add_event(page, "Reading", "2026-06-12T20:00", "2026-06-12T21:00", "Cy", "Tent")
    add_event(page, "Brunch", "2026-06-13T11:00", "2026-06-13T12:00", "", "Tent")
    expect(page.locator("#event-rows tr.flagged")).to_have_count(2)
    for name, size in WIDTHS.items():
        page.set_viewport_size(size)
        no_page_overflow(page, size["width"])
        screenshot(page, f"events-{name}")
    page.set_viewport_size(WIDTHS["desktop"])

    page.get_by_role("link", name="Timetable").first.click()
    opening, workshop = block(page, "Opening"), block(page, "Workshop")
    one, two = opening.bounding_box(), workshop.bounding_box()
    assert one["x"] + one["width"] <= two["x"] + 1, (one, two)  # side by side, not on top of each other
    assert one["width"] > 40 and two["width"] > 40
    expect(opening.get_by_test_id("warning")).to_contain_text("overlaps “Workshop” on Main stage")
    # The stages keep one order on every day (Main stage first, as on the Friday).
    headers = page.locator("section.timetable-day").nth(1).locator(".tt-location")
    expect(headers).to_have_text(["Main stage", "Tent"])
    for name, size in WIDTHS.items():
        page.set_viewport_size(size)
        no_page_overflow(page, size["width"])
        screenshot(page, f"timetable-overlaps-{name}")
    page.set_viewport_size(WIDTHS["desktop"])

    # Drag Workshop to the Tent at 19:00 (a little off the row: it snaps to 5 minutes).
    grid = page.locator(".timetable").first
    tent = grid.locator(".tt-location", has_text="Tent").bounding_box()
    row = row_box(grid, FRIDAY_20_00_BERLIN - 3600)  # 19:00 Berlin
    box = workshop.bounding_box()
    grab = {"x": 10, "y": 5}
    drop_y = row["top"] + grab["y"] + row["height"] * 0.3
    workshop.drag_to(
        grid,
        source_position=grab,
        target_position={
            "x": tent["x"] + tent["width"] / 2 - grid.bounding_box()["x"],
            "y": drop_y - grid.bounding_box()["y"],
        },
    )
    expect(page.get_by_text("“Workshop” is moved to Fri 12 Jun 19:00.")).to_be_visible()
    expect(page.get_by_role("button", name="Undo the move of “Workshop”")).to_be_visible()  # swapped, not reloaded
    assert box  # it was on the grid before the move
    events = api_get(server, user, f"/api/v1/festivals/{festival_id}/events?include=location")["data"]
    moved = next(event for event in events if event["event_name"] == "Workshop")
    assert moved["event_start"] == FRIDAY_20_00_BERLIN - 3600
    assert moved["event_end"] == FRIDAY_20_00_BERLIN
    assert [location["location_name"] for location in moved["include"]["location"]] == ["Tent"]
    expect(page.locator("#event-rows tr.flagged, .tt-event.flagged")).to_have_count(0)

    # Click a block: its editor opens in a dialog, on the timetable; saving stays there.
    block(page, "Reading").get_by_role("link", name="Reading", exact=True).click()
    dialog = page.locator("#tt-dialog")
    expect(dialog).to_be_visible()
    screenshot(page, "timetable-dialog")
    dialog.get_by_label("Name").fill("Reading (long)")
    dialog.get_by_role("button", name="Save event").click()
    expect(block(page, "Reading (long)")).to_be_visible()
    assert page.url.endswith("/timetable")
    context.close()


def test_keyboard_and_no_javascript_move_form(page_without_js, server):
    page = page_without_js
    log_in(page, server.user("creator").email)
    create_festival(page, "Plain Moves")  # 3–5 Jul 2026, UTC (no browser zone without JavaScript)
    page.get_by_role("link", name="Events").first.click()
    add_event(page, "Set", "2026-07-03T18:00", "2026-07-03T19:00", "Ada", "Main stage")
    form = page.locator("#event-add-form")  # after the page load, the form keeps the day and the stage too
    expect(form.get_by_label("Starts")).to_have_value("2026-07-03T19:00")
    expect(form.get_by_label("Location")).to_have_value("Main stage")
    add_event(page, "Talk", "2026-07-03T18:00", "2026-07-03T19:00", "Bo", "Tent")
    page.get_by_role("link", name="Timetable").first.click()
    page.get_by_role("link", name="Move “Set”").click()
    page.get_by_label("Starts").fill("2026-07-04T21:07")
    page.get_by_label("Stage").select_option("Tent")
    page.get_by_role("button", name="Move").click()
    expect(page.get_by_text("“Set” is moved to Sat 4 Jul 21:05.")).to_be_visible()
    expect(page.locator("section.timetable-day").nth(1).get_by_test_id("tt-event")).to_contain_text("Set")
