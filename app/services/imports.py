"""A festival's events from a CSV file (or a spreadsheet saved as CSV): read, map the columns, preview
every row as new / changed / unchanged / error, then save them all in one transaction.

Rows are matched with the festival's events by the export's id column, else by name, day and stage
(ignoring case), else by the same artists on the same day: importing the same file again changes nothing,
and an act renamed or moved in the spreadsheet is shown as changed, not added twice. Events that are not in
the file stay as they are. Artists and stages are looked up in the caller's own library by name and created
there when missing. The columns are those of the CSV export (`exports.CSV_COLUMNS`): what comes out can go
back in."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import lru_cache

import orjson

from app.db import write_transaction
from app.errors import Conflict, Invalid
from app.models import Artist, Event, Festival, Location
from app.models.base import utcnow
from app.models.relations import EventArtist, EventLocation, FestivalEvent
from app.permissions import Actor, library_of, own_library
from app.schemas import validate_body
from app.services import audit, exports, timetable, writes
from app.text import csv_uncell, has_control, whole_number

FIELDS = exports.CSV_COLUMNS
REQUIRED = ("name", "day", "start", "end", "stage")
MAX_ROWS = 5000
CHUNK = 500  # ids per IN (...): well under every database's parameter limit

# Header names (lower case, single spaces) that mean one of our columns, in English and German.
ALIASES = {
    "name": {"name", "title", "event", "event name", "event title", "act", "programm", "titel", "veranstaltung"},
    "day": {"day", "date", "datum", "tag"},
    "start": {"start", "begin", "starts", "start time", "from", "beginn", "von", "startzeit"},
    "end": {"end", "ends", "end time", "until", "to", "ende", "bis", "endzeit"},
    "stage": {"stage", "location", "room", "venue", "place", "bühne", "buhne", "ort", "raum"},
    "artists": {"artists", "artist", "performers", "performer", "acts", "band", "bands", "speakers", "künstler"},
    "type": {"type", "kind", "category", "event type", "typ", "art"},
    "description": {"description", "details", "info", "notes", "abstract", "beschreibung", "text"},
    "id": {"id", "event id", "nr"},
}
FIELD_LABELS = {
    "event_name": "name",
    "event_description": "description",
    "event_type": "type",
    "event_start": "start",
    "event_end": "end",
    "location_name": "stage",
    "artist_name": "an artist's name",
}


# --- reading -----------------------------------------------------------------------------------------------


@dataclass
class Table:
    headers: list[str]
    rows: list[tuple[int, list[str]]]  # (line number in the file, cells)


def decode(data: bytes) -> str:
    """UTF-8 (with or without a byte-order mark), else Windows-1252 (what older spreadsheets save)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def read_csv(text: str) -> Table:
    """The header row and the data rows; the delimiter (comma, semicolon or tab) is the header's most
    frequent one. Blank lines are skipped."""
    # Browsers send form values with CRLF line breaks: the same file must read the same after a round trip.
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if "\x00" in text:
        raise Invalid("this is not a CSV file (it contains NUL characters)", {"csv": "not a CSV file"})
    if not text.strip():
        raise Invalid("the file is empty", {"csv": "is empty"})
    first = text.lstrip("\r\n").split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        lines = [(reader.line_num, row) for row in reader]  # line_num: where the row ends in the file
    except csv.Error as exc:
        raise Invalid(f"the file is not valid CSV ({exc})", {"csv": "is not valid CSV"}) from None
    opened = unclosed_quote(text, lines[-2][0] + 1 if len(lines) > 1 else 1) if lines else None
    if opened is not None:  # the reader took every following row into that one cell
        raise Invalid(
            f"a quote opened on line {opened} is never closed",
            {"csv": f"quote on line {opened} is never closed"},
        )
    # Our export starts cells a spreadsheet would run as formulas with a quote (exports.csv_cell): taken off.
    lines = [(number, [csv_uncell(cell) for cell in row]) for number, row in lines if any(c.strip() for c in row)]
    if not lines:
        raise Invalid("the file is empty", {"csv": "is empty"})
    headers = [cell.strip() for cell in lines[0][1]]
    if len(lines) - 1 > MAX_ROWS:
        raise Invalid(
            f"the file has {len(lines) - 1} rows; at most {MAX_ROWS} can be imported at once",
            {"csv": f"more than {MAX_ROWS} rows"},
        )
    return Table(headers, lines[1:])


