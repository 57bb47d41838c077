from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import orjson
from peewee import JOIN, fn

from app.models import AuditEntry, User
from app.permissions import Actor, require_admin
from app.registry import ENTITIES
from app.services.library import NAMED_BY


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


# --- the log in words ----------------------------------------------------------------------------------------

ACTIONS = {  # what an action says when its details add nothing
    "create": "created",
    "delete": "deleted",
    "password": "changed the password",
    "password_reset": "set a new password with a reset link",
    "suspend": "suspended",
    "unsuspend": "unsuspended",
    "reset_link": "made a password reset link",
    "signup_existing": "signed up again with a registered address",
    "login_failed": "login failed",
    "refresh_revoked": "ended a login",
    "revoke": "revoked",
}
MEMBER_ACTIONS = {  # a festival's members (app/services/members.py): `member` the account, `role` its role
    "member_add": "added {who} as {role}",
    "member_remove": "removed {who} ({role})",
    "member_leave": "left as {role}: {who}",
}


def _ids(value) -> list[int]:
    if isinstance(value, bool):
        return []
    if isinstance(value, int):
        return [value]
    return (
        [item for item in value if isinstance(item, int) and not isinstance(item, bool)]
        if isinstance(value, list)
        else []
    )


def _names(entries: list[dict]) -> dict[tuple[str, int], str]:
    """(kind, id) → how a person knows it, for every entity an entry or its details name: one query per kind."""

    wanted: dict[str, set[int]] = {}
    for entry in entries:
        if entry["entity_id"] is not None:
            wanted.setdefault(entry["entity"], set()).add(entry["entity_id"])
        details = entry["details"] if isinstance(entry["details"], dict) else {}
        for key, value in details.items():
            if key in NAMED_BY:
                wanted.setdefault(key, set()).update(_ids(value))
        for kind, value in (details.get("created") or {}).items():
            wanted.setdefault(kind, set()).update(_ids(value))
        if entry["action"] == "stage_order":
            wanted.setdefault("location", set()).update(_ids(details.get("stages")))
        if entry["action"] in MEMBER_ACTIONS:
            wanted.setdefault("user", set()).update(_ids(details.get("member")))
        if entry["action"] in ("transfer", "create") and entry["entity"] != "user":
            wanted.setdefault("user", set()).update(_ids(details.get("from")) + _ids(details.get("to")))
    names: dict[tuple[str, int], str] = {}
    for kind, ids in wanted.items():
        if kind == "user":
            rows = User.select(User.id, User.email).where(User.id.in_(list(ids))).tuples()
        elif kind in NAMED_BY and kind in ENTITIES:
            model = ENTITIES[kind].model
            rows = model.select(model.id, getattr(model, NAMED_BY[kind])).where(model.id.in_(list(ids))).tuples()
        else:
            continue
        names.update({(kind, row_id): name for row_id, name in rows if name})
    # Deleted since: the name their delete recorded (one query, also when nothing is gone: a page's cost is fixed).
    gone = {
        (kind, row_id)
        for kind, ids in wanted.items()
        if kind != "user"
        for row_id in ids
        if (kind, row_id) not in names
    }
    deletes = AuditEntry.select(AuditEntry.entity, AuditEntry.entity_id, AuditEntry.details).where(
        (AuditEntry.action == "delete") & AuditEntry.entity_id.in_(sorted({row_id for _, row_id in gone}))
    )
    for kind, row_id, details in deletes.tuples():
        name = orjson.loads(details or "{}").get("name") if (kind, row_id) in gone else None
        if isinstance(name, str) and name:
            names[(kind, row_id)] = name
    return names


FIELD_WORDS = {
    "is_valid": "published",
    "has_timeslot": "timeslot",
    "is_scheduled": "scheduled",
    "lat": "latitude",
    "lon": "longitude",
    "ref": "file",
    "hash": "file",
}


def _field(entity: str, key: str) -> str:
    name = key.removeprefix(f"{entity}_")
    return FIELD_WORDS.get(name, name.replace("_", " "))


