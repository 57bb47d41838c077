"""The details an entity owns (its parts), written together with their link in one transaction: a festival's place,
links and tags (also an artist's or location's). What the portal's inline editors call.

Each is one composed write: the owner is authorized once, its version bumped once, and one audit row
(on the owner) tells the whole change, including the part created or deleted with the link."""

from __future__ import annotations

from typing import Any

from peewee import IntegrityError

from app.db import write_transaction
from app.errors import Conflict, Invalid
from app.models.base import utcnow
from app.models.tag import Tag
from app.permissions import Actor, require_creator, require_edit
from app.registry import ENTITIES
from app.serialize import from_row
from app.services import audit, relations, writes
from app.services.library import NAMED_BY
from app.services.reads import require_visible
from app.text import name_key


def create_linked(entity: str, entity_id: int, segment: str, actor: Actor, data: Any) -> dict:
    """Create a related entity (a link, a place, ...) and link it to `entity_id`; nothing is left behind
    when either step fails."""
    relation = relations.writable(entity, segment)
    target = ENTITIES[relation.related]
    try:
        with write_transaction():
            writes.require_editable(entity, entity_id, actor)
            require_creator(actor)
            values = writes.validated(target, data)
            now = utcnow()
            created = writes.insert(target, actor, values, now)
            relations.add_link(relation, entity_id, created.id)
            details = {"relation": relation.segment, target.name: created.id, "created": {target.name: sorted(values)}}
            relations.record_change(actor, entity, entity_id, "link", details, now)
    except IntegrityError:
        raise Conflict(f"a {target.name} with this name already exists") from None
    return from_row(target, created)


def part_name(entity: str, entity_id: int, segment: str, related_id: int, actor: Actor) -> str:
    """What a person calls a part of the entity (a link's URL, a tag's name), e.g. to ask before deleting it."""
    writes.require_editable(entity, entity_id, actor)
    target = ENTITIES[relations.relation_of(entity, segment).related]
    row = require_visible(target, related_id, actor)
    return getattr(row, NAMED_BY[target.name]) or f"{target.name} {related_id}"


def linked_ids(entity: str, entity_id: int, segment: str) -> list[int]:
    return relations.linked_ids(relations.relation_of(entity, segment), entity_id)


def save_to_one(entity: str, entity_id: int, segment: str, actor: Actor, data: Any) -> dict:
    """Change the entity's place (or another to-one part) in place, or create and link it."""
    with write_transaction():
        writes.require_editable(entity, entity_id, actor)
        current = linked_ids(entity, entity_id, segment)
        if not current:
            return create_linked(entity, entity_id, segment, actor, data)
        target = ENTITIES[relations.relation_of(entity, segment).related]
        part = require_visible(target, current[0], actor)
        require_edit(actor, target, part)
        values = writes.validated(target, data, writes.stored_values(target, part))
        changed = writes.apply_changes(target, part, values)
        if changed:
            audit.record(actor, target.name, part.id, "update", {"fields": sorted(changed)})
    return from_row(target, part)


def remove_linked(entity: str, entity_id: int, segment: str, related_id: int, actor: Actor, *, delete: bool) -> None:
    """Unlink a part; with `delete`, the part itself goes too (a link belongs to what it was made for)."""
    relation = relations.writable(entity, segment)
    target = ENTITIES[relation.related]
    with write_transaction():
        related = relations.authorized(entity, entity_id, relation, related_id, actor)
        if delete:
            require_edit(actor, target, related)
        removed = relations.remove_link(relation, entity_id, related_id)
        if delete:
            writes.remove(target, related)
        if removed or delete:
            details = {"relation": relation.segment, target.name: related_id, "deleted": delete}
            if removed:
                relations.record_change(actor, entity, entity_id, "unlink", details)
            else:
                audit.record(actor, entity, entity_id, "unlink", details)


def find_or_create_tag(name: str, actor: Actor, now=None) -> tuple[int, bool]:
    """(the tag's id, whether it was created now): names compare by app.text.name_key."""
    key = name_key(name.strip()) if isinstance(name, str) else ""
    if not key:
        raise Invalid("a tag needs a name", {"tag_name": "is required"})
    existing = Tag.select(Tag.id).where(Tag.name_key == key).first()
    if existing is not None:
        return existing.id, False
    require_creator(actor)
    spec = ENTITIES["tag"]
    return writes.insert(spec, actor, writes.validated(spec, {"tag_name": name.strip()}), now).id, True


def add_tag(entity: str, entity_id: int, name: str, actor: Actor) -> int:
    """Tag by name: an existing tag (names are case-insensitive) or a new one."""
    relation = relations.writable(entity, "tags")
    try:
        with write_transaction():
            writes.require_editable(entity, entity_id, actor)
            now = utcnow()
            tag_id, created = find_or_create_tag(name, actor, now)
            if relations.add_link(relation, entity_id, tag_id):
                details = {
                    "relation": relation.segment,
                    "tag": tag_id,
                    **({"created": {"tag": ["tag_name"]}} if created else {}),
                }
                relations.record_change(actor, entity, entity_id, "link", details, now)
    except IntegrityError:
        raise Conflict("a tag with this name already exists") from None
    return tag_id


def set_published(festival_id: int, published: bool, actor: Actor) -> dict:
    return writes.update("festival", festival_id, actor, {"festival_is_valid": published})
