from peewee import AutoField, BigIntegerField, BooleanField, CharField, ForeignKeyField, IntegerField, TextField

from app.db import BaseModel
from app.models.base import entity_fields
from app.models.location import Location


class Festival(BaseModel):
    ENTITY = "festival"
    id, version, created, owner = entity_fields(ENTITY)
    is_valid = BooleanField(default=False, column_name="festival_is_valid")
    name = CharField(max_length=255, unique=True, column_name="festival_name")
    # Unique on app.text.name_key(name): 'Café', 'CAFÉ' (NFD) and 'ＣＡＦÉ' are one name.
    name_key = CharField(max_length=1024, null=True, unique=True, column_name="festival_name_key")
    start = BigIntegerField(default=0, column_name="festival_start")
    end = BigIntegerField(default=0, column_name="festival_end")
    description = TextField(default="", column_name="festival_description")
    price = CharField(max_length=255, default="", column_name="festival_price")
    # IANA name: the portal enters and shows times in it; the API's times stay unix seconds.
    timezone = CharField(max_length=64, default="UTC", column_name="festival_timezone")


class FestivalStage(BaseModel):
    """The order of a festival's stages (its timetable's columns, the same every day)."""

    id = AutoField()
    festival = ForeignKeyField(
        Festival, on_delete="CASCADE", column_name="festival_id", object_id_name="festival_id", index=False
    )  # the unique (festival, location) index serves lookups by festival
    location = ForeignKeyField(Location, on_delete="CASCADE", column_name="location_id", object_id_name="location_id")
    position = IntegerField(column_name="stage_position")

    class Meta:
        table_name = "festival_stage"
        indexes = ((("festival", "location"), True),)
