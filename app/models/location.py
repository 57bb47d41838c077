from peewee import BooleanField, CharField, TextField

from app.db import BaseModel
from app.models.base import entity_fields


class Location(BaseModel):
    ENTITY = "location"
    id, version, created, owner = entity_fields(ENTITY)
    name = CharField(max_length=255, column_name="location_name")
    description = TextField(default="", column_name="location_description")
    accessible = BooleanField(default=False, column_name="location_accessible")
    openair = BooleanField(default=False, column_name="location_openair")