def unclosed_quote(text: str, first_line: int) -> int | None:
    """The line where the last row's quote opened when the file ends inside it (the reader does not say),
    else None. `first_line`: where the last row starts."""
    rest = text.split("\n")[first_line - 1 :]
    quoted, opened = False, None
    for number, line in enumerate(rest, first_line):
        for position, char in enumerate(line):
            if char != '"':
                continue
            if not quoted and (position == 0 or line[position - 1] in ",;\t"):  # a quoted cell starts
                quoted, opened = True, number
            elif quoted:
                quoted = False  # closed, or the first of a doubled quote (the second one opens again)
    return opened if quoted else None


def _header_key(header: str) -> str:
    return " ".join(header.casefold().replace("_", " ").replace("-", " ").split())


def guess_mapping(headers: list[str]) -> dict[str, int | None]:
    """Each of our columns → the index of the file's column with that name (or a known alias)."""
    keys = [_header_key(header) for header in headers]
    mapping: dict[str, int | None] = {}
    for name in FIELDS:
        exact = [i for i, key in enumerate(keys) if key == name]
        alias = [i for i, key in enumerate(keys) if key in ALIASES[name]]
        mapping[name] = (exact or alias or [None])[0]
    return mapping


def needs_mapping(headers: list[str]) -> bool:
    """The headers differ from ours (other names, or a column we need is missing): ask before reading."""
    keys = {_header_key(header) for header in headers} - {""}  # an empty trailing column is no difference
    return bool(keys - set(FIELDS)) or not set(REQUIRED) <= keys


def parse_mapping(form: dict[str, str], headers: list[str]) -> dict[str, int | None]:
    """The mapping step's choices (`map_<column>` → index of the file's column, or "" for none)."""
    mapping: dict[str, int | None] = {}
    problems: dict[str, str] = {}
    for name in FIELDS:
        raw = (form.get(f"map_{name}") or "").strip()
        if raw == "":
            mapping[name] = None
        elif (column := whole_number(raw)) is not None and column < len(headers):
            mapping[name] = column
        else:
            problems[f"map_{name}"] = "is not a column of the file"
    for name in REQUIRED:
        if mapping.get(name) is None and f"map_{name}" not in problems:
            problems[f"map_{name}"] = f"choose the file's column for {name}"
    used: dict[int, str] = {}
    for name, index in mapping.items():
        if index is not None and index in used:
            problems[f"map_{name}"] = f"the column is already used for {used[index]}"
        elif index is not None:
            used[index] = name
    if problems:
        raise Invalid("choose a column of the file for each of name, day, start, end and stage", problems)
    return mapping


# --- checking ----------------------------------------------------------------------------------------------


@dataclass
class Row:
    line: int
    name: str = ""
    day: str = ""
    start: int = 0
    end: int = 0
    stage: str = ""
    artists: list[str] = field(default_factory=list)
    type: int = 0
    description: str = ""
    status: str = "error"  # new | changed | unchanged | error
    reason: str = ""
    changes: list[str] = field(default_factory=list)
    event_id: int | None = None
    ref: int | None = None  # the id column: the exported event this row was
    cells: dict[str, str] = field(default_factory=dict)  # as read, for the preview

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.name.casefold(), self.day, self.stage.casefold())


@dataclass
class Plan:
    rows: list[Row]
    zone: str
    digest: str = ""
    saved: bool = False

    def count(self, status: str) -> int:
        return sum(1 for row in self.rows if row.status == status)

    @property
    def counts(self) -> dict[str, int]:
        return {status: self.count(status) for status in ("new", "changed", "unchanged", "error")}


DAY_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%Y/%m/%d", "%d.%m.%y")
CLOCK = re.compile(r"^(\d{1,2})[:.](\d{2})(?::(\d{2}))?$")


@lru_cache(maxsize=4096)  # a line-up repeats a few days and times in every row; strptime was a third of a row's check
def _day(text: str) -> date | None:
    for pattern in DAY_FORMATS:
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


