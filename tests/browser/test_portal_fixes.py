"""Issue 23's bugs in Chromium, each as the organizer met it: a saved event keeps its description, the
schedule files download, field checks never save a stale value, the words and dates read right."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from app.db import db
from app.models import Event
from app.services import program
from tests.browser.test_creator_portal import log_in
from tests.factories import Factory

DAY = 1814090400  # Sun 2027-06-27 10:00 UTC
DESCRIPTION = "Ein Abend mit Liedern über die Elbe, Brücken und Dämmerung — zweiundzwanzig Uhr, draußen."


def festival_with_an_event(server, owner, zone: str = "Europe/Berlin") -> tuple[int, int]:
    with server.app.app_context(), db.connection_context():
        actor = Factory.actor(owner)
        festival = Factory(server.app).create(
            "festival", owner, name="Elbufer-Klänge Dresden", start=DAY - 6 * 3600, end=DAY + 2 * 86400, timezone=zone
        )
        festival_id = festival["festival_id"]
        event = program.save_event(
            festival_id,
            None,
            actor,
            {
                "event_name": "Lieder von der Elbe",
                "event_start": DAY,
                "event_end": DAY + 3600,
                "event_description": DESCRIPTION,
            },
            ["Jördis Müller-Lüdenscheidt"],
            "Hauptbühne am Blauen Wunder",
        )
        return festival_id, event["event_id"]


def stored_description(server, event_id: int) -> str:
    with server.app.app_context(), db.connection_context():
        return Event.get_by_id(event_id).description


def test_event_edit_keeps_the_description_when_saved_from_the_table_and_the_timetable(page, server):
    owner = server.user("creator")
    festival_id, event_id = festival_with_an_event(server, owner)
    log_in(page, owner.email)
    page.goto(f"/festivals/{festival_id}/events")
    row = page.locator(f"#event-{event_id}")
    row.get_by_role("button", name="Edit").click()
    form = page.locator(f"#event-{event_id} form")
    form.get_by_label("Name").fill("Lieder von der Elbe (verlängert)")
    form.get_by_role("button", name="Save event").click()
    expect(page.locator(f"#event-{event_id}")).to_contain_text("verlängert")
    assert stored_description(server, event_id) == DESCRIPTION  # the save did not erase it
    page.locator(f"#event-{event_id}").get_by_role("button", name="Edit").click()
    expect(page.locator(f"#event-{event_id} form").get_by_label("Description")).to_have_value(DESCRIPTION)

    page.goto(f"/festivals/{festival_id}/timetable")
    page.get_by_role("link", name="Lieder von der Elbe (verlängert)", exact=True).click()
    dialog = page.locator("#tt-dialog")
    expect(dialog.get_by_label("Description")).to_have_value(DESCRIPTION)
    dialog.get_by_label("Description").fill(DESCRIPTION + " Mit Gästen.")
    dialog.get_by_role("button", name="Save event").click()
    expect(page.get_by_text("“Lieder von der Elbe (verlängert)” is saved.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/timetable$"))
    assert stored_description(server, event_id) == DESCRIPTION + " Mit Gästen."


def test_schedule_file_links_download_with_javascript_on(page, server):
    owner = server.user("creator")
    festival_id, _ = festival_with_an_event(server, owner)
    log_in(page, owner.email)
    page.goto(f"/festivals/{festival_id}")
    for kind in ("schedule.ics", "schedule.json", "schedule.xml", "events.csv"):
        with page.expect_download(timeout=15_000) as download:
            page.get_by_test_id(f"export-{kind}").click()
        assert download.value.suggested_filename.endswith(kind.rsplit(".", 1)[1])
        content = open(download.value.path(), encoding="utf-8").read()
        assert "Lieder von der Elbe" in content
    expect(page).to_have_url(re.compile(rf"/festivals/{festival_id}$"))  # still the editor, not the file's text
