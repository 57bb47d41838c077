"""Admin pages (role admin only; a 403 page otherwise): users, API and service keys, all festivals
with ownership transfer, the audit log.

Plain forms answer 303 back to the list they came from (with a flash); htmx forms get the changed row
or section back (422 with the message in place when the service refused). The two one-time secrets —
a password reset link and a new key — are shown in the POST's own answer (no-store) and never again."""

from __future__ import annotations

from flask import Blueprint, flash, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from app.errors import Conflict, Invalid, NotFound
from app.models.keys import KEY_KINDS
from app.services import api_keys, audit, writes
from app.services import users as accounts
from portal.admin_forms import AuditFilterForm, KeyForm, RevokeForm, RoleForm, SuspendForm, TransferForm
from portal.errors import init_errors, problem
from portal.paging import Paging
from web.extensions import login_manager
from web.forms import ConfirmForm, safe_next, sentence
from web.htmx import go, is_htmx, render, vary_on_htmx

bp = Blueprint("admin", __name__, url_prefix="/admin")
bp.after_request(vary_on_htmx)
init_errors(bp)

KIND_TITLES = {"api": "API keys", "service": "Service keys"}


@bp.before_request
def _admins_only():
    """Logged out: to the login page (and back). Logged in without the admin role: a 403 page."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    accounts.require_admin(current_user.actor)
    return None


@bp.after_request
def _no_store(response):
    response.cache_control.no_store = True  # account data, one-time secrets and CSRF tokens
    return response


@bp.errorhandler(CSRFError)
def _csrf_failed(exc):
    return problem(400, "This form has expired or was sent from elsewhere. Reload the page and try again.")


def _actor():
    return current_user.actor


def _back(default: str) -> str:
    """Where a plain form returns to: the admin list it was sent from (its search and page kept)."""
    return safe_next(request.form.get("back", ""), default, prefix="/admin/")


def _search_text(limit: int) -> str:
    """`?q=`, without the characters no stored name or email can hold (NUL)."""
    return request.args.get("q", "").replace("\x00", "").strip()[:limit]


def _search_page(find, max_length: int) -> dict:
    """A searchable, paged admin list: `find(actor, search, limit, offset)` -> (rows, total); the result is
    the template's context (rows, paging, search, and `back`, this page for the forms on its rows)."""
    paging = Paging.parse(request.args)
    search = _search_text(max_length)
    rows, paging.total = find(_actor(), search or None, paging.per_page, paging.offset)
    return {"rows": rows, "paging": paging, "search": search, "back": request.full_path.rstrip("?")}


# --- users -----------------------------------------------------------------------------------------


@bp.get("/users", endpoint="users")
def user_list():
    page = _search_page(accounts.list_users, 254)
    logins = audit.last_logins(_actor(), [row.id for row in page["rows"]])
    return render("portal/admin/users.html", "portal/admin/_user_results.html", logins=logins, **page)


def _user_changed(user_id: int, form, change, done: str):
    """Run a change of one user; htmx gets the row (422 with the service's message when refused),
    a plain form a flash and a 303 back to the list."""
    try:
        user, message, status = change(), None, 200
    except (Invalid, Conflict) as exc:  # e.g. the last admin
        user, message, status = accounts.get_user(user_id), sentence(exc.message), 422
    if is_htmx():
        return render(
            "portal/admin/_user_row.html",
            status=status,
            user=user,
            back=_back(url_for(".users")),
            logins=audit.last_logins(_actor(), [user.id]),
            error=message,
            notice=None if message else done.format(user=user),
        )
    flash(message or done.format(user=user), "error" if message else "success")
    return go(_back(url_for(".users")))


@bp.post("/users/<id:user_id>/role")
def user_role(user_id: int):
    form = RoleForm()
    return _user_changed(
        user_id,
        form,
        lambda: accounts.set_role(_actor(), user_id, form.role.data or ""),
        "{user.email} is now {user.role}.",
    )


@bp.post("/users/<id:user_id>/suspension")
def user_suspension(user_id: int):
    form = SuspendForm()

    def change():
        if form.suspend.data not in ("0", "1"):
            raise Invalid("choose whether to suspend the account or lift the suspension")
        return accounts.set_suspended(_actor(), user_id, form.suspend.data == "1")

    return _user_changed(
        user_id, form, change, "{user.email} is " + ("suspended." if form.suspend.data == "1" else "active again.")
    )


