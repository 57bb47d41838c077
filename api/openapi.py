"""The OpenAPI 3.1 document, built from the registry and from the pydantic models that validate the
bodies: what the docs say is what the server checks.

Why not spectree or flask-openapi3: both wrap routing and answer validation errors in their own
format, while the contract fixes our envelope and per-field messages; pydantic's own JSON Schema
output plus this page of assembly keeps one source of truth without a second framework."""

from __future__ import annotations

from functools import lru_cache

from peewee import BigIntegerField, BooleanField, DoubleField, IntegerField

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


def _responses(ok: str, schema: dict) -> dict:
    error = {"content": {"application/json": {"schema": {"$ref": REF.format(model="Error")}}}}
    out = {ok: {"description": "success", "content": {"application/json": {"schema": schema}}}}
    for code, text in (
        ("400", "bad input"),
        ("401", "no or invalid credentials"),
        ("403", "not allowed"),
        ("404", "unknown id or path"),
        ("409", "a unique name is taken"),
    ):
        out[code] = {"description": text, **error}
    return out


def _list_parameters(spec) -> list[dict]:
    params = [
        {"name": "ids", "in": "query", "schema": {"type": "string"}, "description": "comma-separated ids"},
        {
            "name": "include",
            "in": "query",
            "schema": {"type": "string"},
            "description": "comma-separated relations: " + ", ".join(sorted(spec.relations)),
        },
        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000}},
        {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0}},
        {
            "name": "updated_since",
            "in": "query",
            "schema": {"type": "string"},
            "description": "RFC 3339 time or unix seconds",
        },
    ]
    if spec.searchable:
        params.insert(
            0,
            {
                "name": "name",
                "in": "query",
                "schema": {"type": "string"},
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
    return {"name": name, "in": "path", "required": True, "schema": {"type": "integer", "minimum": 0}}


@lru_cache(maxsize=1)
def build_document(version: str) -> dict:
    schemas: dict = {
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {"type": "string"},
                "fields": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        },
        "Empty": {"type": "object", "properties": {"data": {"type": "array", "maxItems": 0}}},
    }
    paths: dict = {}
    for spec in ENTITIES.values():
        title = spec.name.capitalize()
        body = BODIES[spec.name].model_json_schema(ref_template=REF, mode="validation")
        schemas[f"{title}Body"] = body
        schemas[title] = _output_schema(spec)
        list_schema = _envelope(title)
        request_body = {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": REF.format(model=f"{title}Body")}}},
        }
        base, item = f"/{spec.plural}", f"/{spec.plural}/{{id}}"
        tags = [spec.plural]
        paths[base] = {
            "get": {
                "tags": tags,
                "summary": f"List {spec.plural}",
                "parameters": _list_parameters(spec),
                "responses": _responses("200", list_schema),
            },
            "post": {
                "tags": tags,
                "summary": f"Create a {spec.name} (creator or admin)",
                "requestBody": request_body,
                "responses": _responses("201", list_schema),
            },
        }
        paths[item] = {
            "parameters": [_id("id")],
            "get": {
                "tags": tags,
                "summary": f"One {spec.name}",
                "responses": _responses("200", list_schema),
                "parameters": [p for p in _list_parameters(spec) if p["name"] == "include"],
            },
            "patch": {
                "tags": tags,
                "summary": f"Change fields of a {spec.name} (owner or admin)",
                "requestBody": request_body,
                "responses": _responses("200", list_schema),
            },
            "delete": {
                "tags": tags,
                "summary": f"Delete a {spec.name} (owner or admin)",
                "responses": _responses("200", {"$ref": REF.format(model="Empty")}),
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
                    "parameters": _list_parameters(related),
                    "responses": _responses("200", _envelope(related.name.capitalize())),
                },
            }
            if not relation.read_only:
                verb = "Set" if relation.to_one else "Add"
                paths[f"{path}/{{rid}}"] = {
                    "parameters": [_id("id"), _id("rid")],
                    "post": {
                        "tags": tags,
                        "summary": f"{verb} a {relation.related} of a {spec.name} (owner or admin)",
                        "responses": _responses("200", {"$ref": REF.format(model="Empty")}),
                    },
                    "delete": {
                        "tags": tags,
                        "summary": f"Remove a {relation.related} from a {spec.name} (owner or admin)",
                        "responses": _responses("200", {"$ref": REF.format(model="Empty")}),
                    },
                }
    from api.exports import openapi_paths

    paths.update(openapi_paths())
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "FestivalsAPI",
            "version": version,
            "description": "Festivals, their events, artists, locations, places, images, links and tags.",
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
