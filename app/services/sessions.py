"""Logins and refresh tokens.

Every login (portal form, POST /token, Basic) is a LoginSession; its id is the `sid` of the access tokens,
portal session and remember-me cookie it produced, and the family of its refresh tokens. Each request
looks up the user together with that session (one query), so a logout, a password change or reset and a
suspension end them at once. Refresh tokens are stored hashed and rotated on every use; a token used
twice means it was stolen, so the whole family (that login) is revoked."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from app.db import write_transaction
from app.errors import Unauthorized
from app.models import User
from app.models.base import utcnow
from app.models.sessions import LoginSession, RefreshToken
from app.permissions import Actor
from app.services import audit


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _issue(user_id: int, family: str, ttl: int) -> str:
    token = secrets.token_urlsafe(32)
    now = utcnow()
    RefreshToken.create(
        user=user_id, family=family, token_hash=_digest(token), created=now, expires=now + timedelta(seconds=ttl)
    )
    return token


def start_login(user: User, via: str, ttl: int) -> str:
    """A new login of `user` lasting `ttl` seconds (longer when used: see extend); returns its id."""
    with write_transaction():
        return _start_login(user.id, via, ttl)


def _start_login(user_id: int, via: str, ttl: int) -> str:
    sid = secrets.token_hex(16)
    now = utcnow()
    LoginSession.create(id=sid, user=user_id, via=via, created=now, expires=now + timedelta(seconds=ttl))
    return sid


def session_user(user_id, sid) -> User | None:
    """The active user of a live login, in one query; None when the login was revoked or expired, the
    user suspended or gone, or the ids are malformed."""
    if not isinstance(sid, str) or len(sid) != 32:
        return None
    try:
        user_id = int(user_id)
    except (TypeError, ValueError):
        return None
    return (
        User.select()
        .join(LoginSession, on=(LoginSession.user == User.id))
        .where(
            (User.id == user_id)
            & ~User.suspended
            & (LoginSession.id == sid)
            & LoginSession.revoked.is_null()
            & (LoginSession.expires > utcnow())
        )
        .first()
    )


def extend(sid: str, ttl: int) -> None:
    """A login in use lives `ttl` seconds from now (the old clients renew their access token)."""
    with write_transaction():
        _extend(sid, ttl)


def _extend(sid: str, ttl: int) -> None:
    LoginSession.update(expires=utcnow() + timedelta(seconds=ttl)).where(LoginSession.id == sid).execute()


def end_login(sid: str, actor: Actor) -> None:
    """Logout of one login: its session, cookies, access and refresh tokens stop working."""
    revoke_family(sid, actor)


def start(user: User, ttl: int) -> tuple[str, str]:
    """A fresh login with refresh tokens: (its id, the first refresh token)."""
    with write_transaction():
        sid = _start_login(user.id, "token", ttl)
        return sid, _issue(user.id, sid, ttl)


def rotate(token: str, ttl: int) -> tuple[User, str, str]:
    """Trade a refresh token for (its user, the login id, the next token of the family)."""
    reuse = None
    with write_transaction():
        row = RefreshToken.get_or_none(RefreshToken.token_hash == _digest(token)) if isinstance(token, str) else None
        if row is None or row.revoked is not None or row.expires < utcnow():
            raise Unauthorized("the refresh token is invalid or expired")
        # Claim the token in the same statement that checks it: of two concurrent uses only one wins.
        claimed = (
            RefreshToken.update(used=utcnow())
            .where((RefreshToken.id == row.id) & RefreshToken.used.is_null())
            .execute()
        )
        user = session_user(row.user_id, row.family)
        if claimed and user is not None:
            _extend(row.family, ttl)
            return user, row.family, _issue(user.id, row.family, ttl)
        if not claimed:
            reuse = row
    if reuse is not None:
        revoke_family(reuse.family, Actor("user", user_id=reuse.user_id, role=None), reason="reuse")
    raise Unauthorized("the refresh token is invalid or expired")


def revoke_family(family: str, actor: Actor, reason: str = "logout") -> None:
    """A login (refresh family = login id) ends: its refresh tokens and the login itself."""
    with write_transaction():
        now = utcnow()
        changed = (
            RefreshToken.update(revoked=now)
            .where((RefreshToken.family == family) & RefreshToken.revoked.is_null())
            .execute()
        )
        changed += (
            LoginSession.update(revoked=now)
            .where((LoginSession.id == family) & LoginSession.revoked.is_null())
            .execute()
        )
        if changed:
            user_id = LoginSession.select(LoginSession.user).where(LoginSession.id == family).scalar()
            if user_id is None:  # refresh tokens of a login made before logins were recorded
                user_id = RefreshToken.select(RefreshToken.user).where(RefreshToken.family == family).scalar()
            audit.record(actor, "user", user_id, "refresh_revoked", {"reason": reason})


def revoke(token: str, actor: Actor) -> None:
    """Logout: the token's whole family stops working. Unknown tokens are ignored (nothing to revoke)."""
    row = RefreshToken.get_or_none(RefreshToken.token_hash == _digest(token)) if isinstance(token, str) else None
    if row is not None:
        revoke_family(row.family, actor)


def revoke_all(user_id: int, keep: str | None = None) -> None:
    """Every login of a user but `keep` (suspension, password change or reset): their sessions, cookies,
    access and refresh tokens stop working. Call inside the caller's transaction."""
    now, keep = utcnow(), keep or ""
    RefreshToken.update(revoked=now).where(
        (RefreshToken.user == user_id) & RefreshToken.revoked.is_null() & (RefreshToken.family != keep)
    ).execute()
    LoginSession.update(revoked=now).where(
        (LoginSession.user == user_id) & LoginSession.revoked.is_null() & (LoginSession.id != keep)
    ).execute()
