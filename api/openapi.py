"""The OpenAPI 3.1 document, built from the registry and from the pydantic models that validate the
bodies: what the docs say is what the server checks.

Why not spectree or flask-openapi3: both wrap routing and answer validation errors in their own
format, while the contract fixes our envelope and per-field messages; pydantic's own JSON Schema
output plus this page of assembly keeps one source of truth without a second framework."""

from __future__ import annotations

from functools import lru_cache

from peewee import BigIntegerField, BooleanField, DoubleField, IntegerField

from api import exports
from app.registry import ENTITIES, canonical_relations
from app.schemas import BODIES

REF = "#/components/schemas/{model}"


def _type_of(field) -> dict:
    if isinstance(field, BooleanField):
        return {"type": "boolean"}
    if isinstance(field, DoubleField):
        return {"type": "number"}
    if isinstance(field, (IntegerField, BigIntegerField)) or field.field_type == "AUTO":
        return {"type": "integer"}
    return {"type": "string"}


def _output_schema(spec) -> dict:
    props = {}
    for attr in spec.fields:
        field = getattr(spec.model, attr)
        props[spec.key(attr)] = {"type": "string", "format": "date-time"} if attr == "version" else _type_of(field)
    props["include"] = {
        "type": "object",
        "description": "present when include= was requested",
        "additionalProperties": {"type": "array", "items": {"type": "object"}},
    }
    return {"type": "object", "properties": props, "required": [spec.key(a) for a in spec.fields]}


def _envelope(name: str) -> dict:
    return {
        "type": "object",
        "required": ["data"],
        "properties": {"data": {"type": "array", "items": {"$ref": REF.format(model=name)}}},
    }


ERRORS = {
    "400": "bad input: a query parameter, the body or a header (the envelope names the fields)",
    "401": "no or invalid credentials",
    "403": "authenticated but not allowed (an Api-Key only reads; creating needs the creator or admin role)",
    "404": "unknown id or path, or a draft the caller may not see",
    "405": "the server is read-only (FESTIVALS_READ_ONLY)",
    "409": "a unique name is taken, or the link conflicts (an event already in another festival)",
    "412": "If-Match / If-Unmodified-Since named a version that is no longer current",
    "413": "the body is larger than 1 MiB",
    "422": "the Idempotency-Key was used with another request",
    "500": "internal error (never expected; the body has the request id)",
    "503": "the database is unavailable; try again (Retry-After)",
}
READ_ERRORS = ("400", "401", "403", "404", "500", "503")
CREATE_ERRORS = ("400", "401", "403", "405", "409", "413", "422", "500", "503")
UPDATE_ERRORS = ("400", "401", "403", "404", "405", "409", "412", "413", "500", "503")
DELETE_ERRORS = ("400", "401", "403", "404", "405", "412", "500", "503")
LINK_ERRORS = ("400", "401", "403", "404", "405", "409", "412", "500", "503")
MAX_ID = 2**31 - 1
MAX_TIME = 253402300799  # 9999-12-31T23:59:59Z


def _header(description: str, schema: dict | None = None) -> dict:
    return {"description": description, "schema": schema or {"type": "string"}}


ETAG = _header('`"<version tag>.<digest>"` of an object, `"<digest>"` of a list; If-Match takes it')
WRITE_ETAG = _header('`"<version tag>"` of the written object: send it as If-Match on the next write')


def answers(ok: str, schema: dict, errors: tuple[str, ...], headers: dict | None = None) -> dict:
    error = {"content": {"application/json": {"schema": {"$ref": REF.format(model="Error")}}}}
    out = {ok: {"description": "success", "content": {"application/json": {"schema": schema}}}}
    if headers:
        out[ok]["headers"] = headers
    for code in errors:
        out[code] = {"description": ERRORS[code], **error}
    return out


def _read_responses(schema: dict) -> dict:
    out = answers("200", schema, READ_ERRORS, {"ETag": {**ETAG, "required": True}})
    out["304"] = {"description": "unchanged since the ETag sent in If-None-Match", "headers": {"ETag": ETAG}}
    return out


def _list_of(names) -> str:
    """A pattern for a comma-separated list of `names` (blanks around items, empty items allowed)."""
    item = f"(?:{names})" if isinstance(names, str) else "(?:" + "|".join(sorted(names)) + ")"
    return f"^ *(?:{item} *)?(?:, *(?:{item} *)?)*$"


