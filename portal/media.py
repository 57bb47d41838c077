"""Images of festivals, artists, locations and events. The browser uploads the file straight to the file
server (static/js/app.js, with a token from /account/upload-token); this records what it answered."""

from __future__ import annotations

from flask import flash, request
from flask_login import current_user, login_required

from app.errors import Invalid
from app.services import parts
from portal import bp
from portal.forms import ImageForm
from web.forms import ConfirmForm, safe_next
from web.htmx import go

OWNERS = "any(festival, artist, location, event)"


@bp.post(f"/images/<{OWNERS}:entity>/<id:entity_id>")
@login_required
def save_image(entity: str, entity_id: int):
    form = ImageForm()
    if form.validate_on_submit():
        try:
            parts.create_linked(entity, entity_id, "image", current_user.actor, form.values())
        except Invalid as exc:
            flash(f"The image is not saved: {exc.message}.", "error")
        else:
            flash("The image is saved.", "success")
    else:
        flash("The image is not saved: upload a file first.", "error")
    return go(safe_next(request.form.get("next")))


@bp.post(f"/images/<{OWNERS}:entity>/<id:entity_id>/<id:image_id>/remove")
@login_required
def remove_image(entity: str, entity_id: int, image_id: int):
    if ConfirmForm().validate_on_submit():
        parts.remove_linked(entity, entity_id, "image", image_id, current_user.actor, delete=False)
        flash("The image is removed.", "success")
    return go(safe_next(request.form.get("next")))