@bp.post("/users/<id:user_id>/reset-link")
def user_reset_link(user_id: int):
    ConfirmForm()  # the CSRF token is checked for every POST; nothing else to read
    token = accounts.create_reset(_actor(), user_id)
    user = accounts.get_user(user_id)
    link = url_for("identity_pages.reset", token=token, _external=True)
    return render(
        "portal/admin/reset_link.html",
        "portal/admin/_reset_link.html",
        user=user,
        link=link,
        back=_back(url_for(".users")),
    )


# --- API and service keys --------------------------------------------------------------------------


def _sections(**extra) -> list[dict]:
    return [
        {
            "kind": kind,
            "title": KIND_TITLES.get(kind, kind),
            "keys": api_keys.list_keys(_actor(), kind),
            "form": KeyForm(kind=kind, formdata=None),
            **extra.get(kind, {}),
        }
        for kind in KEY_KINDS
    ]


def _keys_answer(kind: str, status: int = 200, **section):
    sections = _sections(**{kind: section})
    current = next(s for s in sections if s["kind"] == kind)
    return render(
        "portal/admin/keys.html", "portal/admin/_key_section.html", status, sections=sections, section=current
    )


@bp.get("/keys")
def keys():
    return render("portal/admin/keys.html", sections=_sections())


@bp.post("/keys")
def key_create():
    form = KeyForm()
    kind = form.kind.data
    if kind not in KEY_KINDS:
        flash("Choose an API key or a service key.", "error")
        return go(url_for(".keys"))
    if form.validate_on_submit():
        try:
            plain, row = api_keys.create_key((form.comment.data or "").strip(), kind, _actor())
        except Invalid as exc:
            form.comment.errors = [*form.comment.errors, sentence(exc.fields.get("comment", exc.message))]
        else:
            return _keys_answer(kind, new_key=plain, new_row=row)
    return _keys_answer(kind, 422, form=form)


@bp.post("/keys/<id:key_id>/revoke")
def key_revoke(key_id: int):
    """Without JavaScript the first POST shows a confirmation page whose form revokes; with htmx the
    browser has already asked (hx-confirm) and the section comes back with the key marked revoked."""
    form = RevokeForm()
    row = api_keys.get_key(_actor(), key_id)
    if form.confirmed.data != "1":
        return render("portal/admin/key_revoke.html", key=row, kind_title=KIND_TITLES.get(row.kind, row.kind))
    api_keys.revoke_key(key_id, _actor(), row.kind)
    done = f"The key {row.prefix}… is revoked."
    if is_htmx():
        return _keys_answer(row.kind, notice=done)
    flash(done, "success")
    return go(url_for(".keys") + f"#keys-{row.kind}")


# --- festivals -------------------------------------------------------------------------------------


@bp.get("/festivals")
def festivals():
    page = _search_page(writes.festivals_with_owners, 255)
    return render("portal/admin/festivals.html", "portal/admin/_festival_results.html", **page)


@bp.post("/festivals/<id:festival_id>/owner")
def festival_owner(festival_id: int):
    form = TransferForm()
    message = None
    if not form.validate_on_submit():
        message = " ".join(form.email.errors) or "Please enter an email address."
    else:
        try:
            owner = accounts.user_by_email(_actor(), form.email.data)
        except NotFound as exc:
            message = sentence(exc.message)
        else:
            writes.transfer_owner("festival", festival_id, owner.id, _actor())
    rows, _ = writes.festivals_with_owners(_actor(), festival_id=festival_id)
    if not rows:
        raise NotFound(f"no festival with id {festival_id}")
    done = None if message else f"“{rows[0]['festival_name']}” now belongs to {rows[0]['owner_email']}."
    if is_htmx():
        return render(
            "portal/admin/_festival_row.html",
            status=422 if message else 200,
            festival=rows[0],
            back=_back(url_for(".festivals")),
            error=message,
            notice=done,
            typed=form.email.data,
        )
    flash(message or done, "error" if message else "success")
    return go(_back(url_for(".festivals")))


# --- audit log -------------------------------------------------------------------------------------


@bp.get("/audit")
def audit_log():
    paging = Paging.parse(request.args)
    form = AuditFilterForm(request.args)
    filters = form.parse(audit.entity_names(_actor()))
    entries = []
    if filters is not None:
        entries, paging.total = audit.list_entries(_actor(), filters, paging.per_page, paging.offset)
        entries = audit.in_words(_actor(), entries)
    return render(
        "portal/admin/audit.html",
        "portal/admin/_audit_results.html",
        200 if filters else 422,
        entries=entries,
        paging=paging,
        form=form,
        query=form.query(),
    )


from portal import admin_services  # noqa: E402,F401 - /admin/services, on this blueprint