def _list_parameters(spec) -> list[dict]:
    params = [
        {
            "name": "ids",
            "in": "query",
            "schema": {"type": "string", "pattern": _list_of("[0-9]+"), "maxLength": 1000},
            "description": "only these ids, comma-separated whole numbers (ASCII digits), e.g. 1,2,37",
        },
        {
            "name": "include",
            "in": "query",
            "schema": {"type": "string", "pattern": _list_of(spec.relations)},
            "description": "comma-separated relations to embed: " + ", ".join(sorted(spec.relations)),
        },
        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000}},
        {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": MAX_ID}},
        {
            "name": "updated_since",
            "in": "query",
            "schema": {
                "anyOf": [
                    {"type": "integer", "minimum": 0, "maximum": MAX_TIME, "description": "unix seconds"},
                    {"type": "string", "format": "date-time", "description": "RFC 3339"},
                ]
            },
            "description": "only objects changed after this time: unix seconds or an RFC 3339 time",
        },
    ]
    if spec.searchable:
        params.insert(
            0,
            {
                "name": "name",
                "in": "query",
                "schema": {"type": "string", "pattern": "^[^\\x00]*$"},
                "description": "case-insensitive substring of the name",
            },
        )
    if spec.name == "festival":
        params.append(
            {
                "name": "valid",
                "in": "query",
                "schema": {"type": "boolean"},
                "description": "only published (true) or unpublished (false) festivals",
            }
        )
    return params


def _id(name: str) -> dict:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": {"type": "integer", "minimum": 0},
        "description": f"an id (ASCII digits); past {MAX_ID} nothing exists: 404",
    }


EMPTY = {"$ref": REF.format(model="Empty")}
CREATED_HEADERS = {
    "Location": _header("the new object's URL", {"type": "string"}) | {"required": True},
    "ETag": {**WRITE_ETAG, "required": True},
    "Idempotent-Replayed": _header("`true` when this is the stored answer of an earlier request with the key"),
}
IF_NONE_MATCH = {"name": "If-None-Match", "in": "header", "schema": {"type": "string"}}
PRECONDITIONS = [
    {
        "name": "If-Match",
        "in": "header",
        "schema": {"type": "string"},
        "description": "the object's ETag (from a read or a write): 412 when it changed since; `*`: any",
    },
    {
        "name": "If-Unmodified-Since",
        "in": "header",
        "schema": {"type": "string"},
        "description": "an HTTP date: 412 when the object changed after it (ignored with If-Match or when unreadable)",
    },
]
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
    "description": "retry safely: the same key within 24 h answers the first answer again and creates nothing",
}


