"""A festival's program as its organizer reads it: the dashboard of one's festivals, the events with their
artists and location, name suggestions; deleting events and festivals. Saving an event (with its checks) is
app/services/timetable.py's `save_event`."""

from __future__ import annotations

from peewee import JOIN, fn

from app.db import contains_text, write_transaction
from app.errors import Invalid
from app.models import Artist, Event, Festival, Location
from app.models.relations import FestivalEvent
from app.permissions import (
    Actor,
    library_of,
    my_festivals,
    own_library,
    require_creator,
    require_edit,
)
from app.registry import ENTITIES
from app.serialize import from_row
from app.services import audit, writes
from app.services.reads import ListQuery, fetch, list_entities, list_related


def dashboard(actor: Actor, limit: int = 20, offset: int = 0) -> tuple[list[dict], int]:
    """The festivals the actor owns or edits (an admin: all), newest change first, each with its event count
    and `my_role` ("editor" for one the actor edits but does not own, else None): one query for the page, one
    for the total."""
    require_creator(actor)
    query = Festival.select()
    mine = my_festivals(actor)
    if mine is not None:
        query = query.where(mine)
    total = query.count()
    events = fn.COUNT(FestivalEvent.id).alias("event_count")
    rows = (
        query.select(Festival, events)
        .join(FestivalEvent, JOIN.LEFT_OUTER, on=(FestivalEvent.owner == Festival.id))
        .group_by(Festival.id)
        .order_by(Festival.version.desc(), Festival.id.desc())
        .limit(limit)
        .offset(offset)
    )
    festivals = []
    for row in rows:
        item = from_row(ENTITIES["festival"], row)
        item["event_count"] = row.event_count
        item["my_role"] = "editor" if mine is not None and row.owner_id != actor.user_id else None
        festivals.append(item)
    return festivals, total


def festival_with_parts(festival_id: int, actor: Actor) -> tuple[dict, str]:
    """The festival for its editor, with image, video, place, links and tags; and its version token."""
    row = writes.require_editable("festival", festival_id, actor)
    spec = ENTITIES["festival"]
    include = [(name, spec.relations[name]) for name in ("image", "video", "place", "links", "tags")]
    festival = list_entities("festival", actor, ListQuery(ids=[festival_id], include=include))[0]
    return festival, writes.version_token(row.version)


def festival_to_delete(festival_id: int, actor: Actor) -> dict:
    """The festival for its delete confirmation: its owner's or an admin's (Forbidden for its editors)."""
    writes.editable(ENTITIES["festival"], festival_id, actor, lock=False, deleting=True)
    return festival_with_parts(festival_id, actor)[0]


def events_of(festival_id: int, actor: Actor) -> list[dict]:
    """The festival's events in time order, each with `include` artist, location and image."""
    writes.require_editable("festival", festival_id, actor)
    events = list_related(
        "festival", festival_id, ENTITIES["festival"].relations["events"], actor, ListQuery(include=_event_include())
    )
    return sorted(events, key=lambda event: (event["event_start"], event["event_id"]))


def _event_include() -> list:
    spec = ENTITIES["event"]
    return [(name, spec.relations[name]) for name in ("artist", "location", "image", "video")]


def member_event(festival_id: int, event_id: int):
    """The event row, which must be one of the festival's events (Invalid otherwise)."""
    event = (
        Event.select(Event)
        .join(FestivalEvent, on=(FestivalEvent.related == Event.id))
        .where((FestivalEvent.owner == festival_id) & (Event.id == event_id))
        .first()
    )
    if event is None:
        raise Invalid(f"event {event_id} is not part of festival {festival_id}")
    return event


def event_dict(event_id: int, actor: Actor) -> dict:
    return fetch(ENTITIES["event"], actor, ListQuery(ids=[event_id], include=_event_include()))[0]


def event_of(festival_id: int, event_id: int, actor: Actor) -> dict:
    """One event of the festival, with the includes of `events_of`."""
    writes.require_editable("festival", festival_id, actor)
    member_event(festival_id, event_id)
    return event_dict(event_id, actor)


def event_ids(festival_id: int) -> list[int]:
    return [
        row.related_id for row in FestivalEvent.select(FestivalEvent.related).where(FestivalEvent.owner == festival_id)
    ]


def split_names(text: str | None) -> list[str]:
    """ "A, B ,, a" → ["A", "B"]: comma-separated names, blanks and repeats (ignoring case) dropped."""
    names, seen = [], set()
    for name in (text or "").split(","):
        name = name.strip()
        if name and name.casefold() not in seen:
            seen.add(name.casefold())
            names.append(name)
    return names


def find_or_create(entity: str, names: list[str], actor: Actor, now) -> tuple[list[int], list[int]]:
    """Ids of the artists/locations with these names, in order: the actor's own one of that name (ignoring
    case), else a new one. One query for all names; returns (ids, created ids)."""
    if not names:
        return [], []
    spec = ENTITIES[entity]
    model = spec.model
    key = fn.LOWER(model.name)
    found: dict[str, int] = {}
    rows = (
        model.select(model.id, key.alias("key"))
        .where(key.in_([name.lower() for name in names]) & own_library(actor, model))
        .order_by(model.id)
    )
    for row in rows:
        found.setdefault(row.key, row.id)
    ids, created = [], []
    for name in names:
        if name.lower() not in found:
            row = writes.insert(spec, actor, writes.validated(spec, {f"{entity}_name": name}), now)
            found[name.lower()] = row.id
            created.append(row.id)
        ids.append(found[name.lower()])
    return ids, created


def delete_event(festival_id: int, event_id: int, actor: Actor) -> None:
    with write_transaction():
        writes.require_editable("festival", festival_id, actor)
        event = member_event(festival_id, event_id)
        require_edit(actor, ENTITIES["event"], event)
        writes.remove(ENTITIES["event"], event)
        audit.record(actor, "event", event_id, "delete", writes.deleted(event))


def delete_festival(festival_id: int, actor: Actor) -> None:
    """The portal's delete: the festival and its events, in one transaction (an event belongs to one festival,
    and without it nothing leads to it). The API's DELETE keeps the contract's rule: relation rows only."""
    with write_transaction():
        festival = writes.editable(ENTITIES["festival"], festival_id, actor, deleting=True)
        for event in Event.select().where(Event.id.in_(event_ids(festival_id))):
            writes.remove(ENTITIES["event"], event)
            audit.record(actor, "event", event.id, "delete", writes.deleted(event))
        writes.remove(ENTITIES["festival"], festival)
        audit.record(actor, "festival", festival_id, "delete", writes.deleted(festival))


def name_suggestions(entity: str, text: str, actor: Actor, festival_id: int, limit: int = 10) -> list[str]:
    """Names of artists or locations containing `text`, for search-as-you-type in an event of the festival:
    from the library the event's names will resolve in (the festival owner's, also for an editor or admin)."""
    festival = writes.editable(ENTITIES["festival"], festival_id, actor, lock=False)
    if entity not in ("artist", "location") or not text.strip():
        return []
    model = {"artist": Artist, "location": Location}[entity]
    library = library_of(actor, festival.owner_id)
    query = model.select(model.name).where(contains_text(model.name, text.strip()) & own_library(library, model))
    query = query.distinct()
    return [row.name for row in query.order_by(model.name).limit(limit)]
