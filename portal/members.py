"""The festival editor's members section: the owner (or an admin) adds editors by the email address of their
account and removes them; an editor may leave. The rules are app/services/members.py's."""

from __future__ import annotations

from flask import flash, url_for
from flask_login import current_user, login_required

from app.services import members
from portal import bp
from portal.festivals import _done, _editor, _status
from portal.forms import MemberForm
from web.forms import ConfirmForm
from web.htmx import go


@bp.post("/festivals/<id:festival_id>/members")
@login_required
def add_member(festival_id: int):
    form = MemberForm()
    added = form.submit(lambda: members.add_editor(festival_id, form.member_email.data or "", current_user.actor))
    if added:
        return _done(festival_id, "members", f"{added['member_email']} edits this festival now.")
    return _editor(festival_id, status=_status(form), fragment="portal/_festival_members.html", member_form=form)


@bp.post("/festivals/<id:festival_id>/members/<id:user_id>/remove")
@login_required
def remove_member(festival_id: int, user_id: int):
    if not ConfirmForm().validate_on_submit():
        return go(url_for(".festival", festival_id=festival_id) + "#members-head")
    removed = members.remove_editor(festival_id, user_id, current_user.actor)
    if user_id == current_user.actor.user_id:  # left: the festival may be a draft one no longer sees
        flash("You are no longer an editor of that festival.", "success")
        return go(url_for(".dashboard"))
    return _done(festival_id, "members", f"{removed['member_email']} no longer edits this festival.")
