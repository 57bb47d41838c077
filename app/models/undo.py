from peewee import AutoField, CharField, DateTimeField, IntegerField, TextField

from app.db import BaseModel
from app.models.base import utcnow


class UndoStep(BaseModel):
    """A change to a festival's events that its author may take back for a short while (app/services/undo.py):
    the events as they were before it and their versions right after it. Plain ids: a step outlives nothing it
    names (a deleted festival or user makes it useless, never an error)."""

    id = AutoField(column_name="undo_id")
    at = DateTimeField(default=utcnow, column_name="undo_at")
    user_id = IntegerField(index=True, column_name="undo_user_id")
    festival_id = IntegerField(column_name="undo_festival_id")
    label = CharField(max_length=600, column_name="undo_label")  # what it was: "the edit of “Opening”"
    state = TextField(column_name="undo_state")  # JSON: {"before": {id: snapshot}, "after": {id: version}}

    class Meta:
        table_name = "undo_step"
