"""Logins, refresh tokens and one-time password reset links. Only SHA-256 hashes of the tokens are stored."""

from peewee import AutoField, CharField, DateTimeField, ForeignKeyField, IntegerField

from app.db import BaseModel
from app.models.base import utcnow
from app.models.user import User


class LoginSession(BaseModel):
    """One login (portal, token or Basic): its id is the `sid` of every access token, portal session and
    remember-me cookie it produced, and the family of its refresh tokens. Revoked by logout, a password
    change or reset, and suspension; every request checks it."""

    id = CharField(max_length=32, primary_key=True, column_name="session_id")
    user = ForeignKeyField(User, on_delete="CASCADE", index=True, column_name="session_user", object_id_name="user_id")
    via = CharField(max_length=16, column_name="session_via")
    created = DateTimeField(default=utcnow, column_name="session_created")
    expires = DateTimeField(column_name="session_expires")
    revoked = DateTimeField(null=True, column_name="session_revoked")

    class Meta:
        table_name = "login_session"


class RefreshToken(BaseModel):
    """One link of a rotation chain. A family is one login; reusing a rotated token revokes it all."""

    id = AutoField(column_name="refresh_id")
    user = ForeignKeyField(User, on_delete="CASCADE", column_name="refresh_user", object_id_name="user_id")
    family = CharField(max_length=32, index=True, column_name="refresh_family")
    token_hash = CharField(max_length=64, unique=True, column_name="refresh_hash")
    created = DateTimeField(default=utcnow, column_name="refresh_created")
    expires = DateTimeField(column_name="refresh_expires")
    used = DateTimeField(null=True, column_name="refresh_used")
    revoked = DateTimeField(null=True, column_name="refresh_revoked")

    class Meta:
        table_name = "refresh_token"


class PasswordReset(BaseModel):
    id = AutoField(column_name="reset_id")
    user = ForeignKeyField(User, on_delete="CASCADE", column_name="reset_user", object_id_name="user_id")
    token_hash = CharField(max_length=64, unique=True, column_name="reset_hash")
    created = DateTimeField(default=utcnow, column_name="reset_created")
    created_by = IntegerField(null=True, column_name="reset_created_by")
    expires = DateTimeField(column_name="reset_expires")
    used = DateTimeField(null=True, column_name="reset_used")

    class Meta:
        table_name = "password_reset"
