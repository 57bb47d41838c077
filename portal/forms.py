"""The portal's forms. Field names are the contract's keys (`festival_name`, ...), so a service's
per-field message lands next to its field. Only input parsing lives here (text to numbers and times);
every rule is the services'."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    FloatField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectChoice,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.validators import DataRequired, Optional

from app.errors import Conflict, Invalid
from app.services import timetable
from web.forms import PlainWords, show_errors

TIME_FORMAT = "%Y-%m-%dT%H:%M"
NOT_VALUES = {"csrf_token", "version", "artists", "location", "length", "back", "zone_change"}
PART_FIELDS = {"artist_name": "artists", "location_name": "location"}  # an event's parts, typed in its form


def _time(label: str):
    return DateTimeLocalField(label, format=TIME_FORMAT, validators=[Optional()], render_kw={"step": 60})


def to_local(seconds: int | None, zone: ZoneInfo) -> datetime | None:
    """Unix seconds → the value a datetime-local field shows (in the zone); 0 (not set): an empty field."""
    return timetable.local(seconds, zone).replace(tzinfo=None) if seconds else None


class EntityForm(FlaskForm):
    version = HiddenField()  # the version the editor started from: a change made in between is a conflict
    zone = ZoneInfo("UTC")  # times are typed and shown in the festival's zone (set_zone)

    def set_zone(self, name: str | None):
        self.zone = timetable.zone_named(name)
        for field in self:
            if isinstance(field, DateTimeLocalField):
                field.description = f"Local time ({self.zone.key})"
        return self

    def time_zone(self) -> ZoneInfo:
        return self.zone

    class Meta:
        def get_translations(self, form):
            return PlainWords()

    def values(self) -> dict:
        """The contract's fields as the services take them (times as unix seconds; empty time → 0). A
        local time that does not exist in the zone (clocks going forward) is Invalid."""
        out = {}
        for field in self:
            if field.short_name in NOT_VALUES:
                continue
            value = field.data
            if isinstance(field, DateTimeLocalField):
                value = timetable.to_unix(value, self.time_zone(), field.short_name) if value else 0
            elif isinstance(field, StringField | TextAreaField) and value is None:
                value = ""
            elif isinstance(field, IntegerField | FloatField) and value is None:
                continue  # left empty: the stored value (or the default) stays
            out[field.short_name] = value
        return out

    def fill(self, obj: dict) -> None:
        """Show a contract dict (an unsubmitted form only: a failed save keeps what was typed)."""
        for field in self:
            if field.short_name in obj and field.short_name not in NOT_VALUES:
                value = obj[field.short_name]
                field.data = to_local(value, self.time_zone()) if isinstance(field, DateTimeLocalField) else value

    def show_errors(self, exc) -> None:
        """A service's Invalid/Conflict: its field messages next to the fields, the rest above the form."""
        show_errors(self, exc, aliases=PART_FIELDS, wording=self._labelled)

    def submit(self, save):
        """The shape of every form handler: validate, then `save()` (a service call, usually reading
        `self.values()`). Returns what `save` returned, or None when the form is invalid or the service
        refused it (Invalid, Conflict: its messages are then next to the fields)."""
        if not self.validate_on_submit():
            return None
        try:
            return save()
        except (Invalid, Conflict) as exc:
            self.show_errors(exc)
            return None

    def _labelled(self, message: str) -> str:
        """The services name fields by their keys (`event_start`); a person reads the field's label."""
        for name, field in self._fields.items():
            message = message.replace(name, f"“{field.label.text}”")
        return message


class FestivalForm(EntityForm):
    festival_name = StringField("Name", render_kw={"maxlength": 255, "required": True})
    festival_timezone = StringField(
        "Time zone",
        description="Where the festival happens: its times are entered and shown in this zone.",
        render_kw={
            "list": "time-zones",
            "autocomplete": "off",
            "maxlength": 64,
            "spellcheck": "false",
            "data-browser-zone": "",  # empty (a new festival): static/js/schedule.js puts the browser's zone in
        },
    )
    festival_start = _time("Starts")
    festival_end = _time("Ends")
    festival_price = StringField("Price", render_kw={"maxlength": 255})
    festival_description = TextAreaField("Description", render_kw={"rows": 4})
    # Asked when the zone changes: keep the events' local times (they move in real time) or their moments.
    zone_change = RadioField(
        "When the time zone changes",
        choices=[SelectChoice("local", "Keep the local times"), SelectChoice("moments", "Keep the moments")],
        validators=[Optional()],
    )

    def time_zone(self) -> ZoneInfo:
        """The zone typed in this form (a new festival's, or a changed one) decides its own times."""
        return timetable.zone_named((self.festival_timezone.data or "").strip() or self.zone.key)

    def values(self) -> dict:
        out = super().values()
        out["festival_timezone"] = out["festival_timezone"].strip() or "UTC"
        return out

    def fill(self, obj: dict) -> None:
        self.set_zone(obj.get("festival_timezone"))
        super().fill(obj)


