"""Undo of the last change to a festival's events (a move, an edit, a delete, an import) for a short while
after it. The change runs through `recorded`, which keeps, in the change's transaction, the events it touched as
they were before (fields and links) and their versions right after; each user has one step, the newest.
`undo` puts them back in one transaction with an audit row ("Undid the edit of …"): changed events get their
old fields and links, deleted ones come back with their id, added ones go. It refuses, changing nothing, when
any of those events changed since (by anyone), when the while is over, or when the step is someone else's."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

import orjson

from app.db import write_transaction
from app.errors import Conflict, Invalid
from app.models import Artist, Event, Image, Location, UndoStep, Video
from app.models.base import utcnow
from app.models.relations import EventArtist, EventImage, EventLocation, EventVideo, FestivalEvent
from app.permissions import Actor
from app.registry import ENTITIES
from app.services import audit, festivals, writes

WINDOW = timedelta(minutes=2)  # the portal offers it for a minute; a slow click still counts
LINKS = {"artist": (EventArtist, Artist), "location": (EventLocation, Location), "image": (EventImage, Image)}
LINKS["video"] = (EventVideo, Video)
FIELDS = [f for f in Event._meta.sorted_fields if f.name not in ("id", "version", "created", "owner")]
T = TypeVar("T")


def _snapshot(event_ids: list[int]) -> dict[int, dict]:
    """id → the event's fields, owner, created, version and linked ids (one query per relation table)."""
    snaps = {
        row.id: {
            "fields": {field.name: getattr(row, field.name) for field in FIELDS},
            "owner": row.owner_id,
            "created": row.created.isoformat(),
            "version": writes.version_token(row.version),
            "links": {kind: [] for kind in LINKS},
        }
        for row in Event.select().where(Event.id.in_(event_ids))
    }
    for kind, (table, _) in LINKS.items():
        for owner_id, related_id in table.select(table.owner, table.related).where(table.owner.in_(event_ids)).tuples():
            snaps[owner_id]["links"][kind].append(related_id)
    return snaps


def _versions(event_ids: list[int]) -> dict[int, str]:
    rows = Event.select(Event.id, Event.version).where(Event.id.in_(event_ids))
    return {row.id: writes.version_token(row.version) for row in rows}


def recorded(actor: Actor, festival_id: int, label: str, change: Callable[[], T]) -> tuple[T, int | None]:
    """Run `change` (a service call that writes the festival's events) and keep what it did for `undo`, in one
    transaction: (its result, the step's id; None when it changed no event). `label` names the change in words
    ("the edit of “Opening”")."""
    with write_transaction():
        before = _snapshot(festivals.event_ids(festival_id))
        result = change()
        after = _versions(festivals.event_ids(festival_id))
        touched = {event_id: snap for event_id, snap in before.items() if after.get(event_id) != snap["version"]}
        added = [event_id for event_id in after if event_id not in before]
        if not touched and not added:
            return result, None
        UndoStep.delete().where((UndoStep.user_id == actor.user_id) | (UndoStep.at < utcnow() - WINDOW)).execute()
        state = {"before": touched, "after": {event_id: after.get(event_id) for event_id in [*touched, *added]}}
        stored = orjson.dumps(state, option=orjson.OPT_NON_STR_KEYS).decode()
        step = UndoStep.create(user_id=actor.user_id, festival_id=festival_id, label=label, state=stored)
    return result, step.id


def undo(festival_id: int, step_id: int, actor: Actor) -> str:
    """Take the step back (see the module); answers its label. Invalid when there is nothing (any more) to
    undo, Conflict when an event changed since."""
    with write_transaction():
        step = UndoStep.get_or_none(
            (UndoStep.id == step_id) & (UndoStep.user_id == actor.user_id) & (UndoStep.festival_id == festival_id)
        )
        if step is None:
            raise Invalid("there is nothing to undo: it was undone already, or a newer change took its place")
        if step.at < utcnow() - WINDOW:
            raise Invalid(
                f"{step.label} was more than {int(WINDOW.total_seconds() // 60)} minutes ago: too late to undo"
            )
        writes.require_editable("festival", festival_id, actor)
        state = orjson.loads(step.state)
        before = {int(event_id): snap for event_id, snap in state["before"].items()}
        after = {int(event_id): version for event_id, version in state["after"].items()}
        now = _versions(list(after))
        changed = [event_id for event_id, version in after.items() if now.get(event_id) != version]
        if changed:
            raise Conflict(f"{step.label} cannot be undone: {_named(changed, before)} changed after it")
        for event in Event.select().where(Event.id.in_([event_id for event_id in after if event_id not in before])):
            writes.remove(ENTITIES["event"], event)
        _restore(festival_id, before, existing=set(now))
        audit.record(actor, "festival", festival_id, "undo", {"undid": step.label, "events": sorted(after)})
        step.delete_instance()
    return step.label


def _named(event_ids: list[int], before: dict[int, dict]) -> str:
    names = [before[event_id]["fields"]["name"] for event_id in event_ids if event_id in before]
    if len(event_ids) == 1:
        return f"“{names[0]}”" if names else "the event"
    return f"{len(event_ids)} of its events"


def _restore(festival_id: int, before: dict[int, dict], existing: set[int]) -> None:
    """The events of `before` as they were: fields and links back (links to rows deleted since are left out);
    deleted ones inserted again with their id, in the festival."""
    stamp = utcnow()
    for event_id, snap in before.items():
        fields: dict[str, Any] = {getattr(Event, name): value for name, value in snap["fields"].items()}
        if event_id in existing:
            Event.update({**fields, Event.version: stamp}).where(Event.id == event_id).execute()
        else:
            created = datetime.fromisoformat(snap["created"])
            Event.insert(
                {**fields, Event.id: event_id, Event.owner: snap["owner"], Event.created: created, Event.version: stamp}
            ).execute()
            FestivalEvent.insert(owner=festival_id, related=event_id).execute()
    for kind, (table, model) in LINKS.items():
        table.delete().where(table.owner.in_(list(before))).execute()
        wanted = {related for snap in before.values() for related in snap["links"][kind]}
        alive = {row.id for row in model.select(model.id).where(model.id.in_(list(wanted)))} if wanted else set()
        rows = [(event_id, related) for event_id, snap in before.items() for related in snap["links"][kind]]
        rows = [row for row in rows if row[1] in alive]
        if rows:
            table.insert_many(rows, fields=[table.owner, table.related]).execute()
