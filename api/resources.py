"""The eight entity families of the contract: parse -> service -> serialize."""

from __future__ import annotations

import orjson
from flask import Blueprint, current_app, g, request, url_for
from werkzeug.routing import BaseConverter, ValidationError

from api.conditional import idempotency_key, precondition, with_etag
from api.params import LIST_PARAMS, parse_list_query
from api.read_cache import Rendered, cached_read, response_of
from app.errors import Invalid, ReadOnly
from app.permissions import Actor
from app.registry import BY_PLURAL, ENTITIES, EntitySpec
from app.services import idempotency, reads, relations, writes
from identity.principal import resolve_actor
from web.requests import json_body as request_body
from web.responses import data_envelope, data_response

bp = Blueprint("api", __name__, url_prefix="/api/v1")
READ_METHODS = ("GET", "HEAD", "OPTIONS")


@bp.before_request
def authenticate():
    if current_app.config["READ_ONLY"] and request.method not in READ_METHODS:
        raise ReadOnly("this server is read-only")
    g.actor = resolve_actor()


@bp.after_request
def cache_headers(response):
    response.headers["Cache-Control"] = "no-cache"
    if "Vary" in response.headers:
        response.vary.update(("Authorization", "Api-Key"))
    else:  # what that writes on an answer without Vary, without parsing and writing back a header set
        response.headers["Vary"] = "Authorization, Api-Key"
    if request.method == "GET" and response.status_code == 200 and response.get_etag()[0] is None:
        response.add_etag()  # reads without data versions: hashed from the body
        response.make_conditional(request)
    return response


class EntityConverter(BaseConverter):
    """`/festivals` -> the festival EntitySpec; an unknown collection is a 404."""

    def to_python(self, value: str) -> EntitySpec:
        if value not in BY_PLURAL:
            raise ValidationError()
        return BY_PLURAL[value]

    def to_url(self, value) -> str:
        return value.plural if isinstance(value, EntitySpec) else ENTITIES[value].plural


def json_body():
    body = request_body()
    if body is None:
        raise Invalid("the request body must be a JSON object")
    return body


def plain_read(kinds_and_viewer: tuple, read):
    """A read whose answer depends on its kinds' counters, the query and the caller's visibility only: Flask
    renders it here, and api/fast_reads.py may answer its misses, hits and 304s below Flask with `read`."""
    return cached_read(*kinds_and_viewer, lambda: response_of(read(g.actor)), params=LIST_PARAMS, plain=True, read=read)


def rendered(objects: list, tag: str | None = None) -> Rendered:
    """`objects` in data_response's envelope, as bytes."""
    return Rendered(orjson.dumps(data_envelope(objects)), "application/json", tag)


@bp.get("/<entity:spec>")
def list_entities(spec: EntitySpec):
    q = parse_list_query(spec, request.args)

    def read(actor: Actor) -> Rendered:
        return rendered(reads.list_entities(spec.name, actor, q))

    return plain_read(reads.read_scope(spec.name, g.actor, q), read)


@bp.post("/<entity:spec>")
def create_entity(spec: EntitySpec):
    key = idempotency_key(request)
    if key is None:
        status, created, replayed = 201, writes.create(spec.name, g.actor, json_body()), False
    else:
        status, created, replayed = idempotency.create_once(spec.name, g.actor, json_body(), key)
    headers = {"Location": url_for(".get_entity", spec=spec, entity_id=created[spec.key("id")])}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return with_etag(data_response([created], status, headers), created.tag)


@bp.get("/<entity:spec>/<id:entity_id>")
def get_entity(spec: EntitySpec, entity_id: int):
    q = parse_list_query(spec, request.args)

    def read(actor: Actor) -> Rendered:  # its version tag starts the ETag (the read cache appends its digest)
        objects = reads.get_entity(spec.name, entity_id, actor, q)
        return rendered(objects, objects[0].tag)

    return plain_read(reads.read_scope(spec.name, g.actor, q), read)


@bp.patch("/<entity:spec>/<id:entity_id>")
def update_entity(spec: EntitySpec, entity_id: int):
    updated = writes.update(spec.name, entity_id, g.actor, json_body(), precondition=precondition(request))
    return with_etag(data_response([updated]), updated.tag)


@bp.delete("/<entity:spec>/<id:entity_id>")
def delete_entity(spec: EntitySpec, entity_id: int):
    writes.delete(spec.name, entity_id, g.actor, precondition(request))
    return data_response([])


@bp.get("/<entity:spec>/<id:entity_id>/<segment>")
def list_related(spec: EntitySpec, entity_id: int, segment: str):
    relation = relations.relation_of(spec.name, segment)
    q = parse_list_query(ENTITIES[relation.related], request.args)

    def read(actor: Actor) -> Rendered:
        return rendered(reads.list_related(spec.name, entity_id, relation, actor, q))

    return plain_read(reads.read_scope(relation.related, g.actor, q, relation), read)


@bp.post("/<entity:spec>/<id:entity_id>/<segment>/<id:related_id>")
def link(spec: EntitySpec, entity_id: int, segment: str, related_id: int):
    relations.link(spec.name, entity_id, segment, related_id, g.actor, precondition(request))
    return data_response([])


@bp.delete("/<entity:spec>/<id:entity_id>/<segment>/<id:related_id>")
def unlink(spec: EntitySpec, entity_id: int, segment: str, related_id: int):
    relations.unlink(spec.name, entity_id, segment, related_id, g.actor, precondition(request))
    return data_response([])
