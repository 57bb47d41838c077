"""The organizers' portal (server-rendered, htmx). A home page for now; the portal issue builds it."""
from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("portal", __name__)


@bp.get("/")
def home():
    return render_template("portal/home.html")
