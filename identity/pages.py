"""Login, logout, signup, password and reset pages of the portal (server-rendered; flask-login)."""
from __future__ import annotations

from flask import Blueprint
from flask_login import UserMixin

from app.extensions import login_manager
from app.services import users

bp = Blueprint("identity_pages", __name__)


class PortalUser(UserMixin):
    """The logged-in user of a portal session, loaded from the database on every request, so a
    suspension or role change takes effect at once."""

    def __init__(self, user):
        self.id = user.id
        self.email = user.email
        self.role = user.role

    def get_id(self) -> str:
        return str(self.id)


@login_manager.user_loader
def load_user(user_id: str):
    user = users.active_user(user_id)
    return PortalUser(user) if user is not None else None


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset(token: str):
    raise NotImplementedError  # filled in by the login pages work
