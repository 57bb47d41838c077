"""The festival editor: details with inline validation, publish, delete, and its place, links and tags."""

from __future__ import annotations

from flask import current_app, flash, request, url_for
from flask_login import current_user, login_required

from app.errors import Conflict, Invalid
from app.permissions import require_creator
from app.schemas import time_zones
from app.services import details, festivals, members, timetable, writes
from portal import bp
from portal.forms import FestivalForm, LinkForm, MemberForm, PlaceForm, TagForm
from web.forms import ConfirmForm, confirmation, confirmed, flash_at, sentence
from web.htmx import go, render, wants_fragment


def _status(form) -> int:
    return 422 if form.is_submitted() else 200


def _editor(
    festival_id: int,
    form: FestivalForm | None = None,
    status: int = 200,
    fragment: str | None = None,
    conflict: bool = False,
    notice: str | None = None,
    zone_question: tuple[str, dict] | None = None,
    **forms,
):
    """The editor page (or one of its fragments). Forms given keep what the user typed; `notice` says what a
    save did, next to its button."""
    festival, version = festivals.festival_with_parts(festival_id, current_user.actor)
    if form is None:
        form = FestivalForm(formdata=None)
        form.fill(festival)
        form.version.data = version
    else:
        form.set_zone(form.festival_timezone.data)
    place = forms.get("place_form")
    if place is None:
        place = PlaceForm(formdata=None)
        place.fill((festival["include"]["place"] or [{}])[0])
    roster, manage = members.roster(festival_id, current_user.actor)
    return render(
        "portal/festival.html",
        fragment,
        status,
        festival=festival,
        missing=timetable.publish_checklist(festival, len(festivals.event_ids(festival_id))),
        time_zones=sorted(time_zones()),
        form=form,
        place_form=place,
        link_form=forms.get("link_form") or LinkForm(formdata=None),
        tag_form=forms.get("tag_form") or TagForm(formdata=None),
        members=roster,
        manage=manage,  # the owner or an admin: publish, delete and the members' form are offered
        member_form=forms.get("member_form") or MemberForm(formdata=None),
        confirm=ConfirmForm(),
        files_url=current_app.config["FILES_URL"],
        conflict=conflict,
        notice=notice,
        zone_question=zone_question,
    )


def _done(festival_id: int, place: str, message: str, fragment: str | None = None):
    """After a save in the editor: htmx gets the part again with `message` next to its button; a plain POST is
    redirected to the editor, scrolled to that message."""
    if wants_fragment():
        return _editor(festival_id, fragment=fragment or f"portal/_festival_{place}.html", notice=message)
    return go(url_for(".festival", festival_id=festival_id) + flash_at(place, message))


@bp.route("/festivals/new", methods=["GET", "POST"])
@login_required
def new_festival():
    require_creator(current_user.actor)
    form = FestivalForm()
    festival = form.submit(lambda: writes.create("festival", current_user.actor, form.values()))
    if festival:
        flash(f"“{festival['festival_name']}” is created, as a draft.", "success")
        return go(url_for(".festival", festival_id=festival["festival_id"]))
    return render(
        "portal/festival_new.html",
        "portal/_festival_form.html",
        _status(form),
        form=form.set_zone(form.festival_timezone.data),
        action=url_for(".new_festival"),
        time_zones=sorted(time_zones()),
    )


@bp.post("/festivals/check")
@login_required
def check_field():
    """Inline validation: the whole form is checked, one field's block answered (on its `change`)."""
    form = FestivalForm()
    form.set_zone(form.festival_timezone.data)
    form.validate()
    name = request.form.get("field", "")
    if name not in form._fields or name in ("csrf_token", "version"):
        return render("portal/_problem.html", status=400, title="Unknown field", message="No such field.")
    if not form.errors:
        try:
            writes.check("festival", form.values())
        except Invalid as exc:
            form.show_errors(exc)
    return render("portal/_checked_field.html", f=form[name])


@bp.get("/festivals/<id:festival_id>")
@login_required
def festival(festival_id: int):
    return _editor(festival_id)


