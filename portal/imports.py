"""CSV import of a festival's events: upload or paste → (column mapping when the headers differ) →
preview of every row → confirm. Nothing is saved before the confirmation; the file travels with the forms
(a hidden field), so no half-finished import is kept anywhere."""

from __future__ import annotations

from flask import current_app, flash, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms import HiddenField, TextAreaField

from app.errors import Conflict, DomainError, Invalid
from app.services import festivals, imports
from app.text import whole_number
from portal import bp
from portal.filters import counted
from portal.undo import after_redirect, recorded
from web.forms import sentence
from web.htmx import go, render
from web.requests import body_limit_text, large_body


class ImportForm(FlaskForm):
    file = FileField("CSV file", description="A spreadsheet saved as CSV (comma, semicolon or tab separated).")
    text = TextAreaField("…or paste the rows", render_kw={"rows": 6, "spellcheck": "false"})


class CarryForm(FlaskForm):
    """The file read in the first step, carried through the mapping and preview steps."""

    csv_text = HiddenField()
    digest = HiddenField()


def _page(festival_id: int, template: str, status: int = 200, **context):
    festival, _ = festivals.festival_with_parts(festival_id, current_user.actor)
    return render(
        f"portal/{template}",
        status=status,
        festival=festival,
        fields=imports.FIELDS,
        required=imports.REQUIRED,
        **context,
    )


def _mapping_page(festival_id: int, text: str, table: imports.Table, mapping: dict, errors: dict | None = None):
    carry = CarryForm(formdata=None, csv_text=text)
    return _page(
        festival_id,
        "import_mapping.html",
        422 if errors else 200,
        table=table,
        mapping=mapping,
        errors=errors or {},
        carry=carry,
        samples=[cells for _, cells in table.rows[:3]],
    )


def _preview_page(
    festival_id: int, text: str, table: imports.Table, mapping: dict, message: str = "", status: int = 200
):
    plan = imports.preview(festival_id, current_user.actor, table, mapping)
    carry = CarryForm(formdata=None, csv_text=text, digest=plan.digest)
    return _page(
        festival_id,
        "import_preview.html",
        status,
        plan=plan,
        mapping=mapping,
        carry=carry,
        message=message,
        headers=table.headers,
    )


@bp.route("/festivals/<id:festival_id>/import", methods=["GET", "POST"])
@large_body
@login_required
def import_events(festival_id: int):
    """Step 1: the file. Known headers go straight to the preview, others to the mapping step."""
    form = ImportForm()
    if form.validate_on_submit():
        upload = form.file.data
        text = imports.decode(upload.read()) if upload and upload.filename else (form.text.data or "")
        try:
            table = imports.read_csv(text)
        except Invalid as exc:
            form.file.errors = [sentence(exc.message)]
        else:
            if imports.needs_mapping(table.headers):
                return _mapping_page(festival_id, text, table, imports.guess_mapping(table.headers))
            return _preview_page(festival_id, text, table, imports.guess_mapping(table.headers))
    status = 422 if form.is_submitted() else 200
    return _page(festival_id, "import.html", status, form=form)


def _carried(festival_id: int):
    """The carried file, read again; a broken carry (a tampered or expired form) goes back to step 1."""
    carry = CarryForm()
    if not carry.validate_on_submit():
        flash("The form expired; choose the file again.", "error")
        return None, None, None
    try:
        return carry, carry.csv_text.data or "", imports.read_csv(carry.csv_text.data or "")
    except Invalid as exc:
        flash(sentence(exc.message), "error")
        return None, None, None


@bp.post("/festivals/<id:festival_id>/import/preview")
@large_body
@login_required
def import_preview(festival_id: int):
    """Step 2: the columns as chosen in the mapping step (or, without choices, the mapping step again)."""
    carry, text, table = _carried(festival_id)
    if table is None:
        return go(url_for(".import_events", festival_id=festival_id))
    if "map_name" not in request.form:
        return _mapping_page(festival_id, text, table, imports.guess_mapping(table.headers))
    try:
        mapping = imports.parse_mapping(request.form, table.headers)
    except Invalid as exc:
        chosen = {name: request.form.get(f"map_{name}", "") for name in imports.FIELDS}
        chosen = {name: whole_number(value) for name, value in chosen.items()}
        return _mapping_page(festival_id, text, table, chosen, exc.fields)
    return _preview_page(festival_id, text, table, mapping)


@bp.post("/festivals/<id:festival_id>/import/confirm")
@large_body
@login_required
def import_confirm(festival_id: int):
    """Step 3: save what the preview showed, in one transaction."""
    carry, text, table = _carried(festival_id)
    if table is None:
        return go(url_for(".import_events", festival_id=festival_id))
    mapping = imports.parse_mapping(request.form, table.headers)
    try:
        plan, offer = recorded(
            festival_id,
            "the import",
            lambda: imports.confirm(festival_id, current_user.actor, table, mapping, carry.digest.data or ""),
        )
    except Conflict as exc:
        return _preview_page(festival_id, text, table, mapping, sentence(exc.message), 409)
    counts = plan.counts
    flash(
        f"Imported: {counts['new']} new, {counts['changed']} changed, {counts['unchanged']} unchanged"
        + (f", {counted(counts['error'], 'row')} with errors left out." if counts["error"] else "."),
        "success",
    )
    after_redirect(offer, "events")
    return go(url_for(".events", festival_id=festival_id))


IMPORT_STEPS = {"portal.import_events", "portal.import_preview", "portal.import_confirm"}


@bp.errorhandler(RequestEntityTooLarge)
def import_too_large(exc: RequestEntityTooLarge):
    """A file over the import limit: the first step again, the limit next to the file field (other pages: the
    plain 413)."""
    festival_id = (request.view_args or {}).get("festival_id")
    if request.endpoint not in IMPORT_STEPS or festival_id is None or not current_user.is_authenticated:
        return exc
    form = ImportForm(formdata=None)
    limit = body_limit_text(current_app.config["MAX_IMPORT_BYTES"])
    form.file.errors = [f"The file is larger than the import limit of {limit}."]
    try:
        return _page(festival_id, "import.html", 413, form=form)
    except DomainError:  # not the caller's festival
        return exc
