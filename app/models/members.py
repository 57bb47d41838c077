"""A festival's members besides its owner (`festival.owner`): its editors."""

from peewee import AutoField, CharField, DateTimeField, ForeignKeyField

from app.db import BaseModel
from app.models.base import utcnow
from app.models.festival import Festival
from app.models.user import User

EDITOR = "editor"


class FestivalMember(BaseModel):
    """An account that edits the festival and its events; who may do what is app/permissions.py's answer."""

    id = AutoField()
    festival = ForeignKeyField(
        Festival, on_delete="CASCADE", column_name="festival_id", object_id_name="festival_id", index=False
    )  # the unique (festival, user) index serves lookups by festival
    user = ForeignKeyField(User, on_delete="CASCADE", column_name="user_id", object_id_name="user_id")
    role = CharField(max_length=16, default=EDITOR, column_name="member_role")
    created = DateTimeField(default=utcnow, column_name="member_created")

    class Meta:
        table_name = "festival_member"
        indexes = ((("festival", "user"), True),)
