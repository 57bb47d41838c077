"""Undo of the last change in Chromium, for each kind (an edit, a delete, an import, a move): the button stands
beside the change's message for a minute, puts the 24-act line-up back exactly as it was (names, times in
Europe/Berlin while the browser is in New York, artists, stages), and says so; it refuses, saying why, when the
event changed since."""

from __future__ import annotations

from playwright.sync_api import expect

from app.db import db
from app.permissions import Actor
from app.services import festivals, timetable
from tests.browser.conftest import _page
from tests.browser.test_creator_portal import log_in
from tests.browser.test_layout import seed

NEW_YORK = {"timezone_id": "America/New_York", "locale": "en-GB"}
FIRST = "Set 1: Großes Abschlusskonzert des Sächsischen Landesjugendorchesters"
SECOND = "Set 2: Großes Abschlusskonzert des Sächsischen Landesjugendorchesters"


def line_up(server, owner, festival_id: int) -> list[tuple]:
    """Every event as the organizer sees it: id, name, description, start, end, artists, stage."""
    with server.app.app_context(), db.connection_context():
        events = festivals.events_of(festival_id, Actor("user", user_id=owner.id, role=owner.role))
    return [
        (
            e["event_id"],
            e["event_name"],
            e["event_description"],
            e["event_start"],
            e["event_end"],
            [a["artist_name"] for a in e["include"]["artist"]],
            timetable.stage_of(e),
        )
        for e in events
    ]


def organizer(browser, server):
    context, page = _page(browser, server, **NEW_YORK)
    owner = server.user("creator", email="joerdis.mueller-luedenscheidt@festivals.example.org")
    ids = seed(server, owner)
    log_in(page, owner.email)
    return context, page, owner, ids["festival"]


def test_undo_an_edit_a_delete_an_import_and_a_move(browser, server, screenshot):
    context, page, owner, festival_id = organizer(browser, server)
    before = line_up(server, owner, festival_id)
    assert len(before) == 24
    first, second = before[0][0], before[1][0]

    # An edit in the events table: the row says "Saved." with its Undo beside it.
    page.goto(f"/festivals/{festival_id}/events")
    page.get_by_role("row", name=FIRST).get_by_role("button", name="Edit", exact=True).click()
    editing = page.locator(f"#event-{first}")
    editing.get_by_label("Name").fill("Eröffnung: Kreuzchor und Kammerensemble")
    editing.get_by_label("Artists").fill("Dresdner Kreuzchor")
    editing.get_by_role("button", name="Save event").click()
    expect(editing.get_by_test_id("row-status")).to_have_text("Saved.")
    screenshot(page, "undo-edit")
    editing.get_by_role("button", name=f"Undo the edit of “{FIRST}”").click()
    expect(page.get_by_text(f"Undone: the edit of “{FIRST}”.")).to_be_visible()
    assert line_up(server, owner, festival_id) == before

    # A delete: the row says so, with its Undo; the event comes back with its id, artists and stage.
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("row", name=SECOND).get_by_role("button", name="Delete").click()
    expect(page.get_by_text(f"“{SECOND}” is deleted.")).to_be_visible()
    assert len(line_up(server, owner, festival_id)) == 23
    page.get_by_role("button", name=f"Undo the delete of “{SECOND}”").click()
    expect(page.get_by_text(f"Undone: the delete of “{SECOND}”.")).to_be_visible()
    assert line_up(server, owner, festival_id) == before
    expect(page.locator(f"#event-{second}")).to_contain_text("Bö 1")

    # An import of two new acts and a changed one: Undo takes all three back.
    page.goto(f"/festivals/{festival_id}/import")
    page.get_by_label("…or paste the rows").fill(
        "name,day,start,end,stage,artists\n"
        f"{FIRST},2027-06-27,12:00,13:30,Hauptbühne am Blauen Wunder,Bö 0\n"
        "Nachtgespräch über Brücken,2027-06-28,23:00,23:45,Waldbühne,Käthe Köhler\n"
        "Frühschoppen mit Blasmusik,2027-06-29,10:00,11:00,Waldbühne,Blaskapelle Weißig\n"
    )
    page.get_by_role("button", name="Check the rows").click()
    page.get_by_role("button", name="Import 3 events").click()
    expect(page.get_by_text("Imported: 2 new, 1 changed, 0 unchanged.")).to_be_visible()
    assert len(line_up(server, owner, festival_id)) == 26
    screenshot(page, "undo-import")
    page.get_by_role("button", name="Undo the import").click()
    expect(page.get_by_text("Undone: the import.")).to_be_visible()
    assert line_up(server, owner, festival_id) == before

    # A move with the keyboard's form: the timetable says where it went, with its Undo.
    page.goto(f"/festivals/{festival_id}/events/{first}/move")
    page.get_by_label("Starts").fill("2027-06-27T14:00")
    page.get_by_label("Stage").select_option("Waldbühne")
    page.get_by_role("button", name="Move").click()
    expect(page.get_by_text(f"“{FIRST}” is moved to Sun 27 Jun 14:00.")).to_be_visible()
    page.get_by_role("button", name=f"Undo the move of “{FIRST}”").click()
    expect(page.get_by_text(f"Undone: the move of “{FIRST}”.")).to_be_visible()
    assert page.url.endswith("/timetable")
    assert line_up(server, owner, festival_id) == before
    context.close()


