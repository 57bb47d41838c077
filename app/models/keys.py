from peewee import AutoField, CharField, DateTimeField, ForeignKeyField

from app.db import BaseModel
from app.models.base import utcnow
from app.models.user import User

KEY_KINDS = ("api", "service")


class ApiKey(BaseModel):
    """An API key (read access for apps) or a service key. Only a hash of the key is stored;
    the prefix is shown in lists so an admin can tell keys apart."""

    id = AutoField(column_name="key_id")
    kind = CharField(max_length=16, default="api", column_name="key_kind")
    prefix = CharField(max_length=32, unique=True, column_name="key_prefix")
    key_hash = CharField(max_length=128, column_name="key_hash")
    comment = CharField(max_length=255, default="", column_name="key_comment")
    created_by = ForeignKeyField(User, null=True, on_delete="SET NULL", column_name="key_created_by")
    created = DateTimeField(default=utcnow, column_name="key_created")
    last_used = DateTimeField(null=True, column_name="key_last_used")
    revoked = DateTimeField(null=True, column_name="key_revoked")

    class Meta:
        table_name = "api_key"
