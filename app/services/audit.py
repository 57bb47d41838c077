from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import orjson
from peewee import JOIN, fn

from app.models import AuditEntry, User
from app.permissions import Actor, require_admin


def record(actor: Actor, entity: str, entity_id: int | None, action: str, details: dict | None = None) -> None:
    """Write an audit row; call inside the transaction of the change it describes."""
    AuditEntry.create(
        actor_id=actor.user_id if actor.user_id is not None else actor.key_id,
        actor_kind=actor.kind,
        entity=entity,
        entity_id=entity_id,
        action=action,
        details=orjson.dumps(details or {}).decode(),
    )


@dataclass(frozen=True)
class AuditFilter:
    """What the audit log is narrowed to: the acting user (id or email), the entity, a time span
    [since, until) in naive UTC. None means no restriction."""

    actor_id: int | None = None
    actor_email: str | None = None
    entity: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def _require_admin(actor: Actor) -> None:
    require_admin(actor, "read the audit log")


def list_entries(
    actor: Actor, filters: AuditFilter = AuditFilter(), limit: int = 50, offset: int = 0
) -> tuple[list[dict], int]:
    """A page of the audit log, newest first, with the acting user's email (one joined query for the
    page, one for the total)."""
    _require_admin(actor)
    acting = (AuditEntry.actor_id == User.id) & (AuditEntry.actor_kind == "user")
    query = AuditEntry.select(AuditEntry, User.email.alias("actor_email")).join(User, JOIN.LEFT_OUTER, on=acting)
    where = []
    if filters.actor_id is not None:
        where.append((AuditEntry.actor_id == filters.actor_id) & (AuditEntry.actor_kind == "user"))
    if filters.actor_email:
        where.append(User.email == filters.actor_email.strip().lower())
    if filters.entity:
        where.append(AuditEntry.entity == filters.entity)
    if filters.since is not None:
        where.append(AuditEntry.at >= filters.since)
    if filters.until is not None:
        where.append(AuditEntry.at < filters.until)
    if where:
        query = query.where(*where)
    total = query.count()
    rows = query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit).offset(offset).dicts()
    entries = []
    for row in rows:
        try:
            row["details"] = orjson.loads(row["details"] or "{}")
        except orjson.JSONDecodeError:
            pass  # shown as stored
        entries.append(row)
    return entries, total


def entity_names(actor: Actor) -> list[str]:
    """The entity kinds the log holds (for a filter's choices)."""
    _require_admin(actor)
    query = AuditEntry.select(AuditEntry.entity).distinct().order_by(AuditEntry.entity)
    return [row[0] for row in query.tuples()]


def last_logins(actor: Actor, user_ids: list[int]) -> dict[int, datetime]:
    """The latest successful login of each of these users, from the log (one grouped query)."""
    _require_admin(actor)
    if not user_ids:
        return {}
    query = (
        AuditEntry.select(AuditEntry.entity_id, fn.MAX(AuditEntry.at))
        .where(
            (AuditEntry.entity == "user") & (AuditEntry.action == "login") & AuditEntry.entity_id.in_(list(user_ids))
        )
        .group_by(AuditEntry.entity_id)
    )
    return {user_id: _as_datetime(at) for user_id, at in query.tuples()}


def _as_datetime(value) -> datetime:
    """MAX() on SQLite answers the stored text, not a datetime."""
    if isinstance(value, str):
        return datetime.fromisoformat(value)
    return value
