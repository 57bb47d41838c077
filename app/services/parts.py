"""The parts an entity owns, written together with their link in one transaction: a festival's place,
links and tags (also an artist's or location's). What the portal's inline editors call."""
from __future__ import annotations

from typing import Any

from app.db import write_transaction
from app.errors import Invalid
from app.models.tag import Tag, tag_key
from app.permissions import Actor
from app.services import entities, relations


def create_linked(entity: str, entity_id: int, segment: str, actor: Actor, data: Any) -> dict:
    """Create a related entity (a link, a place, ...) and link it to `entity_id`; nothing is left behind
    when either step fails."""
    relation = relations.relation_of(entity, segment)
    with write_transaction():
        entities.require_editable(entity, entity_id, actor)
        created = entities.create(relation.related, actor, data)
        relations.link(entity, entity_id, segment, created[f"{relation.related}_id"], actor)
    return created


def linked_ids(entity: str, entity_id: int, segment: str) -> list[int]:
    relation = relations.relation_of(entity, segment)
    query = relation.table.select(relation.related_column).where(relation.owner_column == entity_id)
    return [row.related_id for row in query]


def save_to_one(entity: str, entity_id: int, segment: str, actor: Actor, data: Any) -> dict:
    """Change the entity's place (or another to-one part) in place, or create and link it."""
    with write_transaction():
        entities.require_editable(entity, entity_id, actor)
        current = linked_ids(entity, entity_id, segment)
        if current:
            return entities.update(relations.relation_of(entity, segment).related, current[0], actor, data)
        return create_linked(entity, entity_id, segment, actor, data)


def remove_linked(entity: str, entity_id: int, segment: str, related_id: int, actor: Actor, *, delete: bool) -> None:
    """Unlink a part; with `delete`, the part itself goes too (a link belongs to what it was made for)."""
    with write_transaction():
        relations.unlink(entity, entity_id, segment, related_id, actor)
        if delete:
            entities.delete(relations.relation_of(entity, segment).related, related_id, actor)


def find_or_create_tag(name: str, actor: Actor) -> int:
    key = tag_key(name.strip()) if isinstance(name, str) else ""
    if not key:
        raise Invalid("a tag needs a name", {"tag_name": "is required"})
    existing = Tag.select(Tag.id).where(Tag.name_key == key).first()
    if existing is not None:
        return existing.id
    return entities.create("tag", actor, {"tag_name": name.strip()})["tag_id"]


def add_tag(entity: str, entity_id: int, name: str, actor: Actor) -> int:
    """Tag by name: an existing tag (names are case-insensitive) or a new one."""
    with write_transaction():
        entities.require_editable(entity, entity_id, actor)
        tag_id = find_or_create_tag(name, actor)
        relations.link(entity, entity_id, "tags", tag_id, actor)
    return tag_id


def set_published(festival_id: int, published: bool, actor: Actor) -> dict:
    return entities.update("festival", festival_id, actor, {"festival_is_valid": published})
