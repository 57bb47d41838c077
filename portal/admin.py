"""Admin pages (role admin only; a 403 page otherwise): users, API and service keys, all festivals
with ownership transfer, the audit log."""
from __future__ import annotations

from flask import Blueprint

from portal.errors import init_errors
from portal.htmx import vary_on_htmx

bp = Blueprint("admin", __name__, url_prefix="/admin")
bp.after_request(vary_on_htmx)
init_errors(bp)
