"""Linking and unlinking: to-one relations replace, to-many ignore duplicates, an event belongs to at
most one festival. Each change bumps the owner's version and writes an audit row."""
from __future__ import annotations

from peewee import IntegrityError

from app.db import write_transaction
from app.errors import Conflict, NotFound, ReadOnly
from app.models.base import utcnow
from app.permissions import Actor, require_owner, require_reader
from app.registry import ENTITIES, RelationSpec
from app.services import audit
from app.services.entities import owner_ids
from app.services.queries import require_visible


def relation_of(entity: str, segment: str) -> RelationSpec:
    relation = ENTITIES[entity].relations.get(segment)
    if relation is None:
        allowed = ", ".join(sorted(ENTITIES[entity].relations))
        raise NotFound(f"{entity} has no relation {segment!r} (known: {allowed})")
    return relation


def _writable(entity: str, segment: str) -> RelationSpec:
    relation = relation_of(entity, segment)
    if relation.read_only:
        raise ReadOnly(f"the {segment} of a {entity} is read only here; change it from the "
                       f"{relation.related}'s side")
    return relation


def _prepare(entity: str, entity_id: int, relation: RelationSpec, related_id: int, actor: Actor):
    spec, target = ENTITIES[entity], ENTITIES[relation.related]
    row = require_visible(spec, entity_id, actor)
    require_owner(actor, owner_ids(spec, row), entity)
    related = require_visible(target, related_id, actor)
    return spec, row, target, related


def link(entity: str, entity_id: int, segment: str, related_id: int, actor: Actor) -> None:
    require_reader(actor)
    relation = _writable(entity, segment)
    table, own, rel = relation.table, relation.owner_column, relation.related_column
    try:
        with write_transaction():
            spec, row, target, related = _prepare(entity, entity_id, relation, related_id, actor)
            if table.select().where((own == entity_id) & (rel == related_id)).exists():
                return  # the same pair twice is a no-op
            if target.name == "event":
                # Putting an event into a festival hands its editing to the festival's owner:
                # the caller must be allowed to edit the event too.
                require_owner(actor, owner_ids(target, related), "event")
                current = table.select(own).where(rel == related_id).first()
                if current is not None:
                    raise Conflict(f"event {related_id} already belongs to festival {current.owner_id}; "
                                   "remove it there first")
            if relation.to_one:
                table.delete().where(own == entity_id).execute()
            table.insert({own: entity_id, rel: related_id}).execute()
            spec.model.update(version=utcnow()).where(spec.model.id == entity_id).execute()
            audit.record(actor, entity, entity_id, "link",
                         {"relation": relation.segment, relation.related: related_id})
    except IntegrityError:
        raise Conflict("this link was changed at the same time; try again") from None


def unlink(entity: str, entity_id: int, segment: str, related_id: int, actor: Actor) -> None:
    require_reader(actor)
    relation = _writable(entity, segment)
    table, own, rel = relation.table, relation.owner_column, relation.related_column
    with write_transaction():
        spec, row, target, related = _prepare(entity, entity_id, relation, related_id, actor)
        removed = table.delete().where((own == entity_id) & (rel == related_id)).execute()
        if removed:
            spec.model.update(version=utcnow()).where(spec.model.id == entity_id).execute()
            audit.record(actor, entity, entity_id, "unlink",
                         {"relation": relation.segment, relation.related: related_id})
