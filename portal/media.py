"""Images of festivals, artists, locations and events, and videos of festivals, artists and events. The browser
uploads the file straight to the file server (static/js/app.js and videos.js, with a token from
/account/upload-token); this records what it answered."""

from __future__ import annotations

from flask import request
from flask_login import current_user, login_required
from wtforms import FloatField, HiddenField, IntegerField
from wtforms.validators import DataRequired, InputRequired
from wtforms.widgets import HiddenInput

from app.errors import Invalid
from app.services import details
from portal import bp
from portal.forms import EntityForm, ImageForm
from web.forms import ConfirmForm, flash_at, safe_next, sentence
from web.htmx import go

OWNERS = "any(festival, artist, location, event)"
VIDEO_OWNERS = "any(festival, artist, event)"


class VideoForm(EntityForm):
    """Filled by the page's script from the file server's answer to the upload (what its probe found)."""

    video_hash = HiddenField(validators=[DataRequired()])
    video_ref = HiddenField(validators=[DataRequired()])
    video_mime = HiddenField(validators=[DataRequired()])
    video_duration = FloatField(widget=HiddenInput(), validators=[InputRequired()])
    video_width = IntegerField(widget=HiddenInput(), validators=[InputRequired()])
    video_height = IntegerField(widget=HiddenInput(), validators=[InputRequired()])


def _save(entity: str, entity_id: int, segment: str, form: EntityForm):
    """Record the uploaded file as the entity's image or video; the answer is a notice beside the editor."""
    if form.validate_on_submit():
        try:
            details.create_linked(entity, entity_id, segment, current_user.actor, form.values())
        except Invalid as exc:
            message = f"The {segment} is not saved: " + " ".join(f"{key} {text}" for key, text in exc.fields.items())
            flash_at(segment, sentence(message if exc.fields else exc.message))
        else:
            flash_at(segment, f"The {segment} is saved.")
    else:
        flash_at(segment, f"The {segment} is not saved: upload a file first.")
    return go(safe_next(request.form.get("next")))


def _remove(entity: str, entity_id: int, segment: str, related_id: int):
    if ConfirmForm().validate_on_submit():
        details.remove_linked(entity, entity_id, segment, related_id, current_user.actor, delete=False)
        flash_at(segment, f"The {segment} is removed.")
    return go(safe_next(request.form.get("next")))


@bp.post(f"/images/<{OWNERS}:entity>/<id:entity_id>")
@login_required
def save_image(entity: str, entity_id: int):
    return _save(entity, entity_id, "image", ImageForm())


@bp.post(f"/images/<{OWNERS}:entity>/<id:entity_id>/<id:image_id>/remove")
@login_required
def remove_image(entity: str, entity_id: int, image_id: int):
    return _remove(entity, entity_id, "image", image_id)


@bp.post(f"/videos/<{VIDEO_OWNERS}:entity>/<id:entity_id>")
@login_required
def save_video(entity: str, entity_id: int):
    return _save(entity, entity_id, "video", VideoForm())


@bp.post(f"/videos/<{VIDEO_OWNERS}:entity>/<id:entity_id>/<id:video_id>/remove")
@login_required
def remove_video(entity: str, entity_id: int, video_id: int):
    return _remove(entity, entity_id, "video", video_id)
