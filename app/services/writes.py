"""Create, update and delete of the contract's entities: validation, one transaction, an audit row, and
the version bumps that let apps sync with `updated_since`. Who may do it is app/permissions.py's answer.

Each write is a checked public function (authorize, validate, transaction, audit) around unchecked inner
steps (`insert`, `apply_changes`) that composed writes (app/services/timetable.py, details.py) reuse, so
that they authorize once, bump each version once and write one audit row for the whole change."""

from __future__ import annotations

from typing import Any

from flask import current_app, has_app_context
from peewee import JOIN, IntegrityError

from app.db import contains_text, write_transaction
from app.errors import Conflict, Invalid, NotFound
from app.models import Festival, FestivalMember, User
from app.models.base import utcnow
from app.models.tag import Tag
from app.permissions import (
    Actor,
    require_admin,
    require_change,
    require_creator,
    require_delete,
    require_edit,
    require_reader,
)
from app.registry import ENTITIES, EntitySpec, canonical_relations
from app.schemas import check_time_span, validate_body
from app.serialize import from_row
from app.services import audit
from app.services.preconditions import NONE, Precondition, Saved, version_tag
from app.services.reads import require_visible
from app.text import name_key


def attrs_of(spec: EntitySpec, values: dict[str, Any]) -> dict[str, Any]:
    """JSON keys -> model attributes (`festival_name` -> `name`)."""
    prefix = spec.name + "_"
    check_file_refs(values)
    attrs = {key[len(prefix) :]: value for key, value in values.items()}
    if spec.model in (Festival, Tag) and "name" in attrs:
        attrs["name_key"] = name_key(attrs["name"])
        if not attrs["name_key"]:
            raise Invalid(
                f"invalid {spec.name}: {spec.key('name')} must have a visible character",
                {spec.key("name"): "must have a visible character"},
            )
    return attrs


def check_file_refs(values: dict[str, Any]) -> None:
    """With a file server configured (FESTIVALS_FILES_URL), an image or video must be one of its files: no
    other host's URL is stored, so no page or app is made to load media from elsewhere."""
    base = (current_app.config.get("FILES_URL") or "").rstrip("/") if has_app_context() else ""
    for entity in ("image", "video"):
        ref = values.get(f"{entity}_ref")
        if base and isinstance(ref, str) and not ref.startswith(base + "/"):
            raise Invalid(
                f"invalid {entity}: {entity}_ref must be a file on the file server ({base}/...)",
                {f"{entity}_ref": f"must be a file on the file server ({base}/...)"},
            )


def _unique_conflict(spec: EntitySpec, attrs: dict[str, Any], exclude_id: int | None) -> None:
    if "name_key" not in attrs:
        return
    key = spec.key("name")
    query = spec.model.select().where(spec.model.name_key == attrs["name_key"])
    if exclude_id is not None:
        query = query.where(spec.model.id != exclude_id)
    if query.exists():
        raise Conflict(f"a {spec.name} named {attrs['name']!r} already exists", {key: "is already taken"})


def stored_values(spec: EntitySpec, row) -> dict[str, Any]:
    return {spec.key(attr): getattr(row, attr) for attr in spec.fields}


def validated(spec: EntitySpec, data: Any, stored: dict[str, Any] | None = None) -> dict[str, Any]:
    """The body's clean values for a new row (`stored` None: required fields, defaults for the rest) or
    a change of `stored`; Invalid otherwise. Checks the fields and the start/end order together."""
    values = validate_body(spec.name, data, required=spec.required if stored is None else ())
    check_time_span(spec.name, {**(stored if stored is not None else stored_values(spec, spec.model())), **values})
    return values


def insert(spec: EntitySpec, actor: Actor, values: dict[str, Any], now=None):
    """Inner step, unchecked: the new row owned by the actor (a taken unique name is a Conflict)."""
    attrs = attrs_of(spec, values)
    _unique_conflict(spec, attrs, None)
    now = now or utcnow()
    return spec.model.create(owner=actor.user_id, version=now, created=now, **attrs)


def apply_changes(spec: EntitySpec, row, values: dict[str, Any], now=None) -> dict[str, Any]:
    """Inner step, unchecked: store the values that differ and bump the version once; returns them
    (an unchanged body — clients send whole objects — writes nothing and keeps the version)."""
    stored = stored_values(spec, row)
    check_time_span(spec.name, {**stored, **values})
    changed = {key: value for key, value in values.items() if stored.get(key) != value}
    if changed:
        attrs = attrs_of(spec, changed)
        _unique_conflict(spec, attrs, row.id)
        for attr, value in attrs.items():
            setattr(row, attr, value)
        row.version = now or utcnow()
        row.save()
    return changed


def create(entity: str, actor: Actor, data: Any) -> Saved:
    require_creator(actor)
    spec = ENTITIES[entity]
    values = validated(spec, data)
    try:
        with write_transaction():
            row = insert(spec, actor, values)
            audit.record(actor, entity, row.id, "create", {"fields": sorted(values)})
    except IntegrityError:  # a concurrent create took the name between check and insert
        raise Conflict(f"a {entity} with this name already exists") from None
    return saved(spec, row)


def saved(spec: EntitySpec, row) -> Saved:
    return Saved(from_row(spec, row), version_tag(row.version))