def _describe(entry: dict, names: dict[tuple[str, int], str]) -> tuple[str, str]:
    """(what the entry is about, what happened) in words: names instead of ids, field names instead of keys."""

    entity, action = entry["entity"], entry["action"]
    details = entry["details"] if isinstance(entry["details"], dict) else {}

    def called(kind: str, item_id: int) -> str:
        name = names.get((kind, item_id))
        if name is None and (kind, item_id) == (entity, entry["entity_id"]):  # a deleted event, a key
            name = details.get("name") or (details["prefix"] + "…" if details.get("prefix") else None)
        label = kind.replace("_", " ")  # "api key 3"
        return f"{label} “{name}”" if name else f"{label} {item_id}"  # deleted (or unnamed): its id

    what = entity.replace("_", " ") if entry["entity_id"] is None else called(entity, entry["entity_id"])
    parts: list[str] = []
    fields = [_field(entity, key) for key in details.get("fields") or []]
    if action == "create":
        parts.append("created" + (f" with {', '.join(fields)}" if fields else ""))
    elif action == "update":
        parts.append("changed " + (", ".join(fields) if fields else "its links"))
    elif action in ("link", "unlink"):
        kind = next((key for key in details if key in NAMED_BY), None)
        target = ", ".join(called(kind, item_id) for item_id in _ids(details.get(kind))) if kind else ""
        verb = "added" if action == "link" else "removed"
        made = any(isinstance(value, str) for value in (details.get("created") or {}).get(kind) or [])
        parts.append(f"{verb} {target or details.get('relation', '')}{' (new)' if made else ''}".strip())
        if details.get("deleted"):
            parts.append("and deleted it")
    elif action in ("transfer", "role") and ("from" in details or "to" in details):
        if action == "role":
            parts.append(f"role changed from {details.get('from')} to {details.get('to')}")
        else:
            parts.append(
                f"handed from {names.get(('user', details.get('from')), 'nobody')} to "
                f"{names.get(('user', details.get('to')), details.get('to'))}"
            )
    elif action == "login":
        parts.append(f"logged in ({details.get('via', 'unknown')})")
    elif action == "stage_order":
        stages = ", ".join(f"“{names.get(('location', i), i)}”" for i in _ids(details.get("stages")))
        parts.append(f"stages in this order: {stages or 'none'}")
    elif action == "zone_change":
        parts.append(f"time zone {details.get('from')} → {details.get('to')}; the events kept their local times")
    elif action in MEMBER_ACTIONS:
        who = names.get(("user", details.get("member"))) or details.get("email") or f"user {details.get('member')}"
        parts.append(MEMBER_ACTIONS[action].format(who=who, role=details.get("role", "editor")))
    elif action == "undo":
        parts.append(f"undid {details.get('undid', 'a change')}")
    elif action == "shift_events":
        shifted = len(_ids(details.get("events")))
        parts.append(f"shifted {shifted} event{'' if shifted == 1 else 's'} by {details.get('minutes')} minutes")
    elif action == "import":
        counts = ", ".join(f"{details.get(key, 0)} {key}" for key in ("new", "changed", "unchanged", "error"))
        parts.append(f"imported a file of {details.get('rows', 0)} rows: {counts.replace('error', 'with errors')}")
    else:
        parts.append(ACTIONS.get(action, action.replace("_", " ")))
    if entity == "event" and action in ("create", "update"):
        for kind, label in (("artist", "artists"), ("location", "location")):
            if kind in details:
                listed = ", ".join(f"“{names.get((kind, i), i)}”" for i in _ids(details[kind])) or "none"
                parts.append(f"{label}: {listed}")
        if details.get("festival"):
            parts.append(f"in {called('festival', details['festival'])}")
    created = [
        called(kind, item_id)
        for kind, value in (details.get("created") or {}).items()
        if kind != entity or action not in ("create",)
        for item_id in _ids(value)
    ]
    if created:
        parts.append("new: " + ", ".join(created))
    shown = {"fields", "relation", "deleted", "created", "festival", "artist", "location", "from", "to", "via", "name"}
    shown |= {"undid", "events", "minutes", "prefix"}
    if action in MEMBER_ACTIONS:
        shown |= {"member", "email", "role"}
    rest = [
        f"{key.replace('_', ' ')}: {value}"
        for key, value in details.items()
        if key not in shown and key not in NAMED_BY
    ]
    if rest:
        parts.append("; ".join(rest))
    change = "; ".join(part for part in parts if part)
    return what, change[:1].upper() + change[1:]


def in_words(actor: Actor, entries: list[dict]) -> list[dict]:
    """The entries with `what` (the entity by name) and `change` (what happened, in words) added."""
    _require_admin(actor)
    names = _names(entries)
    for entry in entries:
        entry["what"], entry["change"] = _describe(entry, names)
    return entries
