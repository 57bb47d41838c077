"""An organizer's library in the portal: their own artists, locations, links and tags (an admin's: everyone's,
filtered by owner). Whose rows are listed is app/permissions.py's `library_rows`."""

from __future__ import annotations

from peewee import JOIN

from app.db import contains_text
from app.models import User
from app.permissions import Actor, library_rows, require_reader
from app.registry import ENTITIES
from app.serialize import columns, raw_converter

# The attribute a person knows each kind by (shown, searched, named in questions and the audit log).
NAMED_BY = {
    "festival": "name",
    "event": "name",
    "artist": "name",
    "location": "name",
    "tag": "name",
    "link": "url",
    "place": "town",
    "image": "comment",
}
LABELS = {kind: NAMED_BY[kind] for kind in ("artist", "location", "link", "tag")}  # the library's kinds


def rows(
    entity: str, actor: Actor, search: str = "", owner_id: int | None = None, limit: int = 20, offset: int = 0
) -> list[dict]:
    """A page of the library, by label; each row also names its owner (`owner_id`, `owner_email`)."""
    require_reader(actor)
    spec = ENTITIES[entity]
    model = spec.model
    label = getattr(model, LABELS[entity])
    query = model.select(*columns(spec), model.owner, User.email).join(
        User, JOIN.LEFT_OUTER, on=(model.owner == User.id)
    )
    where = [condition for condition in (library_rows(actor, model, owner_id),) if condition is not None]
    if search:
        where.append(contains_text(label, search))
    if where:
        query = query.where(*where)
    found, convert = [], raw_converter(spec)
    for row in query.order_by(label, model.id).limit(limit).offset(offset).tuples():
        item = convert(row[: len(spec.fields)])
        item["owner_id"], item["owner_email"] = row[len(spec.fields) :]
        found.append(item)
    return found


def owners(entity: str, actor: Actor) -> list[tuple[int, str]]:
    """(id, email) of everyone with rows of this kind, for an admin's owner filter; [] for others."""
    if not actor.is_admin:
        return []
    model = ENTITIES[entity].model
    owning = model.select(model.owner).where(model.owner.is_null(False)).distinct()
    users = User.select(User.id, User.email).where(User.id.in_(owning)).order_by(User.email)
    return [(user.id, user.email) for user in users]