@lru_cache(maxsize=4096)
def _clock(text: str) -> time | None:
    match = CLOCK.match(text)
    if not match or int(match[1]) > 23 or int(match[2]) > 59 or int(match[3] or 0) > 59:
        return None
    return time(int(match[1]), int(match[2]), int(match[3] or 0))


def _moment(text: str, day: date, program: exports.Program) -> int | None:
    """ "18:30" on the row's day, or a full "2027-07-17 01:30" (an end after midnight), in the festival's zone
    (Invalid for a time the clocks skip; a time that happens twice is the first)."""
    clock = _clock(text)
    if clock is None:
        when, _, rest = text.replace("T", " ").partition(" ")
        other, clock = _day(when), _clock(rest.strip())
        if other is None or clock is None:
            return None
        day = other
    return timetable.to_unix(datetime.combine(day, clock), program.zone)


def _split_artists(text: str) -> list[str]:
    names, seen = [], set()
    for name in re.split(";" if ";" in text else ",", text):
        name = name.strip()
        if name and name.casefold() not in seen:
            seen.add(name.casefold())
            names.append(name)
    return names


def _check(row: Row, cells: dict[str, str], program: exports.Program) -> str:
    """Fill the row from its cells; the reason it cannot be imported, or ""."""
    row.name, row.stage = cells["name"].strip(), cells["stage"].strip()
    row.description = cells["description"].strip()
    row.ref = whole_number(cells.get("id"))
    row.artists = _split_artists(cells["artists"])
    if not row.name:
        return "no name"
    day_text, start_text, end_text = cells["day"].strip(), cells["start"].strip(), cells["end"].strip()
    if day_text or start_text or end_text:  # all three empty: an event without a time yet
        day = _day(day_text)
        if not day_text:
            return "no day"
        if day is None:
            return f"day “{day_text}” is not a date like 2027-07-16"
        row.day = day.isoformat()
        if not start_text:
            return "no start"
        if not end_text:
            return "no end"
        try:
            start, end = _moment(start_text, day, program), _moment(end_text, day, program)
        except Invalid as exc:  # a time the clocks skip that night
            return next(iter(exc.fields.values()))
        if start is None:
            return f"start “{start_text}” is not a time like 18:30"
        if end is None:
            return f"end “{end_text}” is not a time like 20:00 (or 2027-07-17 01:30 after midnight)"
        if end < start:
            return "end before start (write an end after midnight with its date, e.g. 2027-07-17 01:30)"
        row.start, row.end = start, end
    if not row.stage:
        return "no stage"
    type_text = cells["type"].strip() or "0"
    if not re.fullmatch(r"-?\d{1,3}", type_text) or not -1 <= int(type_text) <= 255:
        return f"type “{type_text}” is not a whole number from -1 to 255"
    row.type = int(type_text)
    for label, value in (("name", row.name), ("stage", row.stage), *(("artist name", a) for a in row.artists)):
        if len(value) > 255:
            return f"{label} is longer than 255 characters"
        if has_control(value):
            return f"{label} must not contain control characters"
    try:
        # Stage and artist names need no more: not empty, at most 255 characters (above), no NUL (the file).
        validate_body(
            "event",
            {
                "event_name": row.name,
                "event_description": row.description,
                "event_type": row.type,
                "event_start": row.start,
                "event_end": row.end,
            },
        )
        # The checks of every organizer's event save (a name, within the festival's days), for every row.
        timetable.check_event(
            program.festival, {"event_name": row.name, "event_start": row.start, "event_end": row.end}
        )
    except Invalid as exc:
        key, message = next(iter(exc.fields.items()))
        return f"{FIELD_LABELS.get(key, key)}: {message[:1].lower()}{message[1:]}"
    return ""


def _when(program: exports.Program, seconds: int) -> str:
    return program.local(seconds).strftime("%Y-%m-%d %H:%M") if seconds else "no time"


