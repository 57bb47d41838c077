"""A festival's events as an editable table (rows swapped in place by htmx), and its timetable: blocks
edited in a dialog, moved by drag and drop or with a move form, stages in the festival's own order.
Times are typed and shown in the festival's time zone; the checks are app/services/timetable.py's."""

from __future__ import annotations

from flask import current_app, flash, request, url_for
from flask_login import current_user, login_required

from app.errors import Conflict, Invalid
from app.services import festivals, timetable, writes
from portal import bp
from portal.filters import counted
from portal.forms import EventForm, MoveForm, ShiftForm, StageForm
from portal.undo import after_redirect, recorded
from web.forms import ConfirmForm, confirmation, confirmed, sentence, show_errors
from web.htmx import go, render, wants_fragment


def _names(event: dict) -> tuple[str, str]:
    artists = ", ".join(artist["artist_name"] for artist in event["include"]["artist"])
    location = event["include"]["location"][0]["location_name"] if event["include"]["location"] else ""
    return artists, location


def _prefix(event_id: int) -> str:
    return f"e{event_id}"  # an edited row's fields, apart from the add form's on the same page


def _festival(festival_id: int) -> dict:
    return festivals.festival_with_parts(festival_id, current_user.actor)[0]


def _edit_form(festival: dict, event: dict) -> EventForm:
    form = EventForm(formdata=None, prefix=_prefix(event["event_id"])).set_zone(festival["festival_timezone"])
    form.fill(event)
    form.artists.data, form.location.data = _names(event)
    form.version.data = writes.version_token(
        writes.require_editable("event", event["event_id"], current_user.actor).version
    )
    return form


def _add_form(festival: dict, after: dict | None = None, at: int | None = None, stage: str = "") -> EventForm:
    """An empty add form; after an added event it keeps that event's day and stage: the next one starts
    where it ended, and lasts as long. A slot clicked on the timetable (`at`, `stage`) fills both."""
    form = EventForm(formdata=None).set_zone(festival["festival_timezone"])
    if at:
        form.fill({"event_start": at})
        form.location.data = stage
    if after:  # the keyboard stays in the form: the next act's name is typed at once
        form.event_name.render_kw = {**form.event_name.render_kw, "autofocus": True}
    if after and after["event_start"]:
        form.fill({"event_start": after["event_end"] or after["event_start"]})
        form.location.data = _names(after)[1]
        if after["event_end"] > after["event_start"]:
            form.length.data = (after["event_end"] - after["event_start"]) // 60
    return form


def _page(
    festival_id: int,
    status: int = 200,
    add_form: EventForm | None = None,
    editing: int | None = None,
    edit_form: EventForm | None = None,
    shift_form: ShiftForm | None = None,
    after: int | None = None,
):
    festival = _festival(festival_id)
    events = festivals.events_of(festival_id, current_user.actor)
    if add_form is None:  # after an add without JavaScript (?after=id): the next event where that one ended
        add_form = _add_form(festival, next((event for event in events if event["event_id"] == after), None))
    if editing is not None and edit_form is None:
        edit_form = _edit_form(festival, next(event for event in events if event["event_id"] == editing))
    edited = next((e for e in events if e["event_id"] == editing), None)
    return render(
        "portal/events.html",
        None,
        status,
        festival=festival,
        festival_id=festival_id,
        zone=festival["festival_timezone"],
        events=events,
        flagged=timetable.warnings(events),
        image_of=(edited["include"]["image"] or [None])[0] if edited else None,
        video_of=(edited["include"]["video"] or [None])[0] if edited else None,
        files_url=current_app.config["FILES_URL"],
        add_form=add_form,
        editing=editing,
        edit_form=edit_form,
        shift_form=shift_form or ShiftForm(formdata=None),
        confirm=ConfirmForm(),
    )


def _stages(*events: dict | None) -> set[str]:
    return {timetable.stage_of(event).casefold() for event in events if event}


def _row_context(festival: dict, event: dict, *stage_of: dict | None, message: str = "") -> dict:
    """What a row's template needs after a change, with the other rows whose warnings may have changed with
    it (flagged ones and those on its old or new stage) to swap out of band."""
    events = festivals.events_of(festival["festival_id"], current_user.actor)
    flagged = timetable.warnings(events)
    stages = _stages(*stage_of)
    others = [
        other
        for other in events
        if other["event_id"] != event["event_id"] and (other["event_id"] in flagged or _stages(other) & stages)
    ]
    return {
        "festival_id": festival["festival_id"],
        "zone": festival["festival_timezone"],
        "event": event,
        "flagged": flagged,
        "others": others,
        "message": message,
    }


