"""The organizers' portal (server-rendered, htmx): dashboard, festival editor, events and timetable,
artists, locations, links, tags. Admin pages are their own blueprint (portal/admin.py).

Handlers parse a form, call one service of app/services and render; every rule lives in the services."""

from __future__ import annotations

from flask import Blueprint

from portal.errors import init_errors
from portal.filters import init_filters
from web.htmx import vary_on_htmx

bp = Blueprint("portal", __name__)
bp.after_request(vary_on_htmx)
init_errors(bp)
init_filters(bp)

# The route modules attach their views to `bp`.
from portal import dashboard, events, festivals, imports, library, media, members, preview, public, undo  # noqa: E402,F401
