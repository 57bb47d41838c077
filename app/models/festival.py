from peewee import BigIntegerField, BooleanField, CharField, TextField

from app.db import BaseModel
from app.models.base import entity_fields


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