@bp.post("/festivals/<id:festival_id>")
@login_required
def save_festival(festival_id: int):
    form = FestivalForm()
    conflict = False
    stored_zone = festivals.festival_with_parts(festival_id, current_user.actor)[0]["festival_timezone"]
    new_zone = (form.festival_timezone.data or "").strip() or "UTC"
    asking = new_zone != stored_zone and form.zone_change.data not in ("local", "moments")
    if asking and form.validate_on_submit() and new_zone in time_zones():  # ask first, say what would move
        effect = timetable.zone_change_effect(festival_id, stored_zone, new_zone, current_user.actor)
        return _editor(festival_id, form, 422, "portal/_festival_details.html", zone_question=(stored_zone, effect))
    if form.validate_on_submit():
        try:
            timetable.update_festival(
                festival_id,
                current_user.actor,
                form.values(),
                form.version.data or None,
                keep_local_times=form.zone_change.data == "local",
            )
        except Conflict as exc:
            conflict = not exc.fields
            form.show_errors(exc)
        except Invalid as exc:
            form.show_errors(exc)
        else:
            return _done(festival_id, "details", "Saved.")
    return _editor(
        festival_id, form, 409 if conflict else _status(form), "portal/_festival_details.html", conflict=conflict
    )


@bp.post("/festivals/<id:festival_id>/<any(publish, unpublish):action>")
@login_required
def publish(festival_id: int, action: str):
    if ConfirmForm().validate_on_submit():
        try:
            if action == "publish":  # the checklist first: what is missing is said, nothing published
                festival = timetable.publish(festival_id, current_user.actor)
            else:
                festival = details.set_published(festival_id, False, current_user.actor)
        except Invalid as exc:
            flash(sentence(exc.message), "error")
        else:
            state = "published" if action == "publish" else "a draft again"
            flash(f"“{festival['festival_name']}” is {state}.", "success")
    return go(url_for(".festival", festival_id=festival_id))


@bp.route("/festivals/<id:festival_id>/delete", methods=["GET", "POST"])
@login_required
def delete_festival(festival_id: int):
    festival = festivals.festival_to_delete(festival_id, current_user.actor)
    form = ConfirmForm()
    if form.validate_on_submit():  # the page is the confirmation: its form is the only way to this POST
        festivals.delete_festival(festival_id, current_user.actor)
        flash(f"“{festival['festival_name']}” and its events are deleted.", "success")
        return go(url_for(".dashboard"))
    return render(
        "portal/festival_delete.html", festival=festival, form=form, event_count=len(festivals.event_ids(festival_id))
    )


@bp.post("/festivals/<id:festival_id>/place")
@login_required
def save_place(festival_id: int):
    form = PlaceForm()
    if form.submit(lambda: details.save_to_one("festival", festival_id, "place", current_user.actor, form.values())):
        return _done(festival_id, "place", "The place is saved.", "portal/_festival_place_saved.html")
    return _editor(festival_id, status=_status(form), fragment="portal/_festival_place.html", place_form=form)


@bp.post("/festivals/<id:festival_id>/links")
@login_required
def add_link(festival_id: int):
    form = LinkForm()
    if form.submit(lambda: details.create_linked("festival", festival_id, "links", current_user.actor, form.values())):
        return _done(festival_id, "links", "The link is added.")
    return _editor(festival_id, status=_status(form), fragment="portal/_festival_links.html", link_form=form)


@bp.post("/festivals/<id:festival_id>/tags")
@login_required
def add_tag(festival_id: int):
    form = TagForm()
    if form.submit(lambda: details.add_tag("festival", festival_id, form.tag_name.data or "", current_user.actor)):
        return _done(festival_id, "tags", f"“{form.tag_name.data.strip()}” is added.")
    return _editor(festival_id, status=_status(form), fragment="portal/_festival_tags.html", tag_form=form)


@bp.post("/festivals/<id:festival_id>/<any(links, tags):segment>/<id:related_id>/remove")
@login_required
def remove_part(festival_id: int, segment: str, related_id: int):
    # A link was made for this festival and goes with it (so it is asked first); a tag is shared and stays.
    delete = segment == "links"
    here = url_for(".remove_part", festival_id=festival_id, segment=segment, related_id=related_id)
    back = url_for(".festival", festival_id=festival_id) + f"#{segment}-head"
    name = details.part_name("festival", festival_id, segment, related_id, current_user.actor)
    if delete and not confirmed():
        return confirmation(f"Delete the link “{name}”?", here, back, "It is removed from this festival.")
    if not ConfirmForm().validate_on_submit():
        return go(back)
    details.remove_linked("festival", festival_id, segment, related_id, current_user.actor, delete=delete)
    return _done(festival_id, segment, f"“{name}” is {'deleted' if delete else 'removed'}.")