def _save(festival_id: int, event_id: int | None, form: EventForm, undo_label: str | None = None):
    """The saved event, or None with the messages put on the form; whether it was a conflict; and with an
    `undo_label` (an edit) the offer to undo it."""
    if not form.validate_on_submit():
        return None, False, None

    def change() -> dict:
        return timetable.save_event(
            festival_id,
            event_id,
            current_user.actor,
            form.values(),
            festivals.split_names(form.artists.data),
            form.location.data or "",
            expected_version=form.version.data or None,
        )

    try:
        if undo_label is None:
            return change(), False, None
        event, offer = recorded(festival_id, undo_label, change)
        return event, False, offer
    except Conflict as exc:
        form.show_errors(exc)
        return None, not exc.fields, None
    except Invalid as exc:
        form.show_errors(exc)
        return None, False, None


@bp.get("/festivals/<id:festival_id>/events")
@login_required
def events(festival_id: int):
    return _page(festival_id, after=request.args.get("after", type=int))


@bp.post("/festivals/<id:festival_id>/events")
@login_required
def add_event(festival_id: int):
    festival = _festival(festival_id)
    form = EventForm().set_zone(festival["festival_timezone"])
    event, _, _ = _save(festival_id, None, form)
    from_timetable = form.back.data == "timetable"
    if event is None:
        if wants_fragment():
            template = "portal/_event_new_dialog.html" if from_timetable else "portal/_event_add.html"
            return render(template, status=422, festival_id=festival_id, form=form)
        return _page(festival_id, 422, add_form=form)
    if from_timetable:
        flash(f"“{event['event_name']}” is added.", "success")
        return go(url_for(".timetable", festival_id=festival_id))
    if wants_fragment():  # the new row at the end of the table, and the form again for the next (out of band)
        context = _row_context(festival, event, event, message="Added.")
        return render("portal/_event_added.html", **context, form=_add_form(festival, event), just_added=event)
    flash(f"“{event['event_name']}” is added.", "success")
    return go(url_for(".events", festival_id=festival_id, after=event["event_id"]))


@bp.get("/festivals/<id:festival_id>/events/new")
@login_required
def new_event(festival_id: int):
    """A slot clicked on the timetable: the add form in its dialog, with the slot's start and stage filled."""
    festival = _festival(festival_id)
    at = request.args.get("at", type=int)
    form = _add_form(festival, at=at if at and at > 0 else None, stage=request.args.get("stage", "")[:255])
    form.back.data = "timetable"
    if wants_fragment():
        return render("portal/_event_new_dialog.html", festival_id=festival_id, form=form)
    return _page(festival_id, add_form=form)


@bp.get("/festivals/<id:festival_id>/events/<id:event_id>")
@login_required
def event_row(festival_id: int, event_id: int):
    if wants_fragment():
        event = festivals.event_of(festival_id, event_id, current_user.actor)
        return render("portal/_event_row.html", **_row_context(_festival(festival_id), event))
    return go(url_for(".events", festival_id=festival_id), 302)


@bp.get("/festivals/<id:festival_id>/events/<id:event_id>/edit")
@login_required
def edit_event(festival_id: int, event_id: int):
    if wants_fragment():
        festival = _festival(festival_id)
        event = festivals.event_of(festival_id, event_id, current_user.actor)
        form = _edit_form(festival, event)
        if request.args.get("back") == "timetable":
            form.back.data = "timetable"
            return render(
                "portal/_event_dialog.html", festival_id=festival_id, event_id=event_id, form=form, event=event
            )
        return render(
            "portal/_event_edit.html",
            festival_id=festival_id,
            event_id=event_id,
            form=form,
            image_of=(event["include"]["image"] or [None])[0],
            video_of=(event["include"]["video"] or [None])[0],
            files_url=current_app.config["FILES_URL"],
        )
    return _page(festival_id, editing=event_id)


