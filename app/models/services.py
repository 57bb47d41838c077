from peewee import AutoField, BooleanField, CharField, DateTimeField, IntegerField

from app.db import BaseModel
from app.models.base import utcnow


class ServiceInstance(BaseModel):
    """Unused since the discovery registry moved into the gateway (gateway/registry.py): kept only because
    migration 0003 made the table; a later migration drops both."""

    id = AutoField(column_name="instance_id")
    service = CharField(max_length=64, column_name="instance_service")
    host = CharField(max_length=255, column_name="instance_host")
    port = IntegerField(column_name="instance_port")
    available = BooleanField(default=True, column_name="instance_available")
    last_seen = DateTimeField(default=utcnow, index=True, column_name="instance_last_seen")
    key_id = IntegerField(null=True, column_name="instance_key_id")

    class Meta:
        table_name = "service_instance"
        indexes = ((("service", "host", "port"), True),)