class EventForm(EntityForm):
    event_name = StringField("Name", render_kw={"maxlength": 255})
    event_start = _time("Starts")
    event_end = _time("Ends")
    artists = StringField(
        "Artists",
        description="Comma-separated; new names become new artists.",
        render_kw={"autocomplete": "off", "list": "artist-names"},
    )
    location = StringField("Location", render_kw={"autocomplete": "off", "list": "location-names"})
    event_description = TextAreaField("Description", render_kw={"rows": 2})
    length = IntegerField(
        "Length (minutes)",
        validators=[Optional()],
        default=60,
        description="Used when “Ends” is left empty.",
        render_kw={"min": 5, "max": 1440, "step": 5},
    )
    back = HiddenField()  # "timetable": the edit came from the timetable's dialog

    def values(self) -> dict:
        out = super().values()
        if out.get("event_start") and not out.get("event_end") and self.length.data:
            out["event_end"] = out["event_start"] + max(1, min(self.length.data, 1440)) * 60
        return out


class MoveForm(EntityForm):
    """Move an event (its length kept): a new start, typed or dropped on the timetable, and a stage."""

    start = _time("Starts")
    at = IntegerField(validators=[Optional()])  # unix seconds, from the timetable's drag and drop
    location = StringField("Stage", render_kw={"autocomplete": "off", "list": "location-names"})

    def moment(self) -> int | None:
        if self.at.data:
            return self.at.data
        return timetable.to_unix(self.start.data, self.zone, "start") if self.start.data else None


class StageForm(EntityForm):
    stage_name = StringField("New stage", render_kw={"maxlength": 255, "required": True, "autocomplete": "off"})


class ShiftForm(FlaskForm):
    minutes = IntegerField("Shift by (minutes)", validators=[DataRequired()], description="Negative: earlier.")


class PlaceForm(EntityForm):
    place_street = StringField("Street")
    place_street_addition = StringField("Street addition")
    place_zip = StringField("ZIP", render_kw={"maxlength": 10})
    place_town = StringField("Town")
    place_country = StringField("Country")
    place_lat = FloatField("Latitude", validators=[Optional()], render_kw={"step": "any"})
    place_lon = FloatField("Longitude", validators=[Optional()], render_kw={"step": "any"})
    place_description = TextAreaField("Description", render_kw={"rows": 2})


class LinkForm(EntityForm):
    link_url = URLField("URL", render_kw={"placeholder": "https://…", "required": True})
    link_service = IntegerField(
        "Service number (optional)",
        validators=[Optional()],
        default=-1,
        description="The apps show some services (a website, a social network) with their own icon and know them "
        "by a number from 0 to 255. Leave -1 if you are not sure: the link works either way.",
    )


class TagForm(EntityForm):
    tag_name = StringField("Tag", render_kw={"maxlength": 255, "required": True})


class MemberForm(EntityForm):
    member_email = StringField(
        "Email address of their account",
        description="They sign up first; then they can edit this festival, its events and its timetable.",
        # inputmode, not type=email: browsers refuse addresses like jürgen@… that accounts may have
        render_kw={
            "inputmode": "email",
            "maxlength": 254,
            "required": True,
            "autocomplete": "off",
            "spellcheck": "false",
        },
    )


class ArtistForm(EntityForm):
    artist_name = StringField("Name", render_kw={"maxlength": 255, "required": True})
    artist_description = TextAreaField("Description", render_kw={"rows": 3})


class LocationForm(EntityForm):
    location_name = StringField("Name", render_kw={"maxlength": 255, "required": True})
    location_description = TextAreaField("Description", render_kw={"rows": 3})
    location_accessible = BooleanField("Accessible")
    location_openair = BooleanField("Open air")


class ImageForm(EntityForm):
    """Filled by the page's script from the file server's answer to the upload."""

    image_hash = HiddenField(validators=[DataRequired()])
    image_ref = HiddenField(validators=[DataRequired()])
    image_comment = StringField("Caption", render_kw={"maxlength": 255})
