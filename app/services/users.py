"""Accounts: argon2 password hashes, roles, and login checks that take the same time whether or not
the account exists."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

import bcrypt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from peewee import IntegrityError

from app import permissions
from app.db import contains_text, write_transaction
from app.errors import Conflict, Invalid, NotFound
from app.models import PasswordReset, User
from app.models.base import utcnow
from app.models.user import ROLES
from app.permissions import ANONYMOUS, SYSTEM, Actor
from app.services import audit, throttle
from app.services.sessions import revoke_all

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 10
# Roles of the Go services' user_role: 42 and 1 are what their admins assigned (and what the old
# `POST /users/{id}/role/{42|1}` still sends); 0 (a new signup) and 2 (a coordinator, never assignable, no
# rights of its own there) become `user`, who reads but creates nothing until an admin makes them a creator.
GO_ROLES = {42: "admin", 1: "creator", 2: "user", 0: "user"}
GO_ASSIGNABLE = {"42": "admin", "1": "creator"}
BCRYPT_PREFIXES = ("$2a$", "$2b$", "$2y$")

_hasher = PasswordHasher()
_dummy_hash = _hasher.hash("festivals-dummy-password")


def configure_hasher(time_cost: int, memory_cost: int) -> None:
    """Set the argon2 cost once at start-up (tests use a cheap one)."""
    global _hasher, _dummy_hash
    _hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost)
    _dummy_hash = _hasher.hash("festivals-dummy-password")


def normalize_email(email: str) -> str:
    return email.strip().lower()


def check_password(password: str, email: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise Invalid(
            f"the password must have at least {MIN_PASSWORD} characters",
            {"password": f"must have at least {MIN_PASSWORD} characters"},
        )
    if password.strip().lower() == email:
        raise Invalid("the password must not be the email address", {"password": "must not be the email address"})


def create_user(email: str, password: str, role: str = "creator", actor: Actor = SYSTEM) -> User:
    email = normalize_email(email)
    if not EMAIL.match(email) or len(email) > 254 or "\x00" in email:
        raise Invalid("a valid email address is required", {"email": "must be an email address"})
    if role not in ROLES:
        raise Invalid(f"role must be one of {', '.join(ROLES)}", {"role": "unknown role"})
    check_password(password, email)
    password_hash = _hasher.hash(password)
    try:
        with write_transaction():
            user = User.create(email=email, password_hash=password_hash, role=role)
            audit.record(actor, "user", user.id, "create", {"role": role})
    except IntegrityError:
        raise Conflict("an account with this email already exists", {"email": "is already registered"}) from None
    return user


def set_password(user: User, password: str, actor: Actor = SYSTEM, keep_login: str | None = None) -> None:
    """A new password ends every login of the user but `keep_login` (the one that changed it)."""

    check_password(password, user.email)
    with write_transaction():
        User.update(password_hash=_hasher.hash(password), updated=utcnow()).where(User.id == user.id).execute()
        revoke_all(user.id, keep=keep_login)
        audit.record(actor, "user", user.id, "password", {})


def _password_matches(password_hash: str, password: str) -> bool:
    """argon2 (ours), or bcrypt (an account imported from the Go services, until its first login)."""
    if password_hash.startswith(BCRYPT_PREFIXES):
        # bcrypt reads at most 72 bytes (the Go services' library cut longer passwords there too)
        return bcrypt.checkpw(password.encode()[:72], password_hash.encode())
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def authenticate(email: str, password: str, client: str | None) -> User | None:
    """The active user with these credentials, or None. Unknown accounts still cost one hash check.
    Attempts beyond the account's or the client's budget raise RateLimited before any check (throttle).
    An imported bcrypt hash is replaced by an argon2 one at its first successful login."""
    email = normalize_email(email)
    throttle.password_check(email, client)
    user = User.get_or_none(User.email == email) if "\x00" not in email else None
    if not _password_matches(user.password_hash if user else _dummy_hash, password):
        return None
    if user is None or user.suspended:
        return None
    if user.password_hash.startswith(BCRYPT_PREFIXES):
        with write_transaction():  # only if still the bcrypt hash: a concurrent change of password wins
            User.update(password_hash=_hasher.hash(password)).where(
                (User.id == user.id) & (User.password_hash == user.password_hash)
            ).execute()
    return user


def signup(email: str, password: str, role: str) -> User | None:
    """Self-service account. An address that is already registered gets no new account and no
    different answer (no user enumeration); the password is hashed either way, so timing matches."""
    email = normalize_email(email)
    if not EMAIL.match(email) or len(email) > 254 or "\x00" in email:
        raise Invalid("a valid email address is required", {"email": "must be an email address"})
    check_password(password, email)
    if User.select().where(User.email == email).exists():
        _hasher.hash(password)
        with write_transaction():
            audit.record(ANONYMOUS, "user", None, "signup_existing", {"email": email})
        return None
    try:
        return create_user(email, password, role, actor=ANONYMOUS)
    except Conflict:  # registered concurrently
        return None


def record_login(email: str, user: User | None, via: str) -> None:
    with write_transaction():
        if user is not None:
            audit.record(Actor("user", user_id=user.id, role=user.role), "user", user.id, "login", {"via": via})
        else:
            audit.record(ANONYMOUS, "user", None, "login_failed", {"email": normalize_email(email)[:254], "via": via})


def change_password(
    user: User, old_password: str, new_password: str, client: str | None, keep_login: str | None = None
) -> None:
    throttle.password_check(user.email, client)  # the same budgets as logging in: it checks a password too
    if not _password_matches(user.password_hash, old_password):
        raise Invalid("the current password is wrong", {"old_password": "is wrong"})
    set_password(user, new_password, Actor("user", user_id=user.id, role=user.role), keep_login=keep_login)


def require_admin(actor: Actor) -> None:
    permissions.require_admin(actor, "manage users and keys")


def get_user(user_id: int) -> User:
    user = User.get_or_none(User.id == user_id)
    if user is None:
        raise NotFound(f"no user with id {user_id}")
    return user


def list_users(actor: Actor, search: str | None = None, limit: int = 50, offset: int = 0) -> tuple[list[User], int]:
    require_admin(actor)
    query = User.select()
    if search:
        query = query.where(contains_text(User.email, search))
    return list(query.order_by(User.id).limit(limit).offset(offset)), query.count()


def set_role(actor: Actor, user_id: int, role: str) -> User:
    require_admin(actor)
    if role not in ROLES:
        raise Invalid(f"role must be one of {', '.join(ROLES)}", {"role": "unknown role"})
    with write_transaction():
        user = get_user(user_id)
        if role != "admin":
            permissions.require_another_admin(user)
        if user.role != role:
            old = user.role
            User.update(role=role, updated=utcnow()).where(User.id == user_id).execute()
            audit.record(actor, "user", user_id, "role", {"from": old, "to": role})
            user.role = role
    return user


def set_suspended(actor: Actor, user_id: int, suspended: bool) -> User:
    """Suspended users cannot log in; every login of theirs (portal sessions, remember-me cookies, access
    and refresh tokens) stops working at once."""

    require_admin(actor)
    if suspended and actor.user_id == user_id:
        raise Invalid("admins cannot suspend themselves", {"user": "is you"})
    with write_transaction():
        user = get_user(user_id)
        if suspended:
            permissions.require_another_admin(user)
        if user.suspended != suspended:
            User.update(suspended=suspended, updated=utcnow()).where(User.id == user_id).execute()
            if suspended:
                revoke_all(user_id)
            audit.record(actor, "user", user_id, "suspend" if suspended else "unsuspend", {})
            user.suspended = suspended
    return user


def _reset_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_reset(actor: Actor, user_id: int, ttl: int = 24 * 3600) -> str:
    """A one-time token for a password reset link (no mail server: the admin passes the link on)."""
    require_admin(actor)
    token = secrets.token_urlsafe(32)
    with write_transaction():
        user = get_user(user_id)
        now = utcnow()
        PasswordReset.create(
            user=user.id,
            token_hash=_reset_digest(token),
            created=now,
            created_by=actor.user_id,
            expires=now + timedelta(seconds=ttl),
        )
        audit.record(actor, "user", user.id, "reset_link", {})
    return token


def reset_target(token: str) -> PasswordReset:
    row = PasswordReset.get_or_none(PasswordReset.token_hash == _reset_digest(token)) if token else None
    if row is None or row.used is not None or row.expires < utcnow():
        raise NotFound("this reset link is invalid, used or expired")
    return row


def reset_password(token: str, new_password: str) -> User:

    with write_transaction():
        row = reset_target(token)
        user = get_user(row.user_id)
        check_password(new_password, user.email)
        claimed = (
            PasswordReset.update(used=utcnow())
            .where((PasswordReset.id == row.id) & PasswordReset.used.is_null())
            .execute()
        )
        if not claimed:
            raise NotFound("this reset link is invalid, used or expired")
        User.update(password_hash=_hasher.hash(new_password), updated=utcnow()).where(User.id == user.id).execute()
        revoke_all(user.id)
        audit.record(Actor("user", user_id=user.id, role=user.role), "user", user.id, "password_reset", {})
    return user


def user_by_email(actor: Actor, email: str) -> User:
    """The account with this email (admins only); NotFound with a message a person can read."""
    require_admin(actor)
    email = normalize_email(email or "")
    user = User.get_or_none(User.email == email) if email and "\x00" not in email else None
    if user is None:
        raise NotFound(f"there is no account with the email {email or '(empty)'}", {"email": "no such account"})
    return user
