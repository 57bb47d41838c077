"""Columns every contract entity has."""

from __future__ import annotations

from datetime import UTC, datetime

from peewee import AutoField, DateTimeField, ForeignKeyField

from app.models.user import User


def utcnow() -> datetime:
    """Naive UTC with microseconds: stored the same way on SQLite and PostgreSQL."""
    return datetime.now(UTC).replace(tzinfo=None)


def entity_fields(entity: str):
    """id, version, created, owner of an entity, with the contract's `<entity>_<field>` column names.

    Used as `id, version, created, owner = entity_fields("festival")` in a model body."""
    return (
        AutoField(column_name=f"{entity}_id"),
        DateTimeField(default=utcnow, index=True, column_name=f"{entity}_version"),
        DateTimeField(default=utcnow, column_name=f"{entity}_created"),
        ForeignKeyField(
            User, null=True, on_delete="SET NULL", index=True, column_name=f"{entity}_owner", object_id_name="owner_id"
        ),
    )
