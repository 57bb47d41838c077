"""Accounts: argon2 password hashes, roles, and login checks that take the same time whether or not
the account exists."""
from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from peewee import IntegrityError

from app.db import write_transaction
from app.errors import Conflict, Invalid
from app.models import User
from app.models.base import utcnow
from app.models.user import ROLES
from app.permissions import SYSTEM, Actor
from app.services import audit

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 10

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
        raise Invalid(f"the password must have at least {MIN_PASSWORD} characters",
                      {"password": f"must have at least {MIN_PASSWORD} characters"})
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


def set_password(user: User, password: str, actor: Actor = SYSTEM) -> None:
    check_password(password, user.email)
    with write_transaction():
        User.update(password_hash=_hasher.hash(password), updated=utcnow()).where(User.id == user.id).execute()
        audit.record(actor, "user", user.id, "password", {})


def authenticate(email: str, password: str) -> User | None:
    """The active user with these credentials, or None. Unknown accounts still cost one hash check."""
    email = normalize_email(email)
    user = User.get_or_none(User.email == email) if "\x00" not in email else None
    try:
        _hasher.verify(user.password_hash if user else _dummy_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or user.suspended:
        return None
    return user


def active_user(user_id) -> User | None:
    try:
        user = User.get_or_none(User.id == int(user_id))
    except (TypeError, ValueError):
        return None
    return user if user is not None and not user.suspended else None
