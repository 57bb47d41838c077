"""The contract's entities and relations as data: api/, portal/ and the services iterate over these
instead of repeating eight near-identical handlers."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.models import Artist, Event, Festival, Image, Link, Location, Place, Tag, Video
from app.models import relations as rel


@dataclass(frozen=True, eq=False)  # hashed by identity: one spec per entity
class EntitySpec:
    name: str  # "festival": JSON key prefix and audit name
    plural: str  # "festivals": URL segment
    model: type
    fields: tuple[str, ...]  # model attributes written to JSON as `<name>_<attr>`, in order
    versioned: bool = True  # image and tag carry no version field in v1 output
    searchable: bool = True  # supports `name=`
    required: tuple[str, ...] = ()  # JSON keys a create must send
    relations: dict = field(default_factory=dict)  # segment/alias -> RelationSpec

    def key(self, attr: str) -> str:
        return f"{self.name}_{attr}"


@dataclass(frozen=True)
class RelationSpec:
    owner: str  # entity on whose path the relation hangs
    segment: str  # canonical path segment ("events", "image")
    related: str  # related entity name
    table: type  # the map_* model
    owner_column: object  # column of `table` holding the owner's id
    related_column: object  # column of `table` holding the related id
    to_one: bool = False
    read_only: bool = False  # reverse relations are read, never written from this side


ENTITIES: dict[str, EntitySpec] = {}
BY_PLURAL: dict[str, EntitySpec] = {}


def _entity(spec: EntitySpec) -> None:
    ENTITIES[spec.name] = spec
    BY_PLURAL[spec.plural] = spec


_entity(
    EntitySpec(
        "festival",
        "festivals",
        Festival,
        ("id", "version", "is_valid", "name", "start", "end", "description", "price", "timezone"),
        required=("festival_name",),
    )
)
_entity(
    EntitySpec(
        "event",
        "events",
        Event,
        ("id", "version", "name", "description", "type", "start", "end", "is_scheduled", "has_timeslot"),
    )
)
_entity(EntitySpec("artist", "artists", Artist, ("id", "version", "name", "description"), required=("artist_name",)))
_entity(
    EntitySpec(
        "location",
        "locations",
        Location,
        ("id", "version", "name", "description", "accessible", "openair"),
        required=("location_name",),
    )
)
_entity(
    EntitySpec(
        "image",
        "images",
        Image,
        ("id", "hash", "comment", "ref"),
        versioned=False,
        searchable=False,
        required=("image_ref",),
    )
)
_entity(
    EntitySpec("link", "links", Link, ("id", "version", "url", "service"), searchable=False, required=("link_url",))
)
_entity(
    EntitySpec(
        "place",
        "places",
        Place,
        ("id", "version", "street", "zip", "town", "street_addition", "country", "lat", "lon", "description"),
        searchable=False,
    )
)
_entity(EntitySpec("tag", "tags", Tag, ("id", "name"), versioned=False, required=("tag_name",)))
_entity(
    EntitySpec(
        "video",
        "videos",
        Video,
        ("id", "hash", "ref", "duration", "width", "height", "mime"),
        versioned=False,
        searchable=False,
        required=("video_ref",),
    )
)


def _relation(owner, segment, related, table, *, to_one=False, reverse=False):
    spec = RelationSpec(
        owner=owner,
        segment=segment,
        related=related,
        table=table,
        owner_column=table.related if reverse else table.owner,
        related_column=table.owner if reverse else table.related,
        to_one=to_one,
        read_only=reverse,
    )
    relations = ENTITIES[owner].relations
    singular, plural = related, ENTITIES[related].plural
    # Clients send both forms (`include=link` and `include=links`); every form names the relation.
    for alias in (segment, singular, plural):
        relations.setdefault(alias, spec)


_relation("festival", "events", "event", rel.FestivalEvent)
_relation("festival", "image", "image", rel.FestivalImage, to_one=True)
_relation("festival", "place", "place", rel.FestivalPlace, to_one=True)
_relation("festival", "links", "link", rel.FestivalLink)
_relation("festival", "tags", "tag", rel.FestivalTag)
_relation("artist", "image", "image", rel.ArtistImage, to_one=True)
_relation("artist", "links", "link", rel.ArtistLink)
_relation("artist", "tags", "tag", rel.ArtistTag)
_relation("location", "image", "image", rel.LocationImage, to_one=True)
_relation("location", "place", "place", rel.LocationPlace, to_one=True)
_relation("location", "links", "link", rel.LocationLink)
_relation("event", "image", "image", rel.EventImage, to_one=True)
_relation("event", "location", "location", rel.EventLocation, to_one=True)
_relation("event", "artist", "artist", rel.EventArtist)
_relation("event", "festival", "festival", rel.FestivalEvent, to_one=True, reverse=True)
_relation("tag", "festivals", "festival", rel.FestivalTag, reverse=True)
# Additive (wave 3): a client that does not ask for `include=video` sees exactly what it saw before.
_relation("festival", "video", "video", rel.FestivalVideo, to_one=True)
_relation("artist", "video", "video", rel.ArtistVideo, to_one=True)
_relation("event", "video", "video", rel.EventVideo, to_one=True)


def canonical_relations(entity: str) -> list[RelationSpec]:
    """Each relation of an entity once (the alias table lists it under several names)."""
    seen = []
    for spec in ENTITIES[entity].relations.values():
        if spec not in seen:
            seen.append(spec)
    return seen
