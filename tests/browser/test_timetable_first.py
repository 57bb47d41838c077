"""The timetable as the place to build a schedule (Chromium): a click on an empty slot opens the add form with
that slot's start and stage filled; dragging a block shows where it would land (time and stage) while it
moves, saves without a page load, and the move can be undone."""

from __future__ import annotations

from playwright.sync_api import expect

from app.db import db
from app.models import Event
from tests.browser.conftest import row_box
from tests.browser.test_schedule_editor import FRIDAY_20_00_BERLIN, add_event, block, events_page_in_berlin


def slot_point(page, stage: str, at: int) -> dict:
    """The page coordinates of the middle of `stage`'s column at the moment `at` on the first day's grid."""
    grid = page.locator(".timetable").first
    row = row_box(grid, at)
    column = grid.locator(".tt-location", has_text=stage).bounding_box()
    return {"x": column["x"] + column["width"] / 2, "y": row["top"] + row["height"] / 2}


def stored(server, name: str) -> Event:
    with server.app.app_context(), db.connection_context():
        return Event.get(Event.name == name)


def test_timetable_click_adds_and_drag_shows_target_saves_in_place_and_undoes(browser, server, screenshot):
    context, page, _, _ = events_page_in_berlin(browser, server, "Elbwiesen Open Air")
    add_event(
        page, "Eröffnung mit dem Dresdner Kreuzchor", "2026-06-12T18:00", "2026-06-12T19:00", "Kreuzchor", "Hauptbühne"
    )
    add_event(page, "Lesung: Tellkamps Turm", "2026-06-12T18:00", "2026-06-12T19:00", "Jördis Müller", "Zelt")
    page.get_by_role("link", name="Timetable").first.click()
    expect(page.locator(".timetable")).to_have_count(3)  # the festival's three days: the stages have columns
    page.wait_for_load_state()

    # A click on the Zelt's empty 19:15 slot (between 19:15 and 19:20): the add form, start and stage filled.
    point = slot_point(page, "Zelt", FRIDAY_20_00_BERLIN - 45 * 60)
    page.mouse.click(point["x"], point["y"])
    dialog = page.locator("#tt-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("heading", name="Add an event")).to_be_visible()
    expect(dialog.get_by_label("Starts")).to_have_value("2026-06-12T19:15")
    expect(dialog.get_by_label("Location")).to_have_value("Zelt")
    screenshot(page, "timetable-add-dialog")
    dialog.get_by_label("Name").fill("Nachtgespräch über Brücken")
    dialog.get_by_label("Artists").fill("Käthe Köhler")
    dialog.get_by_role("button", name="Add event").click()
    expect(page.get_by_text("“Nachtgespräch über Brücken” is added.")).to_be_visible()
    added = stored(server, "Nachtgespräch über Brücken")
    assert (added.start, added.end) == (FRIDAY_20_00_BERLIN - 45 * 60, FRIDAY_20_00_BERLIN + 15 * 60)
    expect(block(page, "Nachtgespräch über Brücken")).to_be_visible()
    page.wait_for_load_state()

    # Drag the opening to the Zelt at 19:30: a label on the grid says where it lands while it moves.
    loads = []
    page.on("load", lambda _: loads.append(page.url))
    opening = block(page, "Eröffnung mit dem Dresdner Kreuzchor")
    box = opening.bounding_box()
    page.mouse.move(box["x"] + 8, box["y"] + 4)
    page.mouse.down()
    point = slot_point(page, "Zelt", FRIDAY_20_00_BERLIN - 30 * 60)
    page.mouse.move(point["x"], point["y"] - 2, steps=8)
    page.mouse.move(point["x"], point["y"], steps=2)
    expect(page.get_by_test_id("tt-drop")).to_have_text("19:30 · Zelt")
    screenshot(page, "timetable-dragging")
    page.mouse.up()
    expect(page.get_by_text("“Eröffnung mit dem Dresdner Kreuzchor” is moved to Fri 12 Jun 19:30.")).to_be_visible()
    moved = stored(server, "Eröffnung mit dem Dresdner Kreuzchor")
    assert moved.start == FRIDAY_20_00_BERLIN - 30 * 60
    expect(page.get_by_test_id("tt-drop")).to_have_count(0)

    # Undo (beside the message) puts it back where it was, still without a page load.
    page.get_by_role("button", name="Undo the move of “Eröffnung mit dem Dresdner Kreuzchor”").click()
    expect(page.get_by_text("Undone: the move of “Eröffnung mit dem Dresdner Kreuzchor”.")).to_be_visible()
    back = stored(server, "Eröffnung mit dem Dresdner Kreuzchor")
    assert back.start == FRIDAY_20_00_BERLIN - 2 * 3600
    headers = page.locator(".timetable").first.locator(".tt-location")
    expect(headers).to_have_text(["Hauptbühne", "Zelt"])
    assert loads == [], loads
    context.close()


def test_stages_named_on_the_festival_are_the_timetable_columns_before_any_event(browser, server):
    context, page, _, festival_id = events_page_in_berlin(browser, server, "Zwinger Sommernächte")
    page.goto(f"/festivals/{festival_id}/timetable")
    expect(page.get_by_text("No stages yet")).to_be_visible()
    for name in ("Hauptbühne im Zwingerhof", "Zelt am Elbufer", "Kronentor"):
        page.get_by_label("New stage").fill(name)
        page.get_by_role("button", name="Add the stage").click()
        expect(page.get_by_text(f"“{name}” is a stage of the festival now")).to_be_visible()
    page.get_by_label("New stage").fill("zelt am elbufer")  # the same stage, typed differently
    page.get_by_role("button", name="Add the stage").click()
    expect(page.locator("#stage_name-error")).to_contain_text("Is a stage of the festival already")

    # Every festival day has its grid, the stages as columns, in the festival's order.
    expect(page.locator("section.timetable-day")).to_have_count(3)
    headers = page.locator(".timetable").first.locator(".tt-location")
    expect(headers).to_have_text(["Hauptbühne im Zwingerhof", "Zelt am Elbufer", "Kronentor"])
    page.get_by_role("button", name="← Earlier Kronentor").click()
    expect(page.locator(".timetable").first.locator(".tt-location")).to_have_text(
        ["Hauptbühne im Zwingerhof", "Kronentor", "Zelt am Elbufer"]
    )

    # A click on the Saturday's Kronentor column at 17:00 adds the first act there.
    page.wait_for_load_state()
    saturday = page.locator(".timetable").nth(1)
    saturday.evaluate("grid => grid.scrollIntoView({block: 'start'})")
    row = row_box(saturday, int(saturday.get_attribute("data-day-start")) + 3600)  # 16:00 + 1 h
    column = saturday.locator(".tt-location", has_text="Kronentor").bounding_box()
    page.mouse.click(column["x"] + column["width"] / 2, row["top"] + row["height"] / 2)
    dialog = page.locator("#tt-dialog")
    expect(dialog.get_by_label("Starts")).to_have_value("2026-06-13T17:00")
    expect(dialog.get_by_label("Location")).to_have_value("Kronentor")
    dialog.get_by_label("Name").fill("Serenade am Kronentor")
    dialog.get_by_role("button", name="Add event").click()
    expect(block(page, "Serenade am Kronentor")).to_be_visible()

    # A stage with events stays; an empty one can go (its location stays in the library).
    page.get_by_role("button", name="Remove Kronentor").click()
    expect(page.get_by_text("1 event is on this stage: move them first.")).to_be_visible()
    page.get_by_role("button", name="Remove Zelt am Elbufer").click()
    expect(page.get_by_text("The stage is removed from the festival")).to_be_visible()
    expect(page.locator(".timetable").first.locator(".tt-location")).to_have_text(
        ["Hauptbühne im Zwingerhof", "Kronentor"]
    )
    context.close()