@bp.post("/festivals/<id:festival_id>/events/<id:event_id>")
@login_required
def save_event(festival_id: int, event_id: int):
    festival = _festival(festival_id)
    before = festivals.event_of(festival_id, event_id, current_user.actor)
    form = EventForm(prefix=_prefix(event_id)).set_zone(festival["festival_timezone"])
    event, conflict, offer = _save(festival_id, event_id, form, f"the edit of “{before['event_name'] or 'the event'}”")
    from_timetable = form.back.data == "timetable"
    if event is not None:
        if from_timetable:
            flash(f"“{event['event_name']}” is saved.", "success")
            after_redirect(offer, "timetable")
            return go(url_for(".timetable", festival_id=festival_id))
        if wants_fragment():
            context = _row_context(festival, event, event, before, message="Saved.")
            return render("portal/_event_saved.html", **context, undo=offer)
        flash("The event is saved.", "success")
        after_redirect(offer, "events")
        return go(url_for(".events", festival_id=festival_id))
    status = 409 if conflict else 422
    if wants_fragment():
        template = "portal/_event_dialog.html" if from_timetable else "portal/_event_edit.html"
        return render(template, status=status, festival_id=festival_id, event_id=event_id, form=form)
    return _page(festival_id, status, editing=event_id, edit_form=form)


@bp.post("/festivals/<id:festival_id>/events/<id:event_id>/delete")
@login_required
def delete_event(festival_id: int, event_id: int):
    """With htmx the row's Delete asked in the browser; without JavaScript this answers a confirmation page
    first."""
    event = festivals.event_of(festival_id, event_id, current_user.actor)
    name = event["event_name"] or "this event"
    if not confirmed():
        return confirmation(
            f"Delete event “{name}”?",
            url_for(".delete_event", festival_id=festival_id, event_id=event_id),
            url_for(".events", festival_id=festival_id),
            "It leaves the festival and is deleted; its artists and location stay in your library. "
            "For a minute after, Undo brings it back.",
        )
    if ConfirmForm().validate_on_submit():
        _, offer = recorded(
            festival_id,
            f"the delete of “{name}”",
            lambda: festivals.delete_event(festival_id, event_id, current_user.actor),
        )
        if wants_fragment():  # the row says what happened, in place; its neighbours' warnings change
            context = _row_context(_festival(festival_id), event, event)
            return render("portal/_event_deleted.html", **context, name=name, undo=offer)
        flash(f"“{name}” is deleted.", "success")
        after_redirect(offer, "events")
    return go(url_for(".events", festival_id=festival_id))


@bp.post("/festivals/<id:festival_id>/events/<id:event_id>/duplicate")
@login_required
def duplicate_event(festival_id: int, event_id: int):
    if ConfirmForm().validate_on_submit():
        original = festivals.event_of(festival_id, event_id, current_user.actor)
        copy = timetable.duplicate_event(festival_id, event_id, current_user.actor)
        if copy["event_start"] != original["event_start"]:
            when = timetable.format_time(
                copy["event_start"], timetable.zone_named(_festival(festival_id)["festival_timezone"])
            )
            flash(f"“{copy['event_name']}” is duplicated: the copy starts at {when}, after the original.", "success")
        else:
            flash(f"“{copy['event_name']}” is duplicated: the copy is flagged until you move or change it.", "success")
        event_id = copy["event_id"]
    return go(url_for(".events", festival_id=festival_id) + f"#event-{event_id}")


@bp.post("/festivals/<id:festival_id>/events/shift")
@login_required
def shift_events(festival_id: int):
    form = ShiftForm()
    if form.validate_on_submit():
        ids = [int(value) for value in request.form.getlist("events") if value.isdigit()]
        try:
            count = timetable.shift_events(festival_id, ids, form.minutes.data, current_user.actor)
        except Invalid as exc:
            form.minutes.errors = [*form.minutes.errors, sentence(exc.message)]
        else:
            flash(f"{counted(count, 'event')} shifted by {form.minutes.data} minutes.", "success")
            return go(url_for(".events", festival_id=festival_id))
    return _page(festival_id, 422, shift_form=form)