def _compare(row: Row, event: dict, program: exports.Program) -> list[str]:
    changes = []
    if event["event_name"] != row.name:
        changes.append(f"name {event['event_name']} → {row.name}")
    if exports.stage_name(event).casefold() != row.stage.casefold():
        changes.append(f"stage {exports.stage_name(event)} → {row.stage}")
    for label, old, new in (("start", event["event_start"], row.start), ("end", event["event_end"], row.end)):
        if old != new:
            changes.append(f"{label} {_when(program, old)} → {_when(program, new)}")
    if event["event_type"] != row.type:
        changes.append(f"type {event['event_type']} → {row.type}")
    if event["event_description"] != row.description:
        changes.append("new description")
    old_artists = exports.artist_names(event)
    if {name.casefold() for name in old_artists} != {name.casefold() for name in row.artists}:
        changes.append(f"artists {', '.join(old_artists) or 'none'} → {', '.join(row.artists) or 'none'}")
    return changes


def _event_key(event: dict, program: exports.Program) -> tuple[str, str, str]:
    day = program.local(event["event_start"]).date().isoformat() if event["event_start"] else ""
    return (event["event_name"].casefold(), day, exports.stage_name(event).casefold())


def _plan(festival_id: int, actor: Actor, table: Table, mapping: dict[str, int | None]) -> Plan:
    writes.require_editable("festival", festival_id, actor)
    program = exports.load(festival_id, actor)
    existing: dict[tuple, dict] = {}
    for event in program.events:
        existing.setdefault(_event_key(event, program), event)  # the first of same-named ones is matched
    by_id = {event["event_id"]: event for event in program.events}
    matched: dict[int, Row] = {}
    rows, seen = [], {}
    for line, cells_list in table.rows:
        cells = {
            name: (cells_list[index] if index is not None and index < len(cells_list) else "")
            for name, index in mapping.items()
        }
        row = Row(line, cells=cells)
        row.reason = _check(row, cells, program)
        if not row.reason and row.key in seen:
            row.reason = f"same name, day and stage as line {seen[row.key]}"
        if not row.reason:
            seen[row.key] = line
            event = by_id.get(row.ref) or existing.get(row.key)  # its id from the export, else its name
            if event is not None and event["event_id"] not in matched:
                matched[event["event_id"]] = row
        rows.append(row)
    # A row without a match may be a renamed or moved act: the same artists on the same day, not matched yet (the
    # first such event in the program's order; looked up by day and artists, not compared with every event).
    by_artists: dict[tuple, list[dict]] = {}
    for event in program.events:
        if event["event_id"] not in matched:
            artists = frozenset(name.casefold() for name in exports.artist_names(event))
            by_artists.setdefault((_event_key(event, program)[1], artists), []).append(event)
    placed = {id(row) for row in matched.values()}
    for row in rows:
        if row.reason or id(row) in placed or not row.artists:
            continue
        candidates = by_artists.get((row.day, frozenset(name.casefold() for name in row.artists)))
        if candidates:  # only this loop takes them, always the first: the first is never matched yet
            matched[candidates.pop(0)["event_id"]] = row
    for event_id, row in matched.items():
        row.event_id = event_id
        row.changes = _compare(row, by_id[event_id], program)
        row.status = "changed" if row.changes else "unchanged"
    for row in rows:
        if not row.reason and row.event_id is None:
            row.status = "new"
    plan = Plan(rows, program.zone.key)
    plan.digest = hashlib.sha256(
        orjson.dumps(
            [
                festival_id,
                [
                    (r.line, r.status, r.event_id, r.name, r.start, r.end, r.stage, r.artists, r.type, r.description)
                    for r in rows
                ],
            ]
        )
    ).hexdigest()
    return plan


def preview(festival_id: int, actor: Actor, table: Table, mapping: dict[str, int | None]) -> Plan:
    """What importing would do; nothing is saved."""
    return _plan(festival_id, actor, table, mapping)


# --- saving ------------------------------------------------------------------------------------------------


def _chunks(items: list, size: int = CHUNK):
    for first in range(0, len(items), size):
        yield items[first : first + size]


def _insert(model, rows: list[dict]) -> None:
    """Multi-row INSERTs through peewee (so whatever watches its writes sees these too), 100 rows each:
    a statement per row would cost more in Python than the database's own work."""
    for chunk in _chunks(rows, 100):
        model.insert_many(chunk).execute()


