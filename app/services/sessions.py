"""Refresh tokens: stored hashed, rotated on every use; a token used twice means it was stolen, so the
whole family (that login) is revoked."""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from app.db import write_transaction
from app.errors import Unauthorized
from app.models import User
from app.models.base import utcnow
from app.models.sessions import RefreshToken
from app.permissions import Actor
from app.services import audit


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _issue(user_id: int, family: str, ttl: int) -> str:
    token = secrets.token_urlsafe(32)
    now = utcnow()
    RefreshToken.create(user=user_id, family=family, token_hash=_digest(token), created=now,
                        expires=now + timedelta(seconds=ttl))
    return token


def start(user: User, ttl: int) -> str:
    """A new refresh token for a fresh login."""
    with write_transaction():
        return _issue(user.id, secrets.token_hex(16), ttl)


def rotate(token: str, ttl: int) -> tuple[User, str]:
    """Trade a refresh token for (its user, the next token of the family)."""
    reuse = None
    with write_transaction():
        row = RefreshToken.get_or_none(RefreshToken.token_hash == _digest(token)) if isinstance(token, str) else None
        if row is None or row.revoked is not None or row.expires < utcnow():
            raise Unauthorized("the refresh token is invalid or expired")
        # Claim the token in the same statement that checks it: of two concurrent uses only one wins.
        claimed = (RefreshToken.update(used=utcnow())
                   .where((RefreshToken.id == row.id) & RefreshToken.used.is_null()).execute())
        user = User.get_or_none(User.id == row.user_id)
        if claimed and user is not None and not user.suspended:
            return user, _issue(user.id, row.family, ttl)
        if not claimed:
            reuse = row
    if reuse is not None:
        revoke_family(reuse.family, Actor("user", user_id=reuse.user_id, role=None), reason="reuse")
    raise Unauthorized("the refresh token is invalid or expired")


def revoke_family(family: str, actor: Actor, reason: str = "logout") -> None:
    with write_transaction():
        changed = (RefreshToken.update(revoked=utcnow())
                   .where((RefreshToken.family == family) & RefreshToken.revoked.is_null()).execute())
        if changed:
            user_id = RefreshToken.select(RefreshToken.user).where(RefreshToken.family == family).scalar()
            audit.record(actor, "user", user_id, "refresh_revoked", {"reason": reason})


def revoke(token: str, actor: Actor) -> None:
    """Logout: the token's whole family stops working. Unknown tokens are ignored (nothing to revoke)."""
    row = RefreshToken.get_or_none(RefreshToken.token_hash == _digest(token)) if isinstance(token, str) else None
    if row is not None:
        revoke_family(row.family, actor)


def revoke_all(user_id: int) -> None:
    """Every refresh token of a user (suspension, password reset). Call inside the caller's transaction."""
    RefreshToken.update(revoked=utcnow()).where(
        (RefreshToken.user == user_id) & RefreshToken.revoked.is_null()).execute()
