"""All tables, in creation order (MODELS is what the migrations are checked against)."""

from app.data_versions import track
from app.models.artist import Artist
from app.models.audit import AuditEntry
from app.models.event import Event
from app.models.festival import Festival, FestivalStage
from app.models.idempotency import IdempotencyRecord
from app.models.keys import ApiKey
from app.models.location import Location
from app.models.media import Image, Link, Place, Video
from app.models.members import FestivalMember
from app.models.relations import RELATION_TABLES
from app.models.sessions import LoginSession, PasswordReset, RefreshToken
from app.models.tag import Tag
from app.models.undo import UndoStep
from app.models.user import User
from app.models.versions import DataVersion

ENTITY_MODELS = [Festival, Event, Artist, Location, Image, Link, Place, Tag, Video]
MODELS = [
    User,
    ApiKey,
    AuditEntry,
    *ENTITY_MODELS,
    *RELATION_TABLES,
    FestivalStage,
    FestivalMember,
    RefreshToken,
    PasswordReset,
    DataVersion,
    LoginSession,
    IdempotencyRecord,
    UndoStep,
]

# the tables a read's answer may depend on: writes to them raise their data versions (app/data_versions.py)
track(*ENTITY_MODELS, *RELATION_TABLES, User, FestivalMember)  # members: who sees which drafts

__all__ = [
    "ApiKey",
    "Artist",
    "AuditEntry",
    "DataVersion",
    "ENTITY_MODELS",
    "Event",
    "Festival",
    "FestivalMember",
    "FestivalStage",
    "IdempotencyRecord",
    "Image",
    "Link",
    "Location",
    "LoginSession",
    "MODELS",
    "PasswordReset",
    "Place",
    "RefreshToken",
    "Tag",
    "UndoStep",
    "User",
    "Video",
]