def test_undo_refuses_when_the_event_changed_since_and_goes_after_a_minute(browser, server):
    context, page, owner, festival_id = organizer(browser, server)
    page.clock.install()
    page.goto(f"/festivals/{festival_id}/events")
    first = line_up(server, owner, festival_id)[0][0]
    page.get_by_role("row", name=FIRST).get_by_role("button", name="Edit", exact=True).click()
    page.locator(f"#event-{first}").get_by_label("Name").fill("Eröffnung")
    page.locator(f"#event-{first}").get_by_role("button", name="Save event").click()
    undo = page.get_by_role("button", name=f"Undo the edit of “{FIRST}”")
    expect(undo).to_be_visible()

    # Meanwhile the event changes in another tab: the undo says why it did nothing.
    with server.app.app_context(), db.connection_context():
        actor = Actor("user", user_id=owner.id, role=owner.role)
        timetable.save_event(festival_id, first, actor, {"event_name": "Eröffnung am Elbufer"}, ["Bö 0"], "Zelt")
    changed = line_up(server, owner, festival_id)
    undo.click()
    expect(
        page.get_by_text(f"Not undone: The edit of “{FIRST}” cannot be undone: “{FIRST}” changed after it.")
    ).to_be_visible()
    assert line_up(server, owner, festival_id) == changed

    # The next change's Undo is offered for a minute, then goes.
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("row", name=SECOND).get_by_role("button", name="Delete").click()
    later = page.get_by_role("button", name=f"Undo the delete of “{SECOND}”")
    expect(later).to_be_visible()
    page.clock.fast_forward(61_000)
    expect(later).to_have_count(0)
    context.close()


def test_undo_an_edit_saved_in_the_timetables_dialog(browser, server, screenshot):
    context, page, owner, festival_id = organizer(browser, server)
    before = line_up(server, owner, festival_id)
    page.goto(f"/festivals/{festival_id}/timetable")

    # The block's editor opens in the dialog; saving stays on the timetable, which offers the Undo.
    page.get_by_test_id("tt-event").filter(has=page.get_by_role("link", name=FIRST, exact=True)).get_by_role(
        "link", name=FIRST, exact=True
    ).click()
    dialog = page.locator("#tt-dialog")
    dialog.get_by_label("Name").fill("Eröffnung: Kreuzchor und Kammerensemble")
    dialog.get_by_label("Artists").fill("Dresdner Kreuzchor")
    dialog.get_by_role("button", name="Save event").click()
    undo = page.get_by_role("button", name=f"Undo the edit of “{FIRST}”")
    expect(undo).to_be_visible()
    assert page.url.endswith("/timetable")
    screenshot(page, "undo-timetable-dialog")

    undo.click()
    expect(page.get_by_text(f"Undone: the edit of “{FIRST}”.")).to_be_visible()
    assert line_up(server, owner, festival_id) == before
    context.close()
