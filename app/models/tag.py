from peewee import CharField

from app.db import BaseModel
from app.models.base import entity_fields


class Tag(BaseModel):
    ENTITY = "tag"
    id, version, created, owner = entity_fields(ENTITY)
    name = CharField(max_length=255, column_name="tag_name")
    # Unique on app.text.name_key(name): NFC/NFKC + case folding, the same on every database.
    name_key = CharField(max_length=1024, unique=True, column_name="tag_name_key")
