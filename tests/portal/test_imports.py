"""CSV import in the portal (upload or paste → column mapping → preview → confirm), the visitor preview
and the export downloads: forms posted as a browser posts them, answers and database rows as users see them."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest

from app.models import Artist, AuditEntry, Event, Location
from app.models.relations import EventArtist, FestivalEvent
from tests.identity.test_pages import csrf_token, text

HEADER = "name,day,start,end,stage,artists,type,description\n"
ROWS = (
    'Opening,2027-07-16,18:00,19:00,Main Stage,"The Velvet Foxes, Nora",2,Doors at 17:30\n'
    "Late set,2027-07-16,23:00,2027-07-17 01:00,Zelt Süd,Nora,0,\n"
    "Broken,2027-07-16,20:00,19:00,Main Stage,,0,\n"
    "Nowhere,2027-07-16,20:00,21:00,,,0,\n"
)


def ts(text_: str) -> int:
    return int(datetime.strptime(text_, "%Y-%m-%d %H:%M").replace(tzinfo=UTC).timestamp())


@pytest.fixture
def festival(factory, creator):
    return factory.create("festival", creator, name="Import Fest", is_valid=False)["festival_id"]


class _Forms(HTMLParser):
    """The fields of each form on a page, by the form's action: what a browser would submit."""

    def __init__(self):
        super().__init__()
        self.forms: dict[str, dict[str, str]] = {}
        self.current: dict[str, str] | None = None
        self.select: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.current = self.forms.setdefault(attrs.get("action", ""), {})
        elif self.current is not None and tag == "input" and attrs.get("name"):
            self.current[attrs["name"]] = attrs.get("value") or ""
        elif self.current is not None and tag == "select":
            self.select = attrs["name"]
            self.current[self.select] = ""
        elif self.select and tag == "option" and "selected" in attrs:
            self.current[self.select] = attrs.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form":
            self.current = None
        elif tag == "select":
            self.select = None


def form_of(response, action: str) -> dict[str, str]:
    parser = _Forms()
    parser.feed(text(response))
    return parser.forms[action]


def upload(browser_client, festival_id, csv_text: str):
    token = csrf_token(browser_client, f"/festivals/{festival_id}/import")
    return browser_client.post(f"/festivals/{festival_id}/import", data={"csrf_token": token, "text": csv_text})


def statuses(response) -> list[tuple[str, str]]:
    """(status, what happens) of each preview row, in file order."""
    rows = re.findall(r'<tr class="row-(\w+)" data-testid="import-row">(.*?)</tr>', text(response), re.S)
    return [(status, re.sub(r"<[^>]+>|\s+", " ", re.split(r"<td[^>]*>", cells)[-1]).strip()) for status, cells in rows]


def confirm(browser_client, festival_id, preview):
    return browser_client.post(
        f"/festivals/{festival_id}/import/confirm", data=form_of(preview, f"/festivals/{festival_id}/import/confirm")
    )


def import_file(browser_client, festival_id, csv_text: str):
    preview = upload(browser_client, festival_id, csv_text)
    assert preview.status_code == 200, text(preview)
    return preview, confirm(browser_client, festival_id, preview)


def events_of(festival_id) -> dict[str, Event]:
    query = (
        Event.select()
        .join(FestivalEvent, on=(FestivalEvent.related == Event.id))
        .where(FestivalEvent.owner == festival_id)
    )
    return {event.name: event for event in query}


# --- preview, confirm, re-import -----------------------------------------------------------------------------


def test_import_preview_lists_every_row_and_saves_nothing(browser_client, festival):
    response = upload(browser_client, festival, HEADER + ROWS)
    assert response.status_code == 200
    rows = statuses(response)
    assert [status for status, _ in rows] == ["new", "new", "error", "error"]
    assert rows[2][1].startswith("End before start")
    assert rows[3][1] == "No stage"
    assert "2 new" in text(response) and "2 with errors" in text(response)
    assert Event.select().count() == 0 and Artist.select().count() == 0 and Location.select().count() == 0


