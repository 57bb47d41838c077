"""A festival's events as an editable table (rows swapped in place by htmx), and its timetable."""

from __future__ import annotations

from flask import current_app, flash, request, url_for
from flask_login import current_user, login_required

from app.errors import Conflict, Invalid
from app.services import entities, program
from portal import bp
from portal.forms import EventForm
from web.forms import ConfirmForm
from web.htmx import go, render, wants_fragment


def _names(event: dict) -> tuple[str, str]:
    artists = ", ".join(artist["artist_name"] for artist in event["include"]["artist"])
    location = event["include"]["location"][0]["location_name"] if event["include"]["location"] else ""
    return artists, location


def _prefix(event_id: int) -> str:
    return f"e{event_id}"  # an edited row's fields, apart from the add form's on the same page


def _edit_form(event: dict) -> EventForm:
    form = EventForm(formdata=None, prefix=_prefix(event["event_id"]))
    form.fill(event)
    form.artists.data, form.location.data = _names(event)
    form.version.data = entities.version_token(
        entities.require_editable("event", event["event_id"], current_user.actor).version
    )
    return form


def _page(
    festival_id: int,
    status: int = 200,
    add_form: EventForm | None = None,
    editing: int | None = None,
    edit_form: EventForm | None = None,
):
    festival, _ = program.festival_with_parts(festival_id, current_user.actor)
    events = program.events_of(festival_id, current_user.actor)
    if editing is not None and edit_form is None:
        edit_form = _edit_form(next(event for event in events if event["event_id"] == editing))
    image_of = next(((e["include"]["image"] or [None])[0] for e in events if e["event_id"] == editing), None)
    return render(
        "portal/events.html",
        None,
        status,
        festival=festival,
        events=events,
        image_of=image_of,
        files_url=current_app.config["FILES_URL"],
        add_form=add_form or EventForm(formdata=None),
        editing=editing,
        edit_form=edit_form,
        confirm=ConfirmForm(),
    )


def _row(festival_id: int, event: dict, status: int = 200):
    return render("portal/_event_row.html", status=status, festival_id=festival_id, event=event, confirm=ConfirmForm())


def _save(festival_id: int, event_id: int | None, form: EventForm):
    """The saved event, or None with the messages put on the form; and whether it was a conflict."""
    if not form.validate_on_submit():
        return None, False
    try:
        return program.save_event(
            festival_id,
            event_id,
            current_user.actor,
            form.values(),
            program.split_names(form.artists.data),
            form.location.data or "",
            expected_version=form.version.data or None,
        ), False
    except Conflict as exc:
        form.show_errors(exc)
        return None, not exc.fields
    except Invalid as exc:
        form.show_errors(exc)
        return None, False


@bp.get("/festivals/<id:festival_id>/events")
@login_required
def events(festival_id: int):
    return _page(festival_id)


@bp.post("/festivals/<id:festival_id>/events")
@login_required
def add_event(festival_id: int):
    form = EventForm()
    event, _ = _save(festival_id, None, form)
    if event is None:
        if wants_fragment():
            return render("portal/_event_add.html", status=422, festival_id=festival_id, form=form)
        return _page(festival_id, 422, add_form=form)
    if wants_fragment():  # the new row at the end of the table, and an empty form again (out of band)
        return render(
            "portal/_event_added.html",
            festival_id=festival_id,
            event=event,
            confirm=ConfirmForm(),
            form=EventForm(formdata=None),
        )
    flash(f"“{event['event_name'] or 'The event'}” is added.", "success")
    return go(url_for(".events", festival_id=festival_id))


@bp.get("/festivals/<id:festival_id>/events/<id:event_id>")
@login_required
def event_row(festival_id: int, event_id: int):
    if wants_fragment():
        return _row(festival_id, program.event_of(festival_id, event_id, current_user.actor))
    return go(url_for(".events", festival_id=festival_id), 302)


@bp.get("/festivals/<id:festival_id>/events/<id:event_id>/edit")
@login_required
def edit_event(festival_id: int, event_id: int):
    if wants_fragment():
        event = program.event_of(festival_id, event_id, current_user.actor)
        return render(
            "portal/_event_edit.html",
            festival_id=festival_id,
            event_id=event_id,
            form=_edit_form(event),
            image_of=(event["include"]["image"] or [None])[0],
            files_url=current_app.config["FILES_URL"],
        )
    return _page(festival_id, editing=event_id)


@bp.post("/festivals/<id:festival_id>/events/<id:event_id>")
@login_required
def save_event(festival_id: int, event_id: int):
    form = EventForm(prefix=_prefix(event_id))
    event, conflict = _save(festival_id, event_id, form)
    if event is not None:
        if wants_fragment():
            return _row(festival_id, event)
        flash("The event is saved.", "success")
        return go(url_for(".events", festival_id=festival_id))
    status = 409 if conflict else 422
    if wants_fragment():
        return render("portal/_event_edit.html", status=status, festival_id=festival_id, event_id=event_id, form=form)
    return _page(festival_id, status, editing=event_id, edit_form=form)


@bp.post("/festivals/<id:festival_id>/events/<id:event_id>/delete")
@login_required
def delete_event(festival_id: int, event_id: int):
    if ConfirmForm().validate_on_submit():
        program.delete_event(festival_id, event_id, current_user.actor)
        if wants_fragment():
            return "", 200  # the row is swapped for nothing
        flash("The event is deleted.", "success")
    return go(url_for(".events", festival_id=festival_id))


@bp.get("/names/<any(artist, location):entity>")
@login_required
def name_options(entity: str):
    """Search-as-you-type: <option>s for the artist or location field's datalist. For a comma-separated
    artist list, the suggestions are for the name being typed (after the last comma)."""
    wanted = "artists" if entity == "artist" else "location"  # the field's name, maybe with a row's prefix
    typed = next((value for key, value in request.args.items() if key.endswith(wanted)), request.args.get("q", ""))
    done, _, current = typed.rpartition(",")
    names = program.name_suggestions(entity, current[:100], current_user.actor)
    prefix = (done + ", ") if done else ""
    return render("portal/_name_options.html", names=[prefix + name for name in names])


@bp.get("/festivals/<id:festival_id>/timetable")
@login_required
def timetable(festival_id: int):
    festival, _ = program.festival_with_parts(festival_id, current_user.actor)
    return render("portal/timetable.html", festival=festival, days=program.timetable(festival_id, current_user.actor))
