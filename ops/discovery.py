"""Service-to-service routes: heartbeats with a Service-Key (the only routes that accept one)."""
from __future__ import annotations

from flask import Blueprint, request

from app.errors import Unauthorized
from app.permissions import Actor
from app.requests import json_body
from app.responses import data_response
from app.services import api_keys, discovery
from identity.principal import actor_from_token, bearer_token

bp = Blueprint("discovery", __name__, url_prefix="/loversear")


def service_actor() -> Actor:
    key = request.headers.get("Service-Key", "")
    row = api_keys.verify_key(key, "service") if key else None
    if row is None:
        raise Unauthorized("a valid Service-Key is required")
    return Actor("service", key_id=row.id)


@bp.post("")
def heartbeat():
    actor = service_actor()
    body = json_body()
    return data_response([discovery.heartbeat(actor, body)])


@bp.get("")
def live_services():
    token = bearer_token()
    if token is None:
        raise Unauthorized("a Bearer token is required")
    return data_response(discovery.live(actor_from_token(token)))
