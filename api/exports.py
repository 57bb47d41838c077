"""A festival's schedule for other tools: iCalendar, Frab/pretalx JSON and XML, and a CSV of its events.

On the API blueprint, so they authenticate, answer errors in the envelope, and are revalidated with ETag/304
and kept in the read cache (api/read_cache.py) like every other read. A published festival's schedule needs
no credentials: calendar apps poll a subscription URL and cannot send an Api-Key; a draft's needs its owner's,
an editor's or an admin's Bearer token."""

from __future__ import annotations

import gc
from contextlib import contextmanager

from flask import current_app, g, request

from api.read_cache import Rendered, cached_read, response_of
from api.resources import bp
from app.permissions import Actor
from app.services import exports as files

KINDS = ",".join(f'"{kind}"' for kind in files.EXPORTS)


@bp.get(f"/festivals/<id:festival_id>/<any({KINDS}):kind>")
def festival_export(festival_id: int, kind: str):
    # request.url_root ends with "/": absolute links in the schedule point back to this server. api/fast_reads.py
    # keeps this `read` for the scheme and host it was learned on, so its url_root is every later request's too.
    url_root, version = request.url_root, current_app.config["VERSION"]

    def read(actor: Actor) -> Rendered:
        with collector_paused():
            program = files.load(festival_id, actor)
            body, mimetype, disposition = files.export(kind, program, url_root, version)
            del program  # freed before the collector runs again
        return Rendered(body, mimetype, headers=(("Content-Disposition", disposition),))

    return cached_read(
        *files.load_scope(g.actor),
        lambda: response_of(read(g.actor)),
        params=(),
        plain=True,
        keep=("Content-Disposition",),  # its file name is the festival's
        by_host=True,  # links in the schedule point back to this server
        read=read,
    )


@contextmanager
def collector_paused():
    """Python's cyclic garbage collector held off while a schedule is built. A schedule is thousands of acyclic
    dicts and strings, alive until the file is written and then freed by reference counting; the collector would
    scan them several times per request for nothing and move them into its oldest generation, whose full scans
    then cost a later request ~10 ms (a fifth of schedule.json's and schedule.xml's time for 300 events). It is
    enabled again by whichever build turned it off, so it is on once no build runs (never if it was off)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def openapi_paths() -> dict:
    """The exports in the OpenAPI document."""
    formats = {
        "schedule.ics": (
            "text/calendar",
            "iCalendar (RFC 5545): one VEVENT per event with a stable UID, "
            "in the festival's time zone; a subscription URL for calendar apps",
        ),
        "schedule.json": (
            "application/json",
            "Frab/pretalx schedule JSON: schedule → conference → days → "
            "rooms → events (what Giggity, EventFahrplan and other schedule readers load)",
        ),
        "schedule.xml": ("application/xml", "Frab schedule XML: schedule → conference, day → room → event"),
        "events.csv": (
            "text/csv",
            "one row per event: name, day, start, end, stage, artists, type, description "
            "(times in the festival's time zone; an end after midnight carries its date)",
        ),
    }
    paths = {}
    for name, (mimetype, text) in formats.items():
        paths[f"/festivals/{{id}}/{name}"] = {
            "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 0}}],
            "get": {
                "tags": ["exports"],
                "summary": f"The festival's {name}",
                "description": text
                + ". A published festival needs no credentials; a draft only its owner's, editors' or admins' token.",
                "security": [{}, {"ApiKey": []}, {"Bearer": []}],
                "responses": {
                    "200": {
                        "description": "the file",
                        "headers": {"ETag": {"schema": {"type": "string"}}},
                        # the JSON schedule is an object; the other files are text
                        "content": {
                            mimetype: {"schema": {"type": "object" if mimetype.endswith("json") else "string"}}
                        },
                    },
                    "304": {"description": "unchanged since the ETag sent in If-None-Match"},
                    "404": {
                        "description": "no such festival, or a draft the caller may not see",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                    },
                },
            },
        }
    return paths