def _own_ids(model, names: list[str], actor: Actor, now: datetime) -> dict[str, int]:
    """Casefolded name → id of the actor's own artist/location with that name; missing ones are created
    (in the file's order, so lists of artists come back in that order)."""
    ids: dict[str, int] = {}
    for row in model.select(model.id, model.name).where(own_library(actor, model)).order_by(model.id):
        ids.setdefault(row.name.casefold(), row.id)
    missing: dict[str, str] = {}  # casefolded → the name as first written, in the order of first appearance
    for name in names:
        if name.casefold() not in ids:
            missing.setdefault(name.casefold(), name)
    _insert(
        model, [{"owner": actor.user_id, "version": now, "created": now, "name": name} for name in missing.values()]
    )
    created = model.select(model.id, model.name).where(own_library(actor, model) & (model.version == now))
    ids.update({row.name.casefold(): row.id for row in created})
    return ids


def _new_event_ids(rows: list[Row], actor: Actor, now: datetime) -> None:
    """Insert the new events and give each row its id. The new rows are those of this transaction (owner and
    version); rows with the same values are interchangeable, so matching them by value is enough."""
    values = [
        {
            "owner": actor.user_id,
            "version": now,
            "created": now,
            "name": row.name,
            "description": row.description,
            "type": row.type,
            "start": row.start,
            "end": row.end,
        }
        for row in rows
    ]
    _insert(Event, values)
    fields = (Event.name, Event.start, Event.end, Event.type, Event.description)
    inserted: dict[tuple, list[int]] = {}
    for row in (
        Event.select(Event.id, *fields)
        .where((Event.owner == actor.user_id) & (Event.version == now))
        .order_by(Event.id)
        .tuples()
    ):
        inserted.setdefault(row[1:], []).append(row[0])
    for row in rows:
        row.event_id = inserted[(row.name, row.start, row.end, row.type, row.description)].pop(0)


def confirm(festival_id: int, actor: Actor, table: Table, mapping: dict[str, int | None], digest: str) -> Plan:
    """Save what the preview showed, all or nothing. When the festival's events changed since the
    preview (the plan is no longer the one shown), Conflict: nothing is saved."""
    with write_transaction():
        plan = _plan(festival_id, actor, table, mapping)
        if plan.digest != digest:
            raise Conflict("the festival's events changed since the preview; check the new preview and confirm again")
        new = [row for row in plan.rows if row.status == "new"]
        changed = [row for row in plan.rows if row.status == "changed"]
        if new or changed:
            _save(festival_id, actor, new, changed)
            audit.record(actor, "festival", festival_id, "import", {**plan.counts, "rows": len(plan.rows)})
    plan.saved = True
    return plan


def _save(festival_id: int, actor: Actor, new: list[Row], changed: list[Row]) -> None:
    now = utcnow()
    relink = [row for row in changed if any(change.startswith("artists") for change in row.changes)]
    restage = [row for row in changed if any(change.startswith("stage") for change in row.changes)]
    library = library_of(actor, Festival.select(Festival.owner).where(Festival.id == festival_id).scalar())
    stages = _own_ids(Location, [row.stage for row in new + restage], library, now)
    artists = _own_ids(
        Artist, [name for row in sorted(new + relink, key=lambda r: r.line) for name in row.artists], library, now
    )
    _new_event_ids(new, actor, now)  # before the changed events get the same version
    for row in changed:
        Event.update(
            name=row.name, description=row.description, type=row.type, start=row.start, end=row.end, version=now
        ).where(Event.id == row.event_id).execute()
    for ids in _chunks([row.event_id for row in relink]):
        EventArtist.delete().where(EventArtist.owner.in_(ids)).execute()
    for ids in _chunks([row.event_id for row in restage]):
        EventLocation.delete().where(EventLocation.owner.in_(ids)).execute()
    links = {
        FestivalEvent: [{"owner": festival_id, "related": row.event_id} for row in new],
        EventLocation: [{"owner": row.event_id, "related": stages[row.stage.casefold()]} for row in new + restage],
        EventArtist: [
            {"owner": row.event_id, "related": artists[name.casefold()]} for row in new + relink for name in row.artists
        ],
    }
    for table, pairs in links.items():
        _insert(table, pairs)
    Festival.update(version=now).where(Festival.id == festival_id).execute()
