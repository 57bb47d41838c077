from peewee import CharField, TextField

from app.db import BaseModel
from app.models.base import entity_fields


class Artist(BaseModel):
    ENTITY = "artist"
    id, version, created, owner = entity_fields(ENTITY)
    name = CharField(max_length=255, column_name="artist_name")
    description = TextField(default="", column_name="artist_description")
