"""A festival's timetable as its organizer builds it: local times in the festival's time zone, the checks
on events (refused, or saved with a warning) and saving them (`save_event`), the publish checklist, the order
of its stages, moving, duplicating and shifting events, and the timetable grid.

The checks on an event (`check_event`) are chosen here, not by a handler: every save of an organizer's event
goes through `save_event`, which always applies them (events page, timetable moves, duplicates), and the CSV
import checks each row with the same function, so one event is judged the same everywhere. The API's generic
writes (app/services/writes.py, relations.py) stay as lenient as its contract (api.md): old clients create an
event without a name and fill it in later, link events before their festival has dates, and publish with
`festival_is_valid`; refusing any of that would break them.

Local times: the organizer types wall-clock times of the festival's zone; the API keeps unix seconds. On
the night clocks go forward, the skipped local times (02:00–02:59 in Europe/Berlin) do not exist and are
refused with a message; on the night clocks go back, a local time that happens twice means the first one
(still summer time), and the portal shows such times with their zone abbreviation (“02:30 CEST”)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from peewee import IntegrityError

from app.db import write_transaction
from app.errors import Conflict, Invalid
from app.models import Event, FestivalStage, Location
from app.models.base import utcnow
from app.permissions import Actor, library_of, require_change, require_creator, require_edit
from app.registry import ENTITIES
from app.serialize import from_row
from app.services import audit, festivals, relations, writes

NIGHT_AFTER = time(12, 0)  # events may run until noon of the day after the festival's last day
SLOT = 5 * 60  # the timetable's row: moves snap to it
EMPTY_DAY_FROM = 16  # a day without events shows its grid from 16:00


# --- local times ---------------------------------------------------------------------------------------


def zone_of(festival: dict) -> ZoneInfo:
    """The festival's zone (`festival_timezone`), UTC when unset or unknown."""
    try:
        return ZoneInfo(festival.get("festival_timezone") or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def zone_named(name: str | None) -> ZoneInfo:
    return zone_of({"festival_timezone": name})


def local(seconds: int, zone: ZoneInfo) -> datetime:
    return datetime.fromtimestamp(seconds, UTC).astimezone(zone)


def _ambiguous(moment: datetime) -> bool:
    return moment.replace(fold=0).utcoffset() != moment.replace(fold=1).utcoffset()


def to_unix(wall: datetime, zone: ZoneInfo, key: str = "time") -> int:
    """A wall-clock time (naive) in `zone` as unix seconds. A time skipped when clocks go forward is
    Invalid (for the field `key`); a time that happens twice is the first of the two."""
    moment = wall.replace(tzinfo=zone, fold=0)
    seconds = int(moment.timestamp())
    if local(seconds, zone).replace(tzinfo=None) != wall:
        gap = moment.replace(fold=1).utcoffset() - moment.utcoffset()
        later = (wall + abs(gap)).strftime("%H:%M")
        message = (
            f"{wall:%H:%M} on {describe_day(wall.date())} does not exist in {zone.key}: the clocks go forward "
            f"that night (choose e.g. {later})"
        )
        raise Invalid(f"invalid time: {key} {message}", {key: message})
    return seconds


def describe_day(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b} {day:%Y}"


def format_time(seconds: int | None, zone: ZoneInfo, *, weekday: bool = True, clock: bool = True) -> str:
    """ "Fri 12 Jun 20:00" in the zone ("—" when not set); a time that happens twice that night gets its
    zone abbreviation ("Sun 25 Oct 02:30 CEST")."""
    if not seconds:
        return "—"
    moment = local(seconds, zone)
    parts = []
    if weekday:
        parts.append(f"{moment:%a} {moment.day} {moment:%b}")
    if clock:
        parts.append(moment.strftime("%H:%M") + (f" {moment.tzname()}" if _ambiguous(moment) else ""))
    return " ".join(parts)


# --- checks --------------------------------------------------------------------------------------------


def festival_window(festival: dict) -> tuple[int, int] | None:
    """From midnight of the festival's first day to noon after its last day (in its zone), or None while
    it has no dates."""
    start, end = festival.get("festival_start") or 0, festival.get("festival_end") or 0
    if not (0 < start <= end):
        return None
    zone = zone_of(festival)
    first = local(start, zone).date()
    last = local(max(start, end - 1), zone).date()  # an end at midnight closes the day before
    opens = datetime.combine(first, time(), zone)
    closes = datetime.combine(last + timedelta(days=1), NIGHT_AFTER, zone)
    return int(opens.timestamp()), int(closes.timestamp())


def check_event(festival: dict, values: dict) -> None:
    """Refuse an event without a name, or one outside the festival's days (± the night after): Invalid
    with a message per field. `values` are the event's merged fields (JSON keys)."""
    problems: dict[str, str] = {}
    if not (values.get("event_name") or "").strip():
        problems["event_name"] = "give the event a name"
    window = festival_window(festival)
    start, end = values.get("event_start") or 0, values.get("event_end") or 0
    if window and start:
        opens, closes = window
        zone = zone_of(festival)
        days = f"{format_time(opens, zone, clock=False)} – {format_time(window_last_day(festival), zone, clock=False)}"
        if start < opens or start >= closes:
            problems["event_start"] = f"is outside the festival's days ({days})"
        elif end > closes:
            problems["event_end"] = f"is after the festival (events may run until 12:00 the day after {days})"
    if problems:
        raise Invalid("invalid event: " + "; ".join(f"{k} {v}" for k, v in problems.items()), problems)


def window_last_day(festival: dict) -> int:
    return max(festival["festival_start"], festival["festival_end"] - 1)


def stage_of(event: dict) -> str:
    located = event["include"]["location"]
    return located[0]["location_name"] if located else ""


def warnings(events: list[dict]) -> dict[int, list[str]]:
    """Event id → what is worth a second look, though saved: an exact duplicate (same name, times and
    stage) or an overlap with another event on the same stage."""
    found: dict[int, list[str]] = {}
    by_stage: dict[str, list[dict]] = {}
    for event in events:
        if event["event_end"] > event["event_start"] > 0 and stage_of(event):
            by_stage.setdefault(stage_of(event).casefold(), []).append(event)
    for stage_events in by_stage.values():
        stage_events.sort(key=lambda e: (e["event_start"], e["event_id"]))
        for index, event in enumerate(stage_events):
            for other in stage_events[index + 1 :]:
                if other["event_start"] >= event["event_end"]:
                    break
                same = (other["event_name"].casefold(), other["event_start"], other["event_end"]) == (
                    event["event_name"].casefold(),
                    event["event_start"],
                    event["event_end"],
                )
                for one, two in ((event, other), (other, event)):
                    name = two["event_name"] or "an unnamed event"
                    found.setdefault(one["event_id"], []).append(
                        f"duplicate of “{name}”" if same else f"overlaps “{name}” on {stage_of(one)}"
                    )
    return found


def publish_checklist(festival: dict, event_count: int) -> list[str]:
    """What a festival lacks before visitors should see it (empty: ready). `festival` with include
    image and place."""
    missing = []
    if not (0 < festival["festival_start"] <= festival["festival_end"]):
        missing.append("its dates (start and end)")
    if event_count == 0:
        missing.append("at least one event")
    if not festival["include"]["place"]:
        missing.append("a place")
    if not festival["include"]["image"]:
        missing.append("an image")
    return missing


def checklist_of(festival_id: int, actor: Actor) -> list[str]:
    festival, _ = festivals.festival_with_parts(festival_id, actor)
    return publish_checklist(festival, len(festivals.event_ids(festival_id)))


def publish(festival_id: int, actor: Actor) -> dict:
    """Publish from the portal: refused with what is missing (Invalid, the list in its message); an editor
    who is not the owner is refused first (Forbidden)."""
    row = writes.require_editable("festival", festival_id, actor)
    require_change(actor, ENTITIES["festival"], row, {"festival_is_valid"})
    missing = checklist_of(festival_id, actor)
    if missing:
        raise Invalid("not published yet: the festival needs " + ", ".join(missing), {"publish": ", ".join(missing)})
    return writes.update("festival", festival_id, actor, {"festival_is_valid": True})


# --- stage order ---------------------------------------------------------------------------------------


def stages(festival_id: int, events: list[dict]) -> list[dict]:
    """The festival's stages in its own order: those placed in order first, then the other locations of
    its events by name. Each {"id", "name"}."""
    used = {}
    for event in events:
        for location in event["include"]["location"]:
            used.setdefault(location["location_id"], location["location_name"])
    ordered = [
        {"id": row.location_id, "name": row.location.name}
        for row in FestivalStage.select(FestivalStage, Location)
        .join(Location)
        .where(FestivalStage.festival == festival_id)
        .order_by(FestivalStage.position)
    ]
    placed = {stage["id"] for stage in ordered}
    rest = sorted(({"id": i, "name": n} for i, n in used.items() if i not in placed), key=lambda s: s["name"].lower())
    return ordered + rest  # a stage named on the festival is a column before its first event too


def _store_order(festival_id: int, order: list[int]) -> None:
    FestivalStage.delete().where(FestivalStage.festival == festival_id).execute()
    if order:
        FestivalStage.insert_many(
            [{"festival": festival_id, "location": stage, "position": n} for n, stage in enumerate(order)]
        ).execute()


def add_stage(festival_id: int, name: str, actor: Actor) -> dict:
    """A stage named on the festival (the organizer's location of that name, or a new one), after the others:
    a timetable column from now on, with or without events."""
    name = " ".join((name or "").split())
    if not name:
        raise Invalid("name the stage", {"stage_name": "must not be empty"})
    with write_transaction():
        festival = writes.require_editable("festival", festival_id, actor)
        order = [stage["id"] for stage in stages(festival_id, festivals.events_of(festival_id, actor))]
        library = library_of(actor, festival.owner_id)  # an editor's stage is the owner's, as its events' are
        [location_id], _ = festivals.find_or_create("location", [name], library, utcnow())
        if location_id in order:
            raise Invalid(
                f"“{name}” is a stage of the festival already", {"stage_name": "is a stage of the festival already"}
            )
        _store_order(festival_id, [*order, location_id])
        audit.record(actor, "festival", festival_id, "stage_order", {"stages": [*order, location_id]})
    return {"id": location_id, "name": name}


def remove_stage(festival_id: int, location_id: int, actor: Actor) -> None:
    """A stage leaves the festival's columns; refused while events are on it (move them first). The
    location stays in the library."""
    with write_transaction():
        writes.require_editable("festival", festival_id, actor)
        events = festivals.events_of(festival_id, actor)
        on_it = [e for e in events if any(loc["location_id"] == location_id for loc in e["include"]["location"])]
        if on_it:
            raise Invalid(
                f"{len(on_it)} event{'s are' if len(on_it) != 1 else ' is'} on this stage: move them first",
                {"stage": "has events"},
            )
        order = [stage["id"] for stage in stages(festival_id, events) if stage["id"] != location_id]
        _store_order(festival_id, order)
        audit.record(actor, "festival", festival_id, "stage_order", {"stages": order})


def move_stage(festival_id: int, location_id: int, step: int, actor: Actor) -> None:
    """Move a stage one place left (step -1) or right (+1) in the festival's order; the whole order is
    stored, so it stays the same every day and after new stages come."""
    with write_transaction():
        writes.require_editable("festival", festival_id, actor)
        order = [stage["id"] for stage in stages(festival_id, festivals.events_of(festival_id, actor))]
        if location_id not in order:
            raise Invalid("this location is not a stage of the festival", {"stage": "is not a stage of the festival"})
        index = order.index(location_id)
        other = index + step
        if 0 <= other < len(order):
            order[index], order[other] = order[other], order[index]
        _store_order(festival_id, order)
        audit.record(actor, "festival", festival_id, "stage_order", {"stages": order})


# --- changing the time zone ----------------------------------------------------------------------------


def zone_change_effect(festival_id: int, old: str, new: str, actor: Actor) -> dict:
    """What a change of the festival's zone from `old` to `new` would do, for the question before it: how many
    timed events, and the first one as it shows now, with its local time kept (it moves in real time) and
    with its moment kept (its shown time changes)."""
    before, after = zone_named(old), zone_named(new)
    timed = [event for event in festivals.events_of(festival_id, actor) if event["event_start"] > 0]
    effect = {"count": len(timed), "example": None}
    if timed:
        first = min(timed, key=lambda event: event["event_start"])
        effect["example"] = {
            "name": first["event_name"],
            "now": format_time(first["event_start"], before),
            "moment_kept": format_time(first["event_start"], after),
        }
    return effect


def update_festival(
    festival_id: int, actor: Actor, values: dict, expected_version: str | None, keep_local_times: bool
) -> None:
    """Save the festival's fields; when its zone changes and `keep_local_times`, every event keeps its wall-clock
    times in the new zone (so it moves in real time), in the same transaction. Otherwise the moments stay."""
    with write_transaction():
        old = zone_named(writes.require_editable("festival", festival_id, actor).timezone)
        writes.update("festival", festival_id, actor, values, expected_version=expected_version)
        new = zone_named(values.get("festival_timezone"))
        if not keep_local_times or new.key == old.key:
            return
        now = utcnow()
        for row in (
            Event.select()
            .where(Event.id.in_(festivals.event_ids(festival_id)))
            .where(Event.start > 0)
            .order_by(Event.id)
        ):
            row.start = to_unix(local(row.start, old).replace(tzinfo=None), new, "event_start")
            if row.end:
                row.end = to_unix(local(row.end, old).replace(tzinfo=None), new, "event_end")
            row.version = now
            row.save()
        audit.record(actor, "festival", festival_id, "zone_change", {"from": old.key, "to": new.key, "kept": "local"})


# --- moving, duplicating, shifting ---------------------------------------------------------------------


def save_event(
    festival_id: int,
    event_id: int | None,
    actor: Actor,
    data: dict[str, Any],
    artist_names: list[str],
    location_name: str,
    expected_version: str | None = None,
) -> dict:
    """Create (event_id None) or change an event of the festival with its artists and location, all or
    nothing. Artists and the location are found by name or created. The event's checks (`check_event`: a name,
    within the festival's days) refuse it with Invalid, in the transaction, whoever saves it (events page,
    timetable, duplicate).

    One composed write: authorized once (the festival's editor edits its events), each version bumped
    once, one audit row for the whole change (fields, artists, location, and what was created)."""
    spec = ENTITIES["event"]
    festival_events = ENTITIES["festival"].relations["events"]
    try:
        with write_transaction():
            festival = writes.require_editable("festival", festival_id, actor)
            if event_id is None:
                require_creator(actor)
                values = writes.validated(spec, data)
                stored = writes.stored_values(spec, spec.model())
                event = None
            else:
                event = festivals.member_event(festival_id, event_id)
                require_edit(actor, spec, event)
                writes.check_version("event", event, expected_version)
                stored = writes.stored_values(spec, event)
                values = writes.validated(spec, data, stored=stored)
            check_event(from_row(ENTITIES["festival"], festival), {**stored, **values})
            now = utcnow()
            library = library_of(actor, festival.owner_id)
            artists, new_artists = festivals.find_or_create("artist", artist_names, library, now)
            location = [location_name.strip()] if location_name.strip() else []
            locations, new_locations = festivals.find_or_create("location", location, library, now)
            if event is None:
                event = writes.insert(spec, actor, values, now)
                relations.add_link(festival_events, festival_id, event.id)
                relations.bump_version("festival", festival_id, now)
                action, fields, known = "create", sorted(values), []
            else:
                action, fields, known = "update", sorted(writes.apply_changes(spec, event, values, now)), None
            relinked = [
                relations.set_links(spec.relations[segment], event.id, wanted, known)
                for segment, wanted in (("artist", artists), ("location", locations))
            ]
            if action == "update" and any(relinked) and not fields:
                relations.bump_version("event", event.id, now)
            if action == "create" or fields or any(relinked):
                created = {name: ids for name, ids in (("artist", new_artists), ("location", new_locations)) if ids}
                audit.record(
                    actor,
                    "event",
                    event.id,
                    action,
                    {
                        "fields": fields,
                        "festival": festival_id,
                        "artist": artists,
                        "location": locations,
                        "created": created,
                    },
                )
    except IntegrityError:  # a concurrent save took a name or the link between check and write
        raise Conflict("this event was changed at the same time; try again") from None
    return festivals.event_dict(event.id, actor)


def move_event(festival_id: int, event_id: int, actor: Actor, start: int, location_name: str) -> dict:
    """The event at a new start (its length kept, snapped to 5 minutes) and on a stage, checked like any
    save."""
    event = festivals.event_of(festival_id, event_id, actor)
    start = round(start / SLOT) * SLOT
    length = max(0, event["event_end"] - event["event_start"])
    return save_event(
        festival_id,
        event_id,
        actor,
        {"event_start": start, "event_end": start + length},
        [artist["artist_name"] for artist in event["include"]["artist"]],
        location_name,
    )


COPIED = ("event_name", "event_description", "event_type", "event_start", "event_end", "event_is_scheduled")


def duplicate_event(festival_id: int, event_id: int, actor: Actor) -> dict:
    """A copy of the event (its fields, artists and stage) as a new event of the festival, right after the
    original on its stage and as long (the next act of a line-up); on the same slot when that would leave
    the festival's days."""
    event = festivals.event_of(festival_id, event_id, actor)
    values = {key: event[key] for key in (*COPIED, "event_has_timeslot")}
    start, end = event["event_start"], event["event_end"]
    if 0 < start < end:
        after = {**values, "event_start": end, "event_end": 2 * end - start}
        festival = festivals.festival_with_parts(festival_id, actor)[0]
        try:
            check_event(festival, after)
        except Invalid:
            pass
        else:
            values = after
    return save_event(
        festival_id,
        None,
        actor,
        values,
        [artist["artist_name"] for artist in event["include"]["artist"]],
        stage_of(event),
    )


def shift_events(festival_id: int, event_ids: list[int], minutes: int, actor: Actor) -> int:
    """Move these events of the festival by `minutes` (negative: earlier), all or none; each must stay
    within the festival's days. Returns how many were shifted."""
    if not event_ids:
        raise Invalid("choose the events to shift", {"events": "choose at least one event"})
    if not minutes or abs(minutes) > 7 * 24 * 60:
        raise Invalid("shift by 1 minute up to 7 days", {"minutes": "shift by 1 minute up to 7 days (10080)"})
    delta = minutes * 60
    with write_transaction():
        festival = from_row(ENTITIES["festival"], writes.require_editable("festival", festival_id, actor))
        now = utcnow()
        rows = [festivals.member_event(festival_id, event_id) for event_id in sorted(set(event_ids))]
        for row in rows:
            require_edit(actor, ENTITIES["event"], row)
            if row.start <= 0:
                raise Invalid(f"“{row.name}” has no time to shift", {"events": f"“{row.name}” has no time yet"})
            check_event(
                festival, {"event_name": row.name, "event_start": row.start + delta, "event_end": row.end + delta}
            )
        for row in rows:
            Event.update(start=Event.start + delta, end=Event.end + delta, version=now).where(
                Event.id == row.id
            ).execute()
        relations.bump_version("festival", festival_id, now)
        audit.record(
            actor, "festival", festival_id, "shift_events", {"events": [r.id for r in rows], "minutes": minutes}
        )
    return len(rows)


# --- timetable -----------------------------------------------------------------------------------------


@dataclass
class TimetableDay:
    date: date
    label: str  # "Fri 12 Jun 2026"
    start: int  # the first row's time (unix seconds, a full local hour)
    rows: int  # SLOT rows
    hours: list[tuple[int, str]] = field(default_factory=list)  # (row, "HH:MM") of each full local hour
    cells: list[dict] = field(default_factory=list)  # event, column, row, span, lane, lanes, warnings
    widths: list[int] = field(default_factory=list)  # per column: the most events side by side (its width)
    starts: list[int] = field(default_factory=list)  # per column: its first grid line (a grid column per lane)


def timetable(festival: dict, events: list[dict], stage_list: list[dict], flagged: dict) -> list[TimetableDay]:
    """One grid per local day (an event past midnight stays on the day it starts), a column per stage in
    the festival's order (the same columns every day), 5-minute rows in real time (a day with a clock
    change has an hour more or less). Events overlapping on a stage share its column side by side."""
    zone = zone_of(festival)
    timed = [event for event in events if event["event_end"] > event["event_start"] > 0]
    columns = {stage["id"]: index for index, stage in enumerate(stage_list)}
    no_stage = len(stage_list)
    by_day: dict[date, list[dict]] = {}
    for event in timed:
        by_day.setdefault(local(event["event_start"], zone).date(), []).append(event)
    for day in _empty_days(festival, zone) if stage_list else []:  # slots to click on before the first event
        by_day.setdefault(day, [])
    days = []
    for day, day_events in sorted(by_day.items()):
        if day_events:
            first = local(min(e["event_start"] for e in day_events), zone).replace(minute=0, second=0, microsecond=0)
            end = max(e["event_end"] for e in day_events)
        else:  # an afternoon and evening (from the festival's start on its first day)
            opens = local(festival["festival_start"], zone)
            first = datetime.combine(day, time(opens.hour if opens.date() == day else EMPTY_DAY_FROM), zone)
            end = int(first.timestamp()) + 8 * 3600
        start = int(first.timestamp())
        rows = max(12, -(-(end - start) // SLOT)) + 12  # an empty hour after the last act: room for the next
        table = TimetableDay(day, describe_day(day), start, rows)
        seen_hours = set()
        for row in range(rows):
            moment = local(start + row * SLOT, zone)
            if moment.minute == 0 and (moment.hour, moment.utcoffset()) not in seen_hours:
                seen_hours.add((moment.hour, moment.utcoffset()))
                table.hours.append((row, moment.strftime("%H:%M")))
        for event in day_events:
            located = event["include"]["location"]
            column = columns.get(located[0]["location_id"], no_stage) if located else no_stage
            table.cells.append(
                {
                    "event": event,
                    "column": column,
                    "row": (event["event_start"] - start) // SLOT,
                    "span": max(1, -(-(event["event_end"] - event["event_start"]) // SLOT)),
                    "warnings": flagged.get(event["event_id"], []),
                }
            )
        _lanes(table.cells)
        table.widths = [1] * (len(stage_list) + 1)
        for cell in table.cells:
            table.widths[cell["column"]] = max(table.widths[cell["column"]], cell["lanes"])
        _place(table)
        days.append(table)
    return days


def _place(table: TimetableDay) -> None:
    """A stage takes a grid column per lane (each at least as wide as its longest word, so names wrap between
    words); an event spans its share of its stage's lanes (all of them when nothing overlaps it)."""
    line = 2  # grid line 1 starts the time column
    for width in table.widths:
        table.starts.append(line)
        line += width
    for cell in table.cells:
        start, width = table.starts[cell["column"]], table.widths[cell["column"]]
        first = start + cell["lane"] * width // cell["lanes"]
        cell["grid_column"] = f"{first} / {start + (cell['lane'] + 1) * width // cell['lanes']}"


def _empty_days(festival: dict, zone: ZoneInfo) -> list[date]:
    """The festival's local days (at most two weeks), for a timetable to fill."""
    start, end = festival.get("festival_start") or 0, festival.get("festival_end") or 0
    if not 0 < start <= end:
        return []
    first, last = local(start, zone).date(), local(max(start, end - 1), zone).date()
    return [first + timedelta(days=n) for n in range(min((last - first).days + 1, 14))]


def _lanes(cells: list[dict]) -> None:
    """Side by side: each group of overlapping events on a column gets as many lanes as it needs at
    most at once; each event a lane (greedy, in start order)."""
    by_column: dict[int, list[dict]] = {}
    for cell in cells:
        by_column.setdefault(cell["column"], []).append(cell)
    for column_cells in by_column.values():
        column_cells.sort(key=lambda c: (c["event"]["event_start"], c["event"]["event_id"]))
        group: list[dict] = []
        lane_ends: list[int] = []
        group_end = 0
        for cell in column_cells:
            start, end = cell["event"]["event_start"], cell["event"]["event_end"]
            if group and start >= group_end:
                _close(group, len(lane_ends))
                group, lane_ends, group_end = [], [], 0
            free = next((n for n, lane_end in enumerate(lane_ends) if lane_end <= start), None)
            if free is None:
                free = len(lane_ends)
                lane_ends.append(end)
            else:
                lane_ends[free] = end
            cell["lane"] = free
            group.append(cell)
            group_end = max(group_end, end)
        if group:
            _close(group, len(lane_ends))


def _close(group: list[dict], lanes: int) -> None:
    for cell in group:
        cell["lanes"] = lanes
