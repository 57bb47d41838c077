"""The start page, and an organizer's dashboard of their festivals."""

from __future__ import annotations

from flask import redirect, request, url_for
from flask_login import current_user, login_required

from app.permissions import can_create
from app.services import festivals
from portal import bp
from portal.paging import Paging
from web.htmx import render


@bp.get("/")
def home():
    if current_user.is_authenticated and can_create(current_user.actor):
        return redirect(url_for("portal.dashboard"))
    return render("portal/home.html")


@bp.get("/festivals")
@login_required
def dashboard():
    page = Paging.parse(request.args, per_page=20)
    rows, page.total = festivals.dashboard(current_user.actor, page.per_page, page.offset)
    return render("portal/dashboard.html", "portal/_festival_table.html", festivals=rows, page=page)
