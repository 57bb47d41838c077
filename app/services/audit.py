from __future__ import annotations

import orjson

from app.models import AuditEntry
from app.permissions import Actor


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
