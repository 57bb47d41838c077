"""Artists, locations (with their place), links and tags: list with search, create, edit, delete.
One set of views for the four kinds; the services decide who may change what."""

from __future__ import annotations

from flask import abort, current_app, flash, request, url_for
from flask_login import current_user, login_required

from app.services import details, writes
from app.services import library as library_service
from app.services.reads import ListQuery, list_entities
from app.text import whole_number
from portal import bp
from portal.forms import ArtistForm, LinkForm, LocationForm, PlaceForm, TagForm
from portal.paging import Paging
from web.forms import ConfirmForm, confirmation, confirmed, flash_at
from web.htmx import go, render

KINDS = {  # path → (entity, form, the field searched and shown)
    "artists": ("artist", ArtistForm, "artist_name"),
    "locations": ("location", LocationForm, "location_name"),
    "links": ("link", LinkForm, "link_url"),
    "tags": ("tag", TagForm, "tag_name"),
}


def _kind(kind: str):
    if kind not in KINDS:
        abort(404)
    return KINDS[kind]


@bp.route("/library/<kind>", methods=["GET", "POST"])
@login_required
def library(kind: str):
    entity, form_class, label = _kind(kind)
    form = form_class(formdata=request.form if request.method == "POST" else None)
    created = form.submit(lambda: writes.create(entity, current_user.actor, form.values()))
    if created:
        return go(url_for(".library", kind=kind) + flash_at("add", f"“{created[label]}” is added."))
    search = request.args.get("q", "").strip()[:255]
    owner_id = whole_number(request.args.get("owner", ""), max_digits=9)  # an admin's owner filter
    page = Paging.parse(request.args)
    rows = library_service.rows(
        entity, current_user.actor, search, owner_id, limit=page.per_page + 1, offset=page.offset
    )
    page.total = page.offset + len(rows)  # at least: one more row than shown means there is a next page
    return render(
        "portal/library.html",
        "portal/_library_rows.html",
        422 if form.errors or form.form_errors else 200,
        kind=kind,
        entity=entity,
        label=label,
        rows=rows[: page.per_page],
        page=page,
        search=search,
        owner_id=owner_id,
        owners=library_service.owners(entity, current_user.actor),
        form=form,
        kinds=KINDS,
    )


@bp.route("/library/<kind>/<id:item_id>", methods=["GET", "POST"])
@login_required
def library_item(kind: str, item_id: int):
    entity, form_class, label = _kind(kind)
    if request.method == "GET":
        return _item_page(kind, item_id)
    form = form_class()
    if form.submit(
        lambda: writes.update(
            entity, item_id, current_user.actor, form.values(), expected_version=form.version.data or None
        )
    ):
        flash(f"“{form[label].data}” is saved.", "success")
        return go(url_for(".library", kind=kind))
    return _item_page(kind, item_id, form=form)


def _item_page(kind: str, item_id: int, form=None, place_form=None):
    """An item's page; a form given (a failed save) keeps what was typed and its messages."""
    entity, form_class, label = _kind(kind)
    row = writes.require_editable(entity, item_id, current_user.actor)
    current = list_entities(entity, current_user.actor, ListQuery(ids=[item_id]))[0]
    status = 422 if form is not None or place_form is not None else 200
    if form is None:
        form = form_class(formdata=None)
        form.fill(current)
        form.version.data = writes.version_token(row.version) if hasattr(row, "version") else ""
    if entity == "location" and place_form is None:
        place_form = PlaceForm(formdata=None)
        place_ids = details.linked_ids("location", item_id, "place")
        if place_ids:
            place_form.fill(list_entities("place", current_user.actor, ListQuery(ids=place_ids))[0])
    image = _linked(entity, item_id, "image") if entity in ("artist", "location") else None
    video = _linked(entity, item_id, "video") if entity == "artist" else None
    return render(
        "portal/library_item.html",
        None,
        status,
        kind=kind,
        entity=entity,
        item=current,
        label=label,
        form=form,
        place_form=place_form,
        confirm=ConfirmForm(),
        image=image,
        video=video,
        files_url=current_app.config["FILES_URL"],
    )


def _linked(entity: str, item_id: int, segment: str) -> dict | None:
    """The item's image or video (a to-one part), or None."""
    ids = details.linked_ids(entity, item_id, segment)
    return list_entities(segment, current_user.actor, ListQuery(ids=ids))[0] if ids else None


@bp.post("/library/locations/<id:item_id>/place")
@login_required
def location_place(item_id: int):
    form = PlaceForm()
    if form.submit(lambda: details.save_to_one("location", item_id, "place", current_user.actor, form.values())):
        place = url_for(".library_item", kind="locations", item_id=item_id)
        return go(place + flash_at("place", "The place is saved."))
    return _item_page("locations", item_id, place_form=form)


@bp.post("/library/<kind>/<id:item_id>/delete")
@login_required
def library_delete(kind: str, item_id: int):
    entity, _, label = _kind(kind)
    writes.require_editable(entity, item_id, current_user.actor)
    name = list_entities(entity, current_user.actor, ListQuery(ids=[item_id]))[0][label]
    if not confirmed():
        return confirmation(
            f"Delete {entity} “{name}”?",
            url_for(".library_delete", kind=kind, item_id=item_id),
            url_for(".library_item", kind=kind, item_id=item_id),
            "It goes from every festival and event that uses it. This cannot be undone.",
        )
    if ConfirmForm().validate_on_submit():
        writes.delete(entity, item_id, current_user.actor)
        flash(f"“{name}” is deleted.", "success")
    return go(url_for(".library", kind=kind))
