from peewee import CharField

from app.db import BaseModel
from app.models.base import entity_fields


def tag_key(name: str) -> str:
    """The case-insensitive identity of a tag name (Unicode casefold, so 'STRASSE' == 'straße')."""
    return name.casefold()


class Tag(BaseModel):
    ENTITY = "tag"
    id, version, created, owner = entity_fields(ENTITY)
    name = CharField(max_length=255, column_name="tag_name")
    # Unique on the folded name: tag names are unique case-insensitively on every database.
    name_key = CharField(max_length=1024, unique=True, column_name="tag_name_key")
