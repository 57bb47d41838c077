"""Answers of POSTs sent with an Idempotency-Key, kept 24 hours (see app/services/idempotency.py)."""

from __future__ import annotations

from peewee import CharField, CompositeKey, DateTimeField, IntegerField, TextField

from app.db import BaseModel


class IdempotencyRecord(BaseModel):
    caller = CharField(max_length=64, column_name="idem_caller")  # "user:<id>": keys are per caller
    key = CharField(max_length=255, column_name="idem_key")
    fingerprint = CharField(max_length=64, column_name="idem_fingerprint")  # what was asked (entity and body)
    status = IntegerField(column_name="idem_status")
    answer = TextField(column_name="idem_answer")  # JSON: {"data": [...], "tag": "<version tag>"}
    created = DateTimeField(index=True, column_name="idem_created")

    class Meta:
        table_name = "idempotency_record"
        primary_key = CompositeKey("caller", "key")
