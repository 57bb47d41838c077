from __future__ import annotations

from datetime import UTC, datetime

from peewee import AutoField, BooleanField, CharField, DateTimeField

from app.db import BaseModel

ROLES = ("admin", "creator", "user")


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class User(BaseModel):
    id = AutoField(column_name="user_id")
    email = CharField(max_length=254, unique=True, column_name="user_email")
    password_hash = CharField(max_length=255, column_name="user_password_hash")
    role = CharField(max_length=16, default="creator", column_name="user_role")
    suspended = BooleanField(default=False, column_name="user_suspended")
    created = DateTimeField(default=_now, column_name="user_created")
    updated = DateTimeField(default=_now, column_name="user_updated")

    class Meta:
        table_name = "app_user"  # "user" is reserved in PostgreSQL

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"
