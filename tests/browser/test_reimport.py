"""Re-importing an edited spreadsheet (Chromium): the exported CSV, with one act renamed and one moved to
another stage and time, comes back as two changed rows, not as two new events; without the id column a
renamed act is still known by its artists and day."""

from __future__ import annotations

import csv
import io

from playwright.sync_api import expect

from app.db import db
from app.models import Event
from tests.browser.test_schedule_editor import events_page_in_berlin

LINEUP = (
    "name,day,start,end,stage,artists\n"
    "Eröffnung,2026-06-12,18:00,19:00,Hauptbühne,Kreuzchor Dresden\n"
    "Lesung am Fluss,2026-06-12,19:30,20:30,Zelt,Jördis Müller\n"
    "Blechbläser,2026-06-13,17:00,18:00,Hauptbühne,Blechbläserensemble Görlitz\n"
    "Nachtkonzert,2026-06-13,21:00,22:30,Hauptbühne,Käthe Köhler Quartett\n"
)


def import_text(page, festival_id: str, text: str) -> None:
    page.goto(f"/festivals/{festival_id}/import")
    page.get_by_label("…or paste the rows").fill(text)
    page.get_by_role("button", name="Check the rows").click()


def test_reimport_of_an_edited_export_shows_moved_and_renamed_acts_as_changed(browser, server):
    context, page, _, festival_id = events_page_in_berlin(browser, server, "Elbufer Spielzeit")
    import_text(page, festival_id, LINEUP)
    page.get_by_role("button", name="Import 4 events").click()
    expect(page.get_by_text("Imported: 4 new, 0 changed, 0 unchanged.")).to_be_visible()

    page.goto(f"/festivals/{festival_id}")
    with page.expect_download() as download:
        page.get_by_test_id("export-events.csv").click()
    rows = list(csv.reader(io.StringIO(open(download.value.path(), encoding="utf-8-sig").read())))
    assert rows[0][-1] == "id"
    by_name = {row[0]: row for row in rows[1:]}
    by_name["Lesung am Fluss"][0] = "Lesung am Fluss (mit Musik)"  # renamed
    by_name["Blechbläser"][2:5] = ["19:00", "20:00", "Zelt"]  # moved to the tent, two hours later
    edited = io.StringIO()
    csv.writer(edited).writerows([rows[0], *by_name.values()])

    import_text(page, festival_id, edited.getvalue())
    counts = page.get_by_test_id("import-counts")
    expect(counts).to_contain_text("0 new")
    expect(counts).to_contain_text("2 changed")
    expect(counts).to_contain_text("2 unchanged")
    preview = page.locator(".import-preview")
    expect(preview).to_contain_text("name Lesung am Fluss → Lesung am Fluss (mit Musik)")
    expect(preview).to_contain_text("stage Hauptbühne → Zelt")
    page.get_by_role("button", name="Import 2 events").click()
    expect(page.get_by_text("Imported: 0 new, 2 changed, 2 unchanged.")).to_be_visible()
    moved = page.locator("#event-rows tr", has_text="Blechbläser")
    expect(moved).to_contain_text("Sat 13 Jun 19:00 – 20:00")
    expect(moved).to_contain_text("Zelt")

    # Without the id column: a renamed act is known by its artists on the same day.
    import_text(page, festival_id, LINEUP.replace("Nachtkonzert,", "Großes Nachtkonzert,"))
    expect(page.get_by_test_id("import-counts")).to_contain_text("0 new")
    expect(page.locator(".import-preview")).to_contain_text("name Nachtkonzert → Großes Nachtkonzert")
    with server.app.app_context(), db.connection_context():
        assert Event.select().count() == 4
    context.close()
