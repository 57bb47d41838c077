from peewee import BigIntegerField, BooleanField, CharField, IntegerField, TextField

from app.db import BaseModel
from app.models.base import entity_fields


class Event(BaseModel):
    ENTITY = "event"
    id, version, created, owner = entity_fields(ENTITY)
    name = CharField(max_length=255, default="", column_name="event_name")
    description = TextField(default="", column_name="event_description")
    type = IntegerField(default=0, column_name="event_type")
    start = BigIntegerField(default=0, column_name="event_start")
    end = BigIntegerField(default=0, column_name="event_end")
    is_scheduled = BooleanField(default=True, column_name="event_is_scheduled")
    has_timeslot = BooleanField(default=True, column_name="event_has_timeslot")