def test_import_confirm_saves_rows_with_artists_and_stages_in_own_library(browser_client, festival, creator):
    _, response = import_file(browser_client, festival, HEADER + ROWS)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/festivals/{festival}/events")
    assert "Imported: 2 new, 0 changed, 0 unchanged, 2 rows with errors left out." in text(
        browser_client.get(response.headers["Location"])
    )
    events = events_of(festival)
    assert set(events) == {"Opening", "Late set"}
    opening, late = events["Opening"], events["Late set"]
    assert (opening.start, opening.end, opening.type, opening.description) == (
        ts("2027-07-16 18:00"),
        ts("2027-07-16 19:00"),
        2,
        "Doors at 17:30",
    )
    assert (late.start, late.end) == (ts("2027-07-16 23:00"), ts("2027-07-17 01:00"))
    assert {a.name for a in Artist.select()} == {"The Velvet Foxes", "Nora"}  # Nora once, for both events
    assert {s.name for s in Location.select()} == {"Main Stage", "Zelt Süd"}
    assert {a.owner_id for a in Artist.select()} | {s.owner_id for s in Location.select()} == {creator.id}
    assert AuditEntry.select().where(AuditEntry.action == "import").count() == 1


def test_reimporting_the_same_file_changes_nothing(browser_client, festival):
    import_file(browser_client, festival, HEADER + ROWS)
    versions = {name: event.version for name, event in events_of(festival).items()}
    counts = (Event.select().count(), Artist.select().count(), Location.select().count())
    again = upload(browser_client, festival, HEADER + ROWS)
    assert [status for status, _ in statuses(again)] == ["unchanged", "unchanged", "error", "error"]
    assert 'data-testid="nothing-to-import"' in text(again)
    assert {name: event.version for name, event in events_of(festival).items()} == versions
    assert (Event.select().count(), Artist.select().count(), Location.select().count()) == counts


def test_import_of_changed_rows_updates_the_matched_events(browser_client, festival):
    import_file(browser_client, festival, HEADER + ROWS)
    before = events_of(festival)["Opening"]
    changed = HEADER + ROWS.replace(
        '18:00,19:00,Main Stage,"The Velvet Foxes, Nora"', '18:30,19:30,Main Stage,"The Velvet Foxes, Mia"'
    )
    preview = upload(browser_client, festival, changed)
    rows = statuses(preview)
    assert rows[0][0] == "changed"
    assert "start 2027-07-16 18:00 → 2027-07-16 18:30" in rows[0][1]
    assert "artists The Velvet Foxes, Nora → The Velvet Foxes, Mia" in rows[0][1]
    assert rows[1][0] == "unchanged"
    assert confirm(browser_client, festival, preview).status_code == 303
    after = events_of(festival)["Opening"]
    assert after.id == before.id and after.start == ts("2027-07-16 18:30") and after.version > before.version
    artist_ids = [row.related_id for row in EventArtist.select().where(EventArtist.owner == after.id)]
    assert sorted(a.name for a in Artist.select().where(Artist.id.in_(artist_ids))) == ["Mia", "The Velvet Foxes"]
    assert len(events_of(festival)) == 2


def test_import_uses_own_library_not_other_creators(browser_client, factory, festival, creator):
    other = factory.user("creator")
    theirs = factory.create("artist", other, name="Nora")["artist_id"]
    import_file(browser_client, festival, HEADER + ROWS)
    noras = list(Artist.select().where(Artist.name == "Nora"))
    assert len(noras) == 2 and {a.owner_id for a in noras} == {other.id, creator.id}
    assert Artist.get_by_id(theirs).version is not None  # untouched


def test_confirm_after_the_events_changed_shows_the_new_preview_and_saves_nothing(
    browser_client, factory, festival, creator
):
    preview = upload(browser_client, festival, HEADER + ROWS)
    # Meanwhile someone adds "Opening" on the same day and stage: the file's row is no longer new.
    import_file(browser_client, festival, HEADER + ROWS.splitlines(keepends=True)[0])
    response = confirm(browser_client, festival, preview)
    assert response.status_code == 409
    assert "changed since the preview" in text(response)
    assert [status for status, _ in statuses(response)][:2] == ["unchanged", "new"]
    assert set(events_of(festival)) == {"Opening"}


