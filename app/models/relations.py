"""Relation tables: one row per linked pair, removed with either side (ON DELETE CASCADE)."""

from __future__ import annotations

from peewee import AutoField, ForeignKeyField

from app.db import BaseModel
from app.models.artist import Artist
from app.models.event import Event
from app.models.festival import Festival
from app.models.location import Location
from app.models.media import Image, Link, Place, Video
from app.models.tag import Tag


def relation_table(owner, related, *, owner_unique=False, related_unique=False):
    """A map_<owner>_<related> table. A pair is unique; `owner_unique` makes it to-one for the owner,
    `related_unique` lets the related row belong to at most one owner (an event to one festival)."""
    o, r = owner.ENTITY, related.ENTITY
    attrs = {
        "id": AutoField(),
        "owner": ForeignKeyField(
            owner, on_delete="CASCADE", column_name=f"{o}_id", unique=owner_unique, object_id_name="owner_id"
        ),
        "related": ForeignKeyField(
            related, on_delete="CASCADE", column_name=f"{r}_id", unique=related_unique, object_id_name="related_id"
        ),
        "__module__": __name__,
        "Meta": type("Meta", (), {"table_name": f"map_{o}_{r}"}),
    }
    model = type(f"Map{owner.__name__}{related.__name__}", (BaseModel,), attrs)
    if not (owner_unique or related_unique):
        model._meta.indexes = [(("owner", "related"), True)]
    return model


FestivalEvent = relation_table(Festival, Event, related_unique=True)
FestivalImage = relation_table(Festival, Image, owner_unique=True)
FestivalPlace = relation_table(Festival, Place, owner_unique=True)
FestivalLink = relation_table(Festival, Link)
FestivalTag = relation_table(Festival, Tag)
ArtistImage = relation_table(Artist, Image, owner_unique=True)
ArtistLink = relation_table(Artist, Link)
ArtistTag = relation_table(Artist, Tag)
LocationImage = relation_table(Location, Image, owner_unique=True)
LocationPlace = relation_table(Location, Place, owner_unique=True)
LocationLink = relation_table(Location, Link)
EventImage = relation_table(Event, Image, owner_unique=True)
EventLocation = relation_table(Event, Location, owner_unique=True)
EventArtist = relation_table(Event, Artist)
FestivalVideo = relation_table(Festival, Video, owner_unique=True)
ArtistVideo = relation_table(Artist, Video, owner_unique=True)
EventVideo = relation_table(Event, Video, owner_unique=True)

RELATION_TABLES = [
    FestivalEvent,
    FestivalImage,
    FestivalPlace,
    FestivalLink,
    FestivalTag,
    ArtistImage,
    ArtistLink,
    ArtistTag,
    LocationImage,
    LocationPlace,
    LocationLink,
    EventImage,
    EventLocation,
    EventArtist,
    FestivalVideo,
    ArtistVideo,
    EventVideo,
]
