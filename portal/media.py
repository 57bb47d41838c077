"""Images of festivals, artists, locations and events. The browser uploads the file straight to the file
server (static/js/app.js, with a token from /account/upload-token); this records what it answered."""

from __future__ import annotations

from flask import request
from flask_login import current_user, login_required

from app.errors import Invalid
from app.services import parts
from portal import bp
from portal.forms import ImageForm
from web.forms import ConfirmForm, flash_at, safe_next, sentence
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
            message = "The image is not saved: " + " ".join(f"{key} {text}" for key, text in exc.fields.items())
            flash_at("image", sentence(message if exc.fields else exc.message))
        else:
            flash_at("image", "The image is saved.")
    else:
        flash_at("image", "The image is not saved: upload a file first.")
    return go(safe_next(request.form.get("next")))


@bp.post(f"/images/<{OWNERS}:entity>/<id:entity_id>/<id:image_id>/remove")
@login_required
def remove_image(entity: str, entity_id: int, image_id: int):
    if ConfirmForm().validate_on_submit():
        parts.remove_linked(entity, entity_id, "image", image_id, current_user.actor, delete=False)
        flash_at("image", "The image is removed.")
    return go(safe_next(request.form.get("next")))
