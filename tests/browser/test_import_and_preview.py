"""An organizer imports a line-up from a spreadsheet (Chromium, real HTTP): upload a CSV with other column
names, match the columns, read the preview (new rows and rows with errors), confirm, see the events; the
same file again changes nothing; then the visitor preview and the exported calendar."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from app.db import db
from app.models import Event
from tests.browser.test_creator_portal import create_festival, log_in

LINEUP = (
    "Title;Date;Begin;Until;Room;Performers\n"
    "Opening;2026-07-03;18:00;19:00;Main Stage;Ada Lovelace\n"
    "Night set;2026-07-03;23:00;2026-07-04 01:00;Tent;Bo Diddley, Ada Lovelace\n"
    "Oops;2026-07-03;20:00;19:00;Tent;\n"
    "Lost;2026-07-03;20:00;21:00;;\n"
)


def test_import_a_lineup_and_preview_it(page, server, screenshot, tmp_path):
    user = server.user("creator")
    log_in(page, user.email)
    editor_url = create_festival(page, "Spreadsheet Fest")
    page.get_by_role("link", name="Import CSV").click()
    path = tmp_path / "lineup.csv"
    path.write_text(LINEUP, encoding="utf-8")
    page.get_by_label("CSV file").set_input_files(str(path))
    page.get_by_role("button", name="Check the rows").click()

    expect(page.get_by_role("heading", name="Match the columns")).to_be_visible()
    expect(page.get_by_label("stage")).to_have_value("4")  # "Room" was recognised
    expect(page.get_by_label("artists")).to_have_value("5")
    page.get_by_role("button", name="Preview the import").click()

    rows = page.get_by_test_id("import-row")
    expect(rows).to_have_count(4)
    expect(page.get_by_test_id("import-counts")).to_contain_text("2 new")
    expect(rows.nth(2)).to_contain_text("End before start")
    expect(rows.nth(3)).to_contain_text("No stage")
    with server.app.app_context(), db.connection_context():
        assert Event.select().count() == 0  # nothing saved before the confirmation
    screenshot(page, "import-preview")
    page.get_by_role("button", name=re.compile(r"Import 2 events")).click()

    expect(page).to_have_url(re.compile(r"/events$"))
    expect(page.get_by_text("Imported: 2 new, 0 changed, 0 unchanged, 2 rows with errors left out.")).to_be_visible()
    expect(page.locator("#event-rows tr", has_text="Night set")).to_contain_text("Bo Diddley")

    # The same file again: every good row is unchanged, there is nothing to confirm.
    page.goto(editor_url + "/import")
    page.get_by_label("…or paste the rows").fill(LINEUP)
    page.get_by_role("button", name="Check the rows").click()
    page.get_by_role("button", name="Preview the import").click()
    expect(page.get_by_test_id("import-counts")).to_contain_text("2 unchanged")
    expect(page.get_by_test_id("nothing-to-import")).to_be_visible()

    # The visitor preview, from the editor, before publishing.
    page.goto(editor_url)
    page.get_by_role("link", name="Preview", exact=True).click()
    preview = page.get_by_test_id("app-preview")
    expect(preview.get_by_role("heading", name="Spreadsheet Fest")).to_be_visible()
    events = page.get_by_test_id("preview-event")
    expect(events).to_have_count(2)
    expect(events.nth(1)).to_contain_text("23:00–01:00")
    expect(events.nth(1)).to_contain_text("Ada Lovelace, Bo Diddley")
    expect(events.nth(1)).to_contain_text("Tent")
    screenshot(page, "visitor-preview")

    # The calendar download from the editor (a draft: the organizer's own download).
    page.goto(editor_url)
    with page.expect_response(re.compile(r"/export/schedule\.ics$")) as answer:
        page.evaluate("url => fetch(url)", page.get_by_test_id("export-schedule.ics").get_attribute("href"))
    body = answer.value.text()
    assert body.count("BEGIN:VEVENT") == 2 and "SUMMARY:Night set" in body


def test_large_import_shows_its_progress(page, server, tmp_path):
    """2,000 rows: the page says what the server is doing while it checks and while it saves."""
    user = server.user("creator")
    log_in(page, user.email)
    editor_url = create_festival(page, "Big Fest")
    lines = ["name,day,start,end,stage,artists,type,description"]
    for n in range(2000):
        hour = 10 + (n // 8) % 12  # on the festival's three days
        lines.append(f"Set {n},2026-07-{3 + n % 3:02d},{hour}:00,{hour}:45,Stage {n % 8},Artist {n % 300},0,")
    path = tmp_path / "big.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    page.goto(editor_url + "/import")
    page.get_by_label("CSV file").set_input_files(str(path))
    page.get_by_role("button", name="Check the rows").click()
    progress = page.locator("[data-import-progress]")
    expect(progress).to_be_visible()
    expect(progress).to_contain_text(re.compile(r"Sending the file|Checking"))
    expect(page.get_by_test_id("import-counts")).to_contain_text("2000 new", timeout=60_000)
    page.get_by_role("button", name=re.compile(r"Import 2000 events")).click()
    expect(page.locator("[data-import-progress]")).to_contain_text("Saving")
    expect(page.get_by_text("Imported: 2000 new, 0 changed, 0 unchanged.")).to_be_visible(timeout=60_000)
    with server.app.app_context(), db.connection_context():
        assert Event.select().count() == 2000