def test_import_says_why_each_bad_row_cannot_be_imported(browser_client, festival):
    rows = (
        ",2027-07-16,18:00,19:00,Main,,0,\n"
        "A,16/07/2027,18:00,19:00,Main,,0,\n"
        "B,2027-07-16,6pm,19:00,Main,,0,\n"
        "C,2027-07-16,18:00,,Main,,0,\n"
        "D,2027-07-16,18:00,19:00,Main,,music,\n"
        "E,2027-07-16,18:00,19:00,Main,,300,\n"
        f"{'F' * 300},2027-07-16,18:00,19:00,Main,,0,\n"
        "G,2027-07-16,18:00,19:00,Main,,0,\n"
        "g,2027-07-16,20:00,21:00,main,,0,\n"
        "Later,,,,Main,,0,time to be announced\n"
    )
    reasons = [reason for _, reason in statuses(upload(browser_client, festival, HEADER + rows))]
    assert reasons == [
        "No name",
        "Day “16/07/2027” is not a date like 2027-07-16",
        "Start “6pm” is not a time like 18:30",
        "No end",
        "Type “music” is not a whole number from -1 to 255",
        "Type “300” is not a whole number from -1 to 255",
        "Name is longer than 255 characters",
        "Added",
        "Same name, day and stage as line 9",
        "Added",
    ]


def test_import_of_more_rows_than_allowed_is_refused(browser_client, festival):
    response = upload(browser_client, festival, HEADER + "X,2027-07-16,18:00,19:00,Main,,0,\n" * 5001)
    assert response.status_code == 422 and "at most 5000 can be imported at once" in text(response)


def test_import_of_someone_elses_festival_is_refused(browser_client, factory):
    theirs = factory.create("festival", factory.user("creator"))["festival_id"]
    assert browser_client.get(f"/festivals/{theirs}/import").status_code == 403


def test_import_without_rows_or_with_garbage_shows_the_message(browser_client, festival):
    assert "The file is empty" in text(upload(browser_client, festival, ""))
    response = upload(browser_client, festival, "name,day\n\x00\n")
    assert response.status_code == 422 and "not a CSV file" in text(response)


def test_import_reads_an_uploaded_windows_file_with_semicolons(browser_client, festival):
    token = csrf_token(browser_client, f"/festivals/{festival}/import")
    data = (HEADER.replace(",", ";") + "Bühnenzauber;16.07.2027;18:00;19:00;Große Bühne;;;\n").encode("cp1252")
    response = browser_client.post(
        f"/festivals/{festival}/import",
        content_type="multipart/form-data",
        data={"csrf_token": token, "file": (io.BytesIO(data), "plan.csv")},
    )
    assert statuses(response) == [("new", "Added")]
    confirm(browser_client, festival, response)
    assert events_of(festival)["Bühnenzauber"].start == ts("2027-07-16 18:00")


def test_multiline_descriptions_survive_the_browsers_crlf_round_trip(browser_client, festival):
    csv_text = HEADER + 'Talk,2027-07-16,12:00,13:00,Hall,,6,"First line\nsecond line"\n'
    preview = upload(browser_client, festival, csv_text)
    fields = form_of(preview, f"/festivals/{festival}/import/confirm")
    fields["csv_text"] = fields["csv_text"].replace("\n", "\r\n")  # what a browser submits
    assert browser_client.post(f"/festivals/{festival}/import/confirm", data=fields).status_code == 303
    assert events_of(festival)["Talk"].description == "First line\nsecond line"
    assert [status for status, _ in statuses(upload(browser_client, festival, csv_text.replace("\n", "\r\n")))] == [
        "unchanged"
    ]


# --- column mapping ---------------------------------------------------------------------------------------------

OTHER_HEADERS = "Title;Date;Begin;Until;Room;Performers;Notes\nOpening;2027-07-16;18:00;19:00;Main Stage;Nora;Hi\n"


def test_other_headers_get_a_mapping_step_with_guesses(browser_client, festival):
    response = upload(browser_client, festival, OTHER_HEADERS)
    assert "Match the columns" in text(response)
    fields = form_of(response, f"/festivals/{festival}/import/preview")
    assert {k: v for k, v in fields.items() if k.startswith("map_")} == {
        "map_name": "0",
        "map_day": "1",
        "map_start": "2",
        "map_end": "3",
        "map_stage": "4",
        "map_artists": "5",
        "map_type": "",
        "map_description": "6",
        "map_id": "",
    }
    preview = browser_client.post(f"/festivals/{festival}/import/preview", data=fields)
    assert statuses(preview) == [("new", "Added")]
    confirm(browser_client, festival, preview)
    assert events_of(festival)["Opening"].description == "Hi"


