"""The visitor preview: the festival as the app shows it, from the same dicts the API serves
(`GET /festivals/{id}?include=image,place,links,tags` and its events with artists and locations).
Reachable from the editor before publishing; so are the schedule exports (drafts too, for their owner)."""

from __future__ import annotations

from flask import Response, current_app, request
from flask_login import current_user, login_required

from app.services import exports
from portal import bp
from web.htmx import render


@bp.get("/festivals/<id:festival_id>/preview")
@login_required
def preview(festival_id: int):
    program = exports.preview(festival_id, current_user.actor)
    return render(
        "portal/preview.html",
        festival=program.festival,
        days=program.days(),
        program=program,
        untimed=[event for event in program.events if not event["event_start"]],
        stage_name=exports.stage_name,
    )


@bp.get(f"/festivals/<id:festival_id>/export/<any({','.join(exports.EXPORTS)}):kind>")
@login_required
def festival_export(festival_id: int, kind: str):
    """The API's export files for the logged-in organizer (whose browser has no API token)."""
    program = exports.preview(festival_id, current_user.actor)
    body, mimetype, disposition = exports.export(kind, program, request.url_root, current_app.config["VERSION"])
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": disposition})
