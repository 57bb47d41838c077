"""Image, video, link and place: the small shared things festivals, artists, locations and events point at."""

from peewee import CharField, DoubleField, IntegerField, TextField

from app.db import BaseModel
from app.models.base import entity_fields


class Image(BaseModel):
    ENTITY = "image"
    id, version, created, owner = entity_fields(ENTITY)
    hash = CharField(max_length=255, default="", index=True, column_name="image_hash")
    comment = CharField(max_length=255, default="", column_name="image_comment")
    ref = CharField(max_length=2083, default="", column_name="image_ref")


class Video(BaseModel):
    """A video on the file server; duration, size and type are what its probe found at upload."""

    ENTITY = "video"
    id, version, created, owner = entity_fields(ENTITY)
    hash = CharField(max_length=255, default="", index=True, column_name="video_hash")
    ref = CharField(max_length=2083, default="", column_name="video_ref")
    duration = DoubleField(default=0.0, column_name="video_duration")  # seconds
    width = IntegerField(default=0, column_name="video_width")
    height = IntegerField(default=0, column_name="video_height")
    mime = CharField(max_length=255, default="", column_name="video_mime")


class Link(BaseModel):
    ENTITY = "link"
    id, version, created, owner = entity_fields(ENTITY)
    url = CharField(max_length=2083, column_name="link_url")
    service = IntegerField(default=-1, column_name="link_service")


class Place(BaseModel):
    ENTITY = "place"
    id, version, created, owner = entity_fields(ENTITY)
    street = CharField(max_length=255, default="", column_name="place_street")
    zip = CharField(max_length=10, default="", column_name="place_zip")
    town = CharField(max_length=255, default="", column_name="place_town")
    street_addition = CharField(max_length=255, default="", column_name="place_street_addition")
    country = CharField(max_length=255, default="", column_name="place_country")
    lat = DoubleField(default=0.0, column_name="place_lat")
    lon = DoubleField(default=0.0, column_name="place_lon")
    description = TextField(default="", column_name="place_description")