def test_mapping_without_a_required_column_says_which(browser_client, festival):
    fields = form_of(upload(browser_client, festival, OTHER_HEADERS), f"/festivals/{festival}/import/preview")
    fields["map_stage"] = ""
    fields["map_end"] = fields["map_start"]
    response = browser_client.post(f"/festivals/{festival}/import/preview", data=fields)
    assert response.status_code == 422
    page = text(response)
    assert "Choose the file&#39;s column for stage." in page or "Choose the file's column for stage." in page
    assert "already used for start" in page
    assert Event.select().count() == 0


def test_a_mapping_with_unicode_digits_is_a_message_not_a_500(browser_client, festival):
    """Issue 13, finding 1: '²'.isdigit() is true but int('²') fails."""
    fields = form_of(upload(browser_client, festival, OTHER_HEADERS), f"/festivals/{festival}/import/preview")
    fields["map_stage"] = "²"
    fields["map_name"] = "١"
    response = browser_client.post(f"/festivals/{festival}/import/preview", data=fields)
    assert response.status_code == 422
    assert "Is not a column of the file." in text(response)


# --- export → import ----------------------------------------------------------------------------------------------


def test_exported_csv_imports_into_another_festival_and_back_unchanged(browser_client, factory, festival, creator):
    import_file(browser_client, festival, HEADER + ROWS)
    exported = browser_client.get(f"/festivals/{festival}/export/events.csv")
    assert exported.status_code == 200  # a draft: the organizer's download in the portal
    csv_text = exported.data.decode("utf-8-sig")
    again = upload(browser_client, festival, csv_text)
    assert [status for status, _ in statuses(again)] == ["unchanged", "unchanged"]
    copy = factory.create("festival", creator, name="Copy Fest")["festival_id"]
    import_file(browser_client, copy, csv_text)
    original, copied = events_of(festival), events_of(copy)
    assert {(e.name, e.start, e.end, e.type, e.description) for e in original.values()} == {
        (e.name, e.start, e.end, e.type, e.description) for e in copied.values()
    }
    copied_csv = browser_client.get(f"/festivals/{copy}/export/events.csv").data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(copied_csv)))
    # The same rows but for the ids (each festival's own events)
    assert [row[:-1] for row in rows[1:]] == [row[:-1] for row in list(csv.reader(io.StringIO(csv_text)))[1:]]


# --- editor links and the visitor preview ----------------------------------------------------------------------------


def test_editor_links_preview_import_and_exports(browser_client, festival):
    page = text(browser_client.get(f"/festivals/{festival}"))
    for path in (
        "preview",
        "import",
        "export/schedule.ics",
        "export/schedule.json",
        "export/schedule.xml",
        "export/events.csv",
    ):
        assert f'href="/festivals/{festival}/{path}"' in page, path


def test_visitor_preview_shows_what_the_api_serves(browser_client, factory, festival, creator):
    import_file(browser_client, festival, HEADER + ROWS)
    api = factory.bearer(creator)
    events = browser_client.get(f"/api/v1/festivals/{festival}/events?include=artist,location", headers=api).get_json()
    response = browser_client.get(f"/festivals/{festival}/preview")
    assert response.status_code == 200
    page = text(response)
    assert "Import Fest" in page and "once the festival is published" in page
    assert page.count('data-testid="preview-event"') == len(events["data"]) == 2
    for event in events["data"]:
        assert event["event_name"] in page
        assert event["include"]["location"][0]["location_name"] in page
    assert "The Velvet Foxes, Nora" in page and "23:00–01:00" in page


def test_visitor_preview_of_someone_elses_festival_is_refused(browser_client, factory):
    theirs = factory.create("festival", factory.user("creator"))["festival_id"]
    assert browser_client.get(f"/festivals/{theirs}/preview").status_code == 403
    assert browser_client.get(f"/festivals/{theirs}/export/schedule.ics").status_code == 403
