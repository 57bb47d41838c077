"""A festival's members (its owner and editors): list, add an editor by email, remove one or leave.

On the API blueprint, so they authenticate and answer errors in the envelope like every other route."""

from __future__ import annotations

from flask import g, url_for

from api.openapi import EMPTY, REF, answers
from api.resources import bp, json_body
from app.schemas import BODIES, validate_body
from app.services import members
from web.responses import data_response


@bp.get("/festivals/<id:festival_id>/members")
def festival_members(festival_id: int):
    return data_response(members.members_of(festival_id, g.actor))


@bp.post("/festivals/<id:festival_id>/members")
def add_festival_member(festival_id: int):
    body = validate_body("member", json_body(), required=("member_email",))
    added = members.add_editor(festival_id, body["member_email"], g.actor)
    location = url_for(".festival_members", festival_id=festival_id)
    return data_response([added], 201, {"Location": location})


@bp.delete("/festivals/<id:festival_id>/members/<id:user_id>")
def remove_festival_member(festival_id: int, user_id: int):
    members.remove_editor(festival_id, user_id, g.actor)
    return data_response([])


def openapi_paths() -> tuple[dict, dict]:
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
