"""Change counters per table (see app/data_versions.py)."""

from __future__ import annotations

from peewee import BigIntegerField, CharField

from app.db import BaseModel


class DataVersion(BaseModel):
    kind = CharField(max_length=64, primary_key=True, column_name="kind")  # a table name
    version = BigIntegerField(column_name="version")

    class Meta:
        table_name = "data_version"
