"""The discovery registry's data: services report heartbeats with their Service-Key; the live set is
what reported within the expiry window."""
from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from app.db import write_transaction
from app.errors import Invalid
from app.models.base import utcnow
from app.models.services import ServiceInstance
from app.permissions import Actor, require_admin, require_service

EXPIRY = timedelta(seconds=30)  # three missed beats of the default 10 s interval


class Heartbeat(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    service: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{0,63}$")]
    host: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9.:\[\]-]{1,255}$")]
    port: Annotated[int, Field(ge=1, le=65535)]
    available: bool = True


def instance_dict(row: ServiceInstance) -> dict:
    return {"service": row.service, "host": row.host, "port": row.port, "available": row.available,
            "last_seen": row.last_seen.strftime("%Y-%m-%dT%H:%M:%SZ")}


def heartbeat(actor: Actor, data) -> dict:
    require_service(actor)
    try:
        beat = Heartbeat.model_validate(data if isinstance(data, dict) else {})
    except ValidationError as exc:
        fields = {str(e["loc"][0]) if e["loc"] else "body": e["msg"] for e in exc.errors()}
        raise Invalid("invalid heartbeat", fields) from None
    with write_transaction():
        row = ServiceInstance.get_or_none((ServiceInstance.service == beat.service)
                                          & (ServiceInstance.host == beat.host) & (ServiceInstance.port == beat.port))
        if row is None:
            row = ServiceInstance(service=beat.service, host=beat.host, port=beat.port)
        row.available, row.last_seen, row.key_id = beat.available, utcnow(), actor.key_id
        row.save()
    return instance_dict(row)


def live(actor: Actor) -> list[dict]:
    require_admin(actor, "list services")
    rows = (ServiceInstance.select().where(ServiceInstance.last_seen > utcnow() - EXPIRY)
            .order_by(ServiceInstance.service, ServiceInstance.host, ServiceInstance.port))
    return [instance_dict(row) for row in rows]
