"""Reads of the contract's entities: filters, paging and batched includes; which drafts a caller sees is
app/permissions.py's `visible` condition.

A list costs one query for its rows plus one per requested include, whatever the number of rows:
includes select the related rows of the whole page at once (the page's ids as a subquery)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from app.db import contains_text, db
from app.errors import NotFound
from app.models import Festival
from app.permissions import Actor, require_reader, visible
from app.registry import ENTITIES, EntitySpec, RelationSpec
from app.serialize import columns, raw_converter


@dataclass
class ListQuery:
    name: str | None = None
    ids: list[int] | None = None
    include: list[tuple[str, RelationSpec]] = field(default_factory=list)  # (key as sent, relation)
    limit: int | None = None
    offset: int = 0
    updated_since: datetime | None = None
    valid: bool | None = None


def conditions(spec: EntitySpec, actor: Actor, q: ListQuery) -> list:
    model = spec.model
    where = []
    rule = visible(spec, actor)
    if rule is not None:
        where.append(rule)
    if q.name is not None:
        where.append(contains_text(model.name, q.name))
    if q.ids is not None:
        where.append(model.id.in_(q.ids))
    if q.updated_since is not None:
        where.append(model.version > q.updated_since)
    if q.valid is not None and spec.name == "festival":
        where.append(Festival.is_valid == q.valid)
    return where


def select(spec: EntitySpec, fields: list, where: list, q: ListQuery, via=None):
    """`via` = (relation, owner id): only rows linked to that owner through the relation."""
    query = spec.model.select(*fields)
    if via is not None:
        relation, owner_id = via
        query = (query.join(relation.table, on=(relation.related_column == spec.model.id))
                 .where(relation.owner_column == owner_id))
    if where:
        query = query.where(*where)
    query = query.order_by(spec.model.id)
    if q.limit is not None or q.offset:
        query = query.limit(q.limit).offset(q.offset or None)  # peewee writes LIMIT -1 / ALL per dialect
    return query


def fetch(spec: EntitySpec, actor: Actor, q: ListQuery, via=None) -> list[dict]:
    where = conditions(spec, actor, q)
    convert = raw_converter(spec)
    objects = [convert(row) for row in db.execute(select(spec, columns(spec), where, q, via))]
    if q.include and objects:
        page_ids = select(spec, [spec.model.id], where, q, via)
        attach_includes(spec, objects, page_ids, q.include, actor)
    return objects


def attach_includes(spec: EntitySpec, objects: list[dict], page_ids, include, actor: Actor) -> None:
    id_key = spec.key("id")
    by_id = {obj[id_key]: obj for obj in objects}
    for obj in objects:
        obj["include"] = {key: [] for key, _ in include}
    fetched: dict[RelationSpec, dict[int, list[dict]]] = {}
    for key, relation in include:
        if relation not in fetched:  # `link` and `links` in one request: one query
            fetched[relation] = related_of_many(relation, page_ids, actor)
        for owner_id, related in fetched[relation].items():
            if owner_id in by_id:
                by_id[owner_id]["include"][key] = related


def related_of_many(relation: RelationSpec, owner_ids, actor: Actor) -> dict[int, list[dict]]:
    target = ENTITIES[relation.related]
    query = (target.model.select(relation.owner_column.alias("_owner"), *columns(target))
             .join(relation.table, on=(relation.related_column == target.model.id))
             .where(relation.owner_column.in_(owner_ids)))
    rule = visible(target, actor)
    if rule is not None:
        query = query.where(rule)
    grouped: dict[int, list[dict]] = {}
    convert = raw_converter(target)
    for row in db.execute(query.order_by(target.model.id)):
        grouped.setdefault(row[0], []).append(convert(row[1:]))
    return grouped


def require_visible(spec: EntitySpec, entity_id: int, actor: Actor):
    """The row, or NotFound when it does not exist or is a draft the actor may not see."""
    query = spec.model.select().where(spec.model.id == entity_id)
    rule = visible(spec, actor)
    if rule is not None:
        query = query.where(rule)
    row = query.first()
    if row is None:
        raise NotFound(f"no {spec.name} with id {entity_id}")
    return row


def list_entities(entity: str, actor: Actor, q: ListQuery) -> list[dict]:
    require_reader(actor)
    return fetch(ENTITIES[entity], actor, q)


def get_entity(entity: str, entity_id: int, actor: Actor, q: ListQuery) -> list[dict]:
    require_reader(actor)
    spec = ENTITIES[entity]
    objects = fetch(spec, actor, ListQuery(ids=[entity_id], include=q.include))
    if not objects:
        raise NotFound(f"no {entity} with id {entity_id}")
    return objects


def list_related(entity: str, entity_id: int, relation: RelationSpec, actor: Actor, q: ListQuery) -> list[dict]:
    require_reader(actor)
    require_visible(ENTITIES[entity], entity_id, actor)
    return fetch(ENTITIES[relation.related], actor, q, via=(relation, entity_id))