@lru_cache(maxsize=1)
def build_document(version: str) -> dict:
    schemas: dict = {
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {"type": "string"},
                "fields": {"type": "object", "additionalProperties": {"type": "string"}},
                "request_id": {"type": "string", "description": "on a 500: the id to quote when reporting it"},
            },
        },
        "Empty": {"type": "object", "properties": {"data": {"type": "array", "maxItems": 0}}},
    }
    paths: dict = {}
    for spec in ENTITIES.values():
        title = spec.name.capitalize()
        body = BODIES[spec.name].model_json_schema(ref_template=REF, mode="validation")
        schemas[f"{title}Body"] = body
        schemas[f"New{title}Body"] = {**body, "required": list(spec.required)}  # what a create must name
        schemas[title] = _output_schema(spec)
        list_schema = _envelope(title)
        request_body, create_body = (
            {"required": True, "content": {"application/json": {"schema": {"$ref": REF.format(model=model)}}}}
            for model in (f"{title}Body", f"New{title}Body")
        )
        base, item = f"/{spec.plural}", f"/{spec.plural}/{{id}}"
        tags = [spec.plural]
        paths[base] = {
            "get": {
                "tags": tags,
                "summary": f"List {spec.plural}",
                "parameters": [*_list_parameters(spec), IF_NONE_MATCH],
                "responses": _read_responses(list_schema),
            },
            "post": {
                "tags": tags,
                "summary": f"Create a {spec.name} (creator or admin)",
                "parameters": [IDEMPOTENCY_KEY],
                "requestBody": create_body,
                "responses": answers("201", list_schema, CREATE_ERRORS, CREATED_HEADERS),
            },
        }
        paths[item] = {
            "parameters": [_id("id")],
            "get": {
                "tags": tags,
                "summary": f"One {spec.name}",
                "responses": _read_responses(list_schema),
                "parameters": [*(p for p in _list_parameters(spec) if p["name"] == "include"), IF_NONE_MATCH],
            },
            "patch": {
                "tags": tags,
                "summary": f"Change fields of a {spec.name} (owner or admin)",
                "parameters": PRECONDITIONS,
                "requestBody": request_body,
                "responses": answers("200", list_schema, UPDATE_ERRORS, {"ETag": {**WRITE_ETAG, "required": True}}),
            },
            "delete": {
                "tags": tags,
                "summary": f"Delete a {spec.name} (owner or admin)",
                "parameters": PRECONDITIONS,
                "responses": answers("200", EMPTY, DELETE_ERRORS),
            },
        }
        for relation in canonical_relations(spec.name):
            related = ENTITIES[relation.related]
            path = f"{item}/{relation.segment}"
            paths[path] = {
                "parameters": [_id("id")],
                "get": {
                    "tags": tags,
                    "summary": f"The {relation.segment} of a {spec.name}"
                    + (" (0 or 1 element)" if relation.to_one else ""),
                    "parameters": [*_list_parameters(related), IF_NONE_MATCH],
                    "responses": _read_responses(_envelope(related.name.capitalize())),
                },
            }
            if not relation.read_only:
                verb = "Set" if relation.to_one else "Add"
                paths[f"{path}/{{rid}}"] = {
                    "parameters": [_id("id"), _id("rid")],
                    "post": {
                        "tags": tags,
                        "summary": f"{verb} a {relation.related} of a {spec.name} (owner or admin)",
                        "parameters": PRECONDITIONS,
                        "responses": answers("200", EMPTY, LINK_ERRORS),
                    },
                    "delete": {
                        "tags": tags,
                        "summary": f"Remove a {relation.related} from a {spec.name} (owner or admin)",
                        "parameters": PRECONDITIONS,
                        "responses": answers("200", EMPTY, LINK_ERRORS),
                    },
                }
    paths.update(exports.openapi_paths())
    member_paths, member_schemas = _member_paths()
    paths.update(member_paths)
    schemas.update(member_schemas)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "FestivalsAPI",
            "version": version,
            "description": "Festivals, their events, artists, locations, places, images, videos, links and tags.",
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"ApiKey": []}, {"Bearer": []}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "ApiKey": {"type": "apiKey", "in": "header", "name": "Api-Key"},
                "Bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
            },
        },
    }


def _member_paths() -> tuple[dict, dict]:
    """(paths, schemas) of the members routes in the OpenAPI document."""
    member = {
        "type": "object",
        "required": ["member_user_id", "member_email", "member_role"],
        "properties": {
            "member_user_id": {"type": "integer"},
            "member_email": {"type": "string"},
            "member_role": {"type": "string", "enum": ["owner", "editor"]},
        },
    }
    listed = {"type": "object", "required": ["data"], "properties": {"data": {"type": "array", "items": member}}}

    festival_id = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 0}}
    user_id = {**festival_id, "name": "uid", "description": "the member's user id"}
    rule = (
        "Editors may change the festival and its events and link its parts; only the owner (or an admin) publishes, "
        "deletes it and manages its members. "
    )
    paths = {
        "/festivals/{id}/members": {
            "parameters": [festival_id],
            "get": {
                "tags": ["members"],
                "summary": "The festival's owner and editors (for them and admins)",
                "description": rule + "Others get 403; a draft they may not see 404.",
                "responses": answers("200", listed, ("401", "403", "404", "500", "503")),
            },
            "post": {
                "tags": ["members"],
                "summary": "Add an editor by the email address of an existing account (owner or admin)",
                "description": rule + "An unknown address is a 400 naming member_email; an editor already: 409.",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": REF.format(model="MemberBody")}}},
                },
                "responses": answers(
                    "201",
                    listed,
                    ("400", "401", "403", "404", "405", "409", "413", "500", "503"),
                    {"Location": {"description": "the members list", "schema": {"type": "string"}, "required": True}},
                ),
            },
        },
        "/festivals/{id}/members/{uid}": {
            "parameters": [festival_id, user_id],
            "delete": {
                "tags": ["members"],
                "summary": "Remove an editor (owner or admin), or leave (the editor themselves)",
                "responses": answers("200", EMPTY, ("401", "403", "404", "405", "500", "503")),
            },
        },
    }
    body = BODIES["member"].model_json_schema(ref_template=REF, mode="validation")
    return paths, {"MemberBody": body | {"required": ["member_email"]}}