def editable(
    spec: EntitySpec,
    entity_id: int,
    actor: Actor,
    precondition: Precondition = NONE,
    *,
    lock: bool = True,
    deleting: bool = False,
):
    """The row, when the actor may see and change (or, `deleting`, delete) it and it is as `precondition`
    expects (412 otherwise); NotFound or Forbidden otherwise. Locked for the rest of the transaction unless
    `lock` is False (see require_visible)."""
    row = require_visible(spec, entity_id, actor, lock=lock)
    (require_delete if deleting else require_edit)(actor, spec, row)
    precondition.check(spec.name, row)
    return row


def check_version(entity: str, row, expected_version: str | None) -> None:
    """With `expected_version` (the `*_version` the editor started from), a row changed since then
    is not overwritten: Conflict instead."""
    if expected_version is not None and version_token(row.version) != expected_version:
        raise Conflict(f"this {entity} was changed by someone else after you opened it")


def update(
    entity: str,
    entity_id: int,
    actor: Actor,
    data: Any,
    *,
    expected_version: str | None = None,
    precondition: Precondition = NONE,
) -> Saved:
    require_reader(actor)
    spec = ENTITIES[entity]
    try:
        with write_transaction():
            row = editable(spec, entity_id, actor, precondition)
            check_version(entity, row, expected_version)
            values = validate_body(entity, data)
            stored = stored_values(spec, row)
            require_change(actor, spec, row, {key for key, value in values.items() if stored.get(key) != value})
            changed = apply_changes(spec, row, values)
            if changed:
                audit.record(actor, entity, row.id, "update", {"fields": sorted(changed)})
    except IntegrityError:
        raise Conflict(f"a {entity} with this name already exists") from None
    return saved(spec, row)


def version_token(version) -> str:
    """A row's version to the microsecond (the contract's `*_version` has whole seconds only): what an
    editor sends back to detect a change made in between."""
    return version.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def check(entity: str, data: Any) -> dict[str, Any]:
    """Validate a whole form's values without saving (inline validation): the clean values, or Invalid."""
    return validated(ENTITIES[entity], data)


def require_editable(entity: str, entity_id: int, actor: Actor):
    """The row, when the actor may change it (owner or admin); NotFound or Forbidden otherwise. Not locked:
    pages and exports ask this too, and must not wait for a long write of the same row."""
    require_reader(actor)
    return editable(ENTITIES[entity], entity_id, actor, lock=False)


def delete(entity: str, entity_id: int, actor: Actor, precondition: Precondition = NONE) -> None:
    require_reader(actor)
    spec = ENTITIES[entity]
    with write_transaction():
        row = editable(spec, entity_id, actor, precondition, deleting=True)
        remove(spec, row)
        audit.record(actor, entity, entity_id, "delete", deleted(row))


def deleted(row) -> dict:
    """An audit row's details for a deleted row: its name (a link: its URL), since no id leads to it any more."""
    name = getattr(row, "name", None) or getattr(row, "url", None)
    return {"name": name} if name else {}


def remove(spec: EntitySpec, row) -> None:
    """Inner step, unchecked: delete the row; what linked it changes too (versions bumped)."""
    touch_linking_owners(spec, row.id)
    row.delete_instance()  # relation rows go with it (ON DELETE CASCADE)


def touch_linking_owners(spec: EntitySpec, entity_id: int) -> None:
    """Entities that link the row about to be deleted change too: bump their versions."""
    now = utcnow()
    for owner in ENTITIES.values():
        for relation in canonical_relations(owner.name):
            if relation.read_only or relation.related != spec.name:
                continue
            linked = relation.table.select(relation.owner_column).where(relation.related_column == entity_id)
            owner.model.update(version=now).where(owner.model.id.in_(linked)).execute()


def transfer_owner(entity: str, entity_id: int, new_owner_id: int, actor: Actor) -> dict:
    """Admins hand an entity (a festival, typically) to another user."""

    require_reader(actor)
    require_admin(actor, "transfer ownership")
    spec = ENTITIES[entity]
    with write_transaction():
        row = require_visible(spec, entity_id, actor)
        user = User.get_or_none(User.id == new_owner_id)
        if user is None:
            raise NotFound(f"no user with id {new_owner_id}")
        if row.owner_id != user.id:
            previous = row.owner_id
            spec.model.update(owner=user.id).where(spec.model.id == entity_id).execute()
            if entity == "festival":  # an editor who becomes the owner is no longer listed as an editor too
                FestivalMember.delete().where(
                    (FestivalMember.festival == entity_id) & (FestivalMember.user == user.id)
                ).execute()
            audit.record(actor, entity, entity_id, "transfer", {"from": previous, "to": user.id})
    return from_row(spec, require_visible(spec, entity_id, actor))


def festivals_with_owners(
    actor: Actor, search: str | None = None, limit: int = 50, offset: int = 0, festival_id: int | None = None
) -> tuple[list[dict], int]:
    """Every festival (or the one with `festival_id`), drafts too, with its owner's email (admins
    only): one joined query for the page, one for the total."""

    require_reader(actor)
    require_admin(actor, "list every festival")
    query = Festival.select(Festival, User.email.alias("owner_email")).join(
        User, JOIN.LEFT_OUTER, on=(Festival.owner == User.id)
    )
    if search:
        query = query.where(contains_text(Festival.name, search))
    if festival_id is not None:
        query = query.where(Festival.id == festival_id)
    total = query.count()
    festivals = []
    for row in query.order_by(Festival.id.desc()).limit(limit).offset(offset).objects():
        item = from_row(ENTITIES["festival"], row)
        item["owner_id"] = row.owner_id
        item["owner_email"] = row.owner_email
        festivals.append(item)
    return festivals, total