@bp.route("/festivals/<id:festival_id>/events/<id:event_id>/move", methods=["GET", "POST"])
@login_required
def move_event(festival_id: int, event_id: int):
    """The keyboard and no-JavaScript way to move an event; the timetable's drag and drop posts here too."""
    festival = _festival(festival_id)
    event = festivals.event_of(festival_id, event_id, current_user.actor)
    form = MoveForm().set_zone(festival["festival_timezone"])
    if form.validate_on_submit():
        try:
            start = form.moment()
            if start is None:
                raise Invalid("choose when the event starts", {"start": "choose when the event starts"})
            moved, offer = recorded(
                festival_id,
                f"the move of “{event['event_name'] or 'the event'}”",
                lambda: timetable.move_event(
                    festival_id, event_id, current_user.actor, start, form.location.data or ""
                ),
            )
        except Invalid as exc:
            show_errors(form, exc, {"event_start": "start", "event_end": "start", "location_name": "location"})
        else:
            when = timetable.format_time(moved["event_start"], form.zone)
            flash(f"“{moved['event_name']}” is moved to {when}.", "success")
            after_redirect(offer, "timetable")
            return go(url_for(".timetable", festival_id=festival_id))
    elif not form.is_submitted():
        form.fill({"start": event["event_start"]})
        form.location.data = _names(event)[1]
    return render(
        "portal/event_move.html",
        status=422 if form.is_submitted() else 200,
        festival=festival,
        event=event,
        form=form,
        stages=timetable.stages(festival_id, festivals.events_of(festival_id, current_user.actor)),
    )


@bp.post("/festivals/<id:festival_id>/stages")
@login_required
def add_stage(festival_id: int):
    form = StageForm()
    stage = form.submit(lambda: timetable.add_stage(festival_id, form.stage_name.data, current_user.actor))
    if stage:
        flash(f"“{stage['name']}” is a stage of the festival now: a column of the timetable.", "success")
        return go(url_for(".timetable", festival_id=festival_id) + "#stages")
    return timetable_page(festival_id, stage_form=form, status=422)


@bp.post("/festivals/<id:festival_id>/stages/<id:location_id>/remove")
@login_required
def remove_stage(festival_id: int, location_id: int):
    if ConfirmForm().validate_on_submit():
        try:
            timetable.remove_stage(festival_id, location_id, current_user.actor)
        except Invalid as exc:
            flash(sentence(exc.message), "error")
        else:
            flash("The stage is removed from the festival; its location stays in your library.", "success")
    return go(url_for(".timetable", festival_id=festival_id) + "#stages")


@bp.post("/festivals/<id:festival_id>/stages/<id:location_id>/<any(left, right):direction>")
@login_required
def move_stage(festival_id: int, location_id: int, direction: str):
    if ConfirmForm().validate_on_submit():
        timetable.move_stage(festival_id, location_id, -1 if direction == "left" else 1, current_user.actor)
    return go(url_for(".timetable", festival_id=festival_id) + "#stages")


@bp.get("/festivals/<id:festival_id>/names/<any(artist, location):entity>")
@login_required
def name_options(festival_id: int, entity: str):
    """Search-as-you-type: <option>s for the artist or location field's datalist. For a comma-separated
    artist list, the suggestions are for the name being typed (after the last comma)."""
    wanted = "artists" if entity == "artist" else "location"  # the field's name, maybe with a row's prefix
    typed = next((value for key, value in request.args.items() if key.endswith(wanted)), request.args.get("q", ""))
    done, _, current = typed.rpartition(",")
    names = festivals.name_suggestions(entity, current[:100], current_user.actor, festival_id)
    prefix = (done + ", ") if done else ""
    return render("portal/_name_options.html", names=[prefix + name for name in names])


@bp.get("/festivals/<id:festival_id>/timetable", endpoint="timetable")
@login_required
def timetable_page(festival_id: int, stage_form: StageForm | None = None, status: int = 200):
    festival = _festival(festival_id)
    events = festivals.events_of(festival_id, current_user.actor)
    stages = timetable.stages(festival_id, events)
    columns = [(stage["name"], stage["name"]) for stage in stages]  # (header, the stage a drop there means)
    if any(not event["include"]["location"] for event in events):
        columns.append(("No stage", ""))
    return render(
        "portal/timetable.html",
        None,
        status,
        stage_form=stage_form or StageForm(formdata=None),
        festival=festival,
        zone=festival["festival_timezone"],
        stages=stages,
        columns=columns,
        days=timetable.timetable(festival, events, stages, timetable.warnings(events)),
        slot=timetable.SLOT,
        confirm=ConfirmForm(),
    )
