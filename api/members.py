"""A festival's members (its owner and editors): list, add an editor by email, remove one or leave.

On the API blueprint, so they authenticate and answer errors in the envelope like every other route."""

from __future__ import annotations

from flask import g, url_for

from api.resources import bp, json_body
from app.schemas import validate_body
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
