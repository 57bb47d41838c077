"""Undo next to a change's message: after a move, an edit, a delete or an import the portal shows an "Undo"
button beside the confirmation for a minute (static/js/app.js takes it away; app/services/undo.py refuses a
late one). A message shown after a redirect carries its offer in the session, popped where the flashed
messages are shown (base.html); a row swapped in place gets it directly."""

from __future__ import annotations

import time
from typing import TypeVar

from flask import flash, request, session, url_for
from flask_login import current_user, login_required

from app.errors import Conflict, Invalid
from app.services import undo
from portal import bp
from web.forms import ConfirmForm, sentence
from web.htmx import go

SHOWN_SECONDS = 60
BACK = {"timetable": ".timetable", "events": ".events"}
T = TypeVar("T")


def recorded(festival_id: int, label: str, change) -> tuple[T, dict | None]:
    """Run a change through the undo service: (its result, the offer to show with its message)."""
    result, step_id = undo.recorded(current_user.actor, festival_id, label, change)
    if step_id is None:
        return result, None
    return result, {"id": step_id, "festival": festival_id, "label": label, "until": int(time.time()) + SHOWN_SECONDS}


def after_redirect(offer: dict | None, back: str) -> None:
    """Show `offer` with the message flashed for the page the redirect leads to (`back`: timetable or events)."""
    if offer:
        session["undo"] = {**offer, "back": back}


@bp.app_context_processor
def undo_offer() -> dict:
    """`undo_offer()`: the offer to show beside the flashed messages, once."""
    return {"undo_offer": lambda: session.pop("undo", None)}


@bp.post("/festivals/<id:festival_id>/undo/<id:step_id>")
@login_required
def undo_change(festival_id: int, step_id: int):
    back = BACK.get(request.form.get("back", ""), ".events")
    if ConfirmForm().validate_on_submit():
        try:
            label = undo.undo(festival_id, step_id, current_user.actor)
        except (Invalid, Conflict) as exc:
            flash(f"Not undone: {sentence(exc.message)}", "error")
        else:
            flash(f"Undone: {label}.", "success")
    return go(url_for(back, festival_id=festival_id))
