"""Linking and unlinking: to-one relations replace, to-many ignore duplicates, an event belongs to at
most one festival. Each change bumps the owner's version and writes an audit row; who may link is
app/permissions.py's `require_link`.

The public `link`/`unlink` check; the inner steps (`add_link`, `set_links`) do not, for composed writes."""

from __future__ import annotations

from peewee import IntegrityError

from app.db import write_transaction
from app.errors import Conflict, NotFound, ReadOnly
from app.models.base import utcnow
from app.permissions import Actor, require_link, require_reader
from app.registry import ENTITIES, RelationSpec
from app.services import audit
from app.services.preconditions import NONE, Precondition
from app.services.reads import require_visible


def relation_of(entity: str, segment: str) -> RelationSpec:
    relation = ENTITIES[entity].relations.get(segment)
    if relation is None:
        allowed = ", ".join(sorted(ENTITIES[entity].relations))
        raise NotFound(f"{entity} has no relation {segment!r} (known: {allowed})")
    return relation


def writable(entity: str, segment: str) -> RelationSpec:
    relation = relation_of(entity, segment)
    if relation.read_only:
        raise ReadOnly(f"the {segment} of a {entity} is read only here; change it from the {relation.related}'s side")
    return relation


def authorized(entity: str, entity_id: int, relation: RelationSpec, related_id: int, actor: Actor, precondition=NONE):
    """Both rows visible, the link allowed (app/permissions.py) and the owning row as `precondition` expects
    (If-Match on `{id}`); returns the related row."""
    spec, target = ENTITIES[entity], ENTITIES[relation.related]
    row = require_visible(spec, entity_id, actor, lock=True)
    related = require_link(actor, spec, row, target, lambda: require_visible(target, related_id, actor))
    precondition.check(entity, row)
    return related


def linked_ids(relation: RelationSpec, owner_id: int) -> list[int]:
    query = relation.table.select(relation.related_column).where(relation.owner_column == owner_id)
    return [row.related_id for row in query]


def add_link(relation: RelationSpec, owner_id: int, related_id: int) -> bool:
    """Inner step, unchecked: link the pair (a to-one relation replaces); False when already linked."""
    table, own, rel = relation.table, relation.owner_column, relation.related_column
    if table.select().where((own == owner_id) & (rel == related_id)).exists():
        return False  # the same pair twice is a no-op
    if relation.related == "event":
        current = table.select(own).where(rel == related_id).first()
        if current is not None:
            raise Conflict(f"event {related_id} already belongs to festival {current.owner_id}; remove it there first")
    if relation.to_one:
        table.delete().where(own == owner_id).execute()
    table.insert({own: owner_id, rel: related_id}).execute()
    return True


def remove_link(relation: RelationSpec, owner_id: int, related_id: int) -> bool:
    """Inner step, unchecked: unlink the pair; False when it was not linked."""
    own, rel = relation.owner_column, relation.related_column
    return bool(relation.table.delete().where((own == owner_id) & (rel == related_id)).execute())


def set_links(relation: RelationSpec, owner_id: int, wanted: list[int], current: list[int] | None = None) -> bool:
    """Inner step, unchecked: link exactly `wanted` (`current`: what is linked now, when known), in one
    delete and one insert at most; True when anything changed."""
    table, own, rel = relation.table, relation.owner_column, relation.related_column
    current = linked_ids(relation, owner_id) if current is None else current
    wanted = list(dict.fromkeys(wanted))
    removed = [related_id for related_id in current if related_id not in wanted]
    added = [related_id for related_id in wanted if related_id not in current]
    if removed:
        table.delete().where((own == owner_id) & rel.in_(removed)).execute()
    if added:
        table.insert_many([{own: owner_id, rel: related_id} for related_id in added]).execute()
    return bool(removed or added)


def bump_version(entity: str, entity_id: int, now=None) -> None:
    model = ENTITIES[entity].model
    model.update(version=now or utcnow()).where(model.id == entity_id).execute()


def record_change(actor: Actor, entity: str, entity_id: int, action: str, details: dict, now=None) -> None:
    """After a link or unlink: the owning side's version moves (its readers see the change) and one audit
    row says what changed."""
    bump_version(entity, entity_id, now)
    audit.record(actor, entity, entity_id, action, details)


def link(
    entity: str, entity_id: int, segment: str, related_id: int, actor: Actor, precondition: Precondition = NONE
) -> None:
    require_reader(actor)
    relation = writable(entity, segment)
    try:
        with write_transaction():
            authorized(entity, entity_id, relation, related_id, actor, precondition)
            if add_link(relation, entity_id, related_id):
                details = {"relation": relation.segment, relation.related: related_id}
                record_change(actor, entity, entity_id, "link", details)
    except IntegrityError:
        raise Conflict("this link was changed at the same time; try again") from None


def unlink(
    entity: str, entity_id: int, segment: str, related_id: int, actor: Actor, precondition: Precondition = NONE
) -> None:
    require_reader(actor)
    relation = writable(entity, segment)
    with write_transaction():
        authorized(entity, entity_id, relation, related_id, actor, precondition)
        if remove_link(relation, entity_id, related_id):
            details = {"relation": relation.segment, relation.related: related_id}
            record_change(actor, entity, entity_id, "unlink", details)
