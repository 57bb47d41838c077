from peewee import AutoField, CharField, DateTimeField, IntegerField, TextField

from app.db import BaseModel
from app.models.base import utcnow


class AuditEntry(BaseModel):
    """Who changed what, when. Actor is kept as a plain id so entries outlive deleted users."""

    id = AutoField(column_name="audit_id")
    at = DateTimeField(default=utcnow, index=True, column_name="audit_at")
    actor_id = IntegerField(null=True, index=True, column_name="audit_actor_id")
    actor_kind = CharField(max_length=16, default="user", column_name="audit_actor_kind")
    entity = CharField(max_length=32, index=True, column_name="audit_entity")
    entity_id = IntegerField(null=True, column_name="audit_entity_id")
    action = CharField(max_length=32, column_name="audit_action")
    # JSON: changed field names, or the related entity of a link/unlink.
    details = TextField(default="{}", column_name="audit_details")

    class Meta:
        table_name = "audit_entry"
