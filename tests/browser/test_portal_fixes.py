"""Issue 23's bugs in Chromium, each as the organizer met it: a saved event keeps its description, the
schedule files download, field checks never save a stale value, the words and dates read right."""

from __future__ import annotations

import re
import time

from flask import request
from playwright.sync_api import expect

from app.db import db
from app.models import Event, Festival
from app.services import timetable
from tests.browser.conftest import _page
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
        event = timetable.save_event(
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
    row.get_by_role("button", name="Edit", exact=True).click()
    form = page.locator(f"#event-{event_id} form")
    form.get_by_label("Name").fill("Lieder von der Elbe (verlängert)")
    form.get_by_role("button", name="Save event").click()
    expect(page.locator(f"#event-{event_id}")).to_contain_text("verlängert")
    assert stored_description(server, event_id) == DESCRIPTION  # the save did not erase it
    page.locator(f"#event-{event_id}").get_by_role("button", name="Edit", exact=True).click()
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


def slow_checks(server, seconds: float = 1.5) -> None:
    """Field checks answer late, as on a busy server: the user is faster than the check."""

    def wait():
        if request.path == "/festivals/check":
            time.sleep(seconds)

    server.app.before_request_funcs.setdefault(None, []).insert(0, wait)


def stored_festival(server, festival_id: int) -> Festival:
    with server.app.app_context(), db.connection_context():
        return Festival.get_by_id(festival_id)


def test_field_checks_never_show_or_save_a_stale_value(page, server):
    owner = server.user("creator")
    festival_id, _ = festival_with_an_event(server, owner)
    slow_checks(server)
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    log_in(page, owner.email)
    page.goto(f"/festivals/{festival_id}")
    form = page.locator("#festival-form")

    # Two changes of one field while the first check is still on its way: its late answer must not bring
    # the first value back.
    price = form.get_by_label("Price")
    price.fill("50 €")
    price.press("Tab")
    price.fill("55 € an der Abendkasse")
    price.press("Tab")
    page.wait_for_load_state("networkidle")
    expect(form.get_by_label("Price")).to_have_value("55 € an der Abendkasse")

    # Two fields changed quickly, then Save at once: the saved values are the last ones typed.
    form.get_by_label("Name").fill("Elbufer-Klänge Dresden 2027")
    form.get_by_label("Name").press("Tab")
    form.get_by_label("Ends").fill("2027-06-29T22:00")
    form.get_by_label("Ends").fill("2027-06-29T23:30")
    form.get_by_role("button", name="Save details").click()
    expect(form.get_by_text("Saved.")).to_be_visible(timeout=20_000)
    page.wait_for_load_state("networkidle")
    festival = stored_festival(server, festival_id)
    assert festival.name == "Elbufer-Klänge Dresden 2027"
    assert festival.price == "55 € an der Abendkasse"
    assert festival.end == 1814304600  # Tue 29 Jun 2027 23:30 in Berlin (UTC+2)
    expect(form.get_by_label("Ends")).to_have_value("2027-06-29T23:30")
    assert not errors, errors


def test_words_and_dates_read_right_and_a_deleted_festival_takes_its_events(browser, server):
    context, page = _page(browser, server, timezone_id="Europe/Berlin", locale="de-DE")
    owner = server.user("creator")
    log_in(page, owner.email)

    # A new festival in Berlin: the times' hints name the zone the zone field shows, also when it is changed.
    page.get_by_test_id("new-festival").click()
    expect(page.get_by_label("Time zone")).to_have_value("Europe/Berlin")
    expect(page.locator("#festival_start-hint")).to_have_text("Local time (Europe/Berlin)")
    page.get_by_label("Time zone").fill("America/New_York")
    expect(page.locator("#festival_end-hint")).to_have_text("Local time (America/New_York)")
    typed = {"Time zone": "Europe/Berlin", "Name": "Sommerfest am Großen Garten"}
    for label, value in {**typed, "Starts": "2027-07-31T12:00", "Ends": "2027-08-01T23:00"}.items():
        page.get_by_label(label).fill(value)
    page.get_by_role("button", name="Create festival").click()
    expect(page.get_by_role("heading", name="Sommerfest am Großen Garten", level=1)).to_be_visible()
    festival_id = int(re.search(r"/festivals/(\d+)", page.url).group(1))

    # One row imported: singular words.
    page.get_by_role("link", name="Import CSV").click()
    page.get_by_label("…or paste the rows").fill(
        "Title;Date;Begin;Until;Room;Performers\nMatinée;2027-08-01;11:00;12:30;Palaisbühne;Jördis Müller\n"
    )
    page.get_by_role("button", name="Check the rows").click()
    expect(page.get_by_text("1 row was read.")).to_be_visible()
    page.get_by_role("button", name="Preview the import").click()
    page.get_by_role("button", name="Import 1 event", exact=True).click()
    expect(page.get_by_text("Imported: 1 new, 0 changed, 0 unchanged.")).to_be_visible()

    # Days without a leading zero, in the visitor preview.
    page.goto(f"/festivals/{festival_id}/preview")
    expect(page.get_by_test_id("app-preview")).to_contain_text("Sat 31 Jul 2027 – Sun 1 Aug 2027")
    expect(page.get_by_role("heading", name="Sunday, 1 August")).to_be_visible()

    # Deleting the festival deletes its events with it (nothing would lead to them any more).
    page.goto(f"/festivals/{festival_id}/delete")
    expect(page.get_by_text("The festival goes with its 1 event")).to_be_visible()
    page.get_by_test_id("confirm-delete").click()
    expect(page.get_by_text("“Sommerfest am Großen Garten” and its events are deleted.")).to_be_visible()
    with server.app.app_context(), db.connection_context():
        assert Festival.select().where(Festival.id == festival_id).count() == 0
        assert Event.select().where(Event.name == "Matinée").count() == 0
    context.close()


def test_changing_the_time_zone_asks_and_says_what_moves(page, server):
    owner = server.user("creator")
    festival_id, event_id = festival_with_an_event(server, owner)  # 12:00 in Berlin on Sun 27 Jun 2027
    log_in(page, owner.email)
    page.goto(f"/festivals/{festival_id}")
    form = page.locator("#festival-form")
    form.get_by_label("Time zone").fill("Europe/London")
    form.get_by_role("button", name="Save details").click()
    question = page.get_by_test_id("zone-question")
    expect(question).to_contain_text("from Europe/Berlin to Europe/London: what should happen to the 1 event?")
    expect(question).to_contain_text("“Lieder von der Elbe” stays at Sun 27 Jun 12:00, then in Europe/London.")
    expect(question).to_contain_text("“Lieder von der Elbe” (Sun 27 Jun 12:00 now) shows as Sun 27 Jun 11:00.")
    assert stored_festival(server, festival_id).timezone == "Europe/Berlin"  # nothing saved before the answer

    page.get_by_label("Keep the local times").check()
    page.locator("#festival-form").get_by_role("button", name="Save details").click()
    expect(page.locator("#festival-form").get_by_text("Saved.")).to_be_visible()
    with server.app.app_context(), db.connection_context():
        assert Event.get_by_id(event_id).start == DAY + 3600  # 12:00 in London is an hour later than in Berlin
    assert stored_festival(server, festival_id).timezone == "Europe/London"

    form = page.locator("#festival-form")
    form.get_by_label("Time zone").fill("Europe/Berlin")
    form.get_by_role("button", name="Save details").click()
    page.get_by_label("Keep the moments").check()
    page.locator("#festival-form").get_by_role("button", name="Save details").click()
    expect(page.locator("#festival-form").get_by_text("Saved.")).to_be_visible()
    with server.app.app_context(), db.connection_context():
        assert Event.get_by_id(event_id).start == DAY + 3600  # the same moment, shown as 13:00 in Berlin
    page.goto(f"/festivals/{festival_id}/events")
    expect(page.locator(f"#event-{event_id}")).to_contain_text("Sun 27 Jun 13:00")
