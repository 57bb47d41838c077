"""Who is calling: a user (Bearer token), an app (Api-Key) or nobody. The user is read from the database
at each request together with the token's login (`sid`), so a changed role, a suspension, a logout or a
password change takes effect at once."""

from __future__ import annotations

from flask import current_app, request

from app.data_versions import READ_WITH_KEY
from app.errors import Unauthorized
from app.models import User
from app.permissions import ANONYMOUS, Actor, require_admin
from app.services import api_keys, sessions
from identity.tokens import verify_access_token

READS = ("GET", "HEAD")


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def token_login(token: str) -> tuple[User, str]:
    """(the user, the login id) of a valid access token whose login is still live; else Unauthorized."""
    config = current_app.config
    claims = verify_access_token(
        token,
        current_app.extensions["token_verifier"],
        issuer=config["TOKEN_ISSUER"],
        audience=config["TOKEN_AUDIENCE"],
    )
    user = sessions.session_user(claims["sub"], claims["sid"])
    if user is None:
        raise Unauthorized("this login has ended (logout, password change or suspension); log in again")
    return user, claims["sid"]


def actor_from_token(token: str) -> Actor:
    user, _ = token_login(token)
    return Actor("user", user_id=user.id, role=user.role)


def resolve_actor() -> Actor:
    """A Bearer token wins over an Api-Key (the iOS client sends both when a user is logged in)."""
    token = bearer_token()
    if token is not None:
        return actor_from_token(token)
    key = request.headers.get("Api-Key")
    if key:
        record_use = not current_app.config["READ_ONLY"]
        if request.method in READS:  # the counters a cached read keys its answer by come in the same query
            key_id, request.environ[READ_WITH_KEY] = api_keys.verify_key_reading_versions(key, "api", record_use)
        else:
            row = api_keys.verify_key(key, "api", record_use)
            key_id = row.id if row is not None else None
        if key_id is None:
            raise Unauthorized("the Api-Key is unknown or revoked")
        return Actor("api_key", key_id=key_id)
    return ANONYMOUS


def require_admin_token(what: str) -> Actor:
    """An admin's Bearer token (Api-Keys and cookies do not count): 401 without a valid one, 403 for others."""
    token = bearer_token()
    if token is None:
        raise Unauthorized(f"an admin's Bearer token is required to {what}")
    actor = actor_from_token(token)
    require_admin(actor, what)
    return actor
