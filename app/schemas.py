"""Request bodies of the eight entities as pydantic models.

The same models validate every write (API and portal) and describe the bodies in the OpenAPI
document, so the documentation cannot drift from what the server accepts."""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import available_timezones

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, ValidationError

from app.errors import Invalid
from app.text import has_control, whole_number

MAX_TIME = 253402300799  # 9999-12-31T23:59:59Z: keeps every time representable everywhere


def _no_nul(value: str) -> str:
    # PostgreSQL cannot store NUL in text; refuse it on every database alike.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def _no_control(value: str) -> str:
    # A name is one line of text: control characters would break exports (schedule.xml) and displays.
    if has_control(value):
        raise ValueError("must not contain control characters")
    return value


NoNul = AfterValidator(_no_nul)
NoControl = AfterValidator(_no_control)
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255), NoControl]
Short = Annotated[str, StringConstraints(max_length=255), NoNul]
ShortName = Annotated[str, StringConstraints(max_length=255), NoControl]  # a name that may be empty
Text = Annotated[str, StringConstraints(max_length=100_000), NoNul]


def _whole(value: Any) -> Any:
    # JSON has one number type: 1358.0 is the integer 1358 (also to JSON Schema); 1358.5 stays an error.
    return int(value) if isinstance(value, float) and value.is_integer() else value


Whole = BeforeValidator(_whole)
UnixTime = Annotated[int, Field(ge=0, le=MAX_TIME), Whole]
Code = Annotated[int, Field(ge=-1, le=255), Whole]


def _check_url(value: str, schemes: tuple[str, ...]) -> str:
    if any(ch.isspace() or ord(ch) < 32 for ch in value):
        raise ValueError("must not contain spaces or control characters")
    parts = urlsplit(value)
    scheme = parts.scheme.lower()
    if scheme not in schemes:
        raise ValueError("must be an absolute URL starting with " + ", ".join(f"{s}:" for s in schemes))
    if scheme in ("http", "https") and not parts.hostname:
        raise ValueError("must name a host, e.g. https://example.org/")
    if scheme == "mailto" and "@" not in parts.path:
        raise ValueError("must be mailto:name@example.org")
    if scheme == "tel" and whole_number(parts.path.replace("+", "").replace("-", "").replace(" ", ""), 2083) is None:
        raise ValueError("must be tel: followed by a phone number")
    return value


@cache
def time_zones() -> frozenset[str]:
    """The IANA zone names this machine knows (the tzdata package, else the system's zoneinfo)."""
    return frozenset(available_timezones())


def _check_zone(value: str) -> str:
    if value not in time_zones():
        raise ValueError("must be an IANA time zone name such as Europe/Berlin")
    return value


TimeZoneName = Annotated[str, StringConstraints(max_length=64), AfterValidator(_check_zone)]
LinkUrl = Annotated[
    str,
    StringConstraints(max_length=2083),
    AfterValidator(lambda v: _check_url(v, ("http", "https", "mailto", "tel"))),
]
WebUrl = Annotated[str, StringConstraints(max_length=2083), AfterValidator(lambda v: _check_url(v, ("http", "https")))]


class Body(BaseModel):
    # strict: JSON true/false only for booleans, numbers only for numbers; unknown keys are errors.
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


# Ids and versions that clients echo back in bodies are accepted and ignored.
Ignored = Annotated[Any, Field(default=None, description="ignored")]


class FestivalBody(Body):
    festival_id: Ignored
    festival_version: Ignored
    festival_is_valid: bool = Field(default=None, description="published to visitors")
    festival_name: Name = Field(default=None, description="unique")
    festival_start: UnixTime = Field(default=None, description="unix seconds")
    festival_end: UnixTime = Field(default=None, description="unix seconds, not before festival_start")
    festival_description: Text = None
    festival_price: Short = None
    festival_timezone: TimeZoneName = Field(default=None, description="IANA time zone name; default UTC")


class EventBody(Body):
    event_id: Ignored
    event_version: Ignored
    event_name: ShortName = None
    event_description: Text = None
    event_type: Code = Field(default=None, description="-1..255, meaning owned by clients")
    event_start: UnixTime = None
    event_end: UnixTime = Field(default=None, description="not before event_start")
    event_is_scheduled: bool = None
    event_has_timeslot: bool = None


class ArtistBody(Body):
    artist_id: Ignored
    artist_version: Ignored
    artist_name: Name = None
    artist_description: Text = None


class LocationBody(Body):
    location_id: Ignored
    location_version: Ignored
    location_name: Name = None
    location_description: Text = None
    location_accessible: bool = None
    location_openair: bool = None


class ImageBody(Body):
    image_id: Ignored
    image_version: Ignored
    image_hash: Short = Field(default=None, description="the file server's id of the stored file")
    image_comment: Short = None
    image_ref: WebUrl = Field(default=None, description="absolute URL of the file on the file server")


VIDEO_MIMETYPES = ("video/mp4", "video/webm")  # what the file server accepts (fileserver/videos.py)


def _check_video_mime(value: str) -> str:
    if value not in VIDEO_MIMETYPES:
        raise ValueError("must be " + " or ".join(VIDEO_MIMETYPES))
    return value


class VideoBody(Body):
    video_id: Ignored
    video_version: Ignored
    video_hash: Short = Field(default=None, description="the file server's id of the stored file")
    video_ref: WebUrl = Field(default=None, description="absolute URL of the file on the file server")
    video_duration: Annotated[float, Field(ge=0, le=86400)] = Field(default=None, description="seconds")
    video_width: Annotated[int, Field(ge=0, le=100_000), Whole] = Field(default=None, description="pixels")
    video_height: Annotated[int, Field(ge=0, le=100_000), Whole] = Field(default=None, description="pixels")
    video_mime: Annotated[str, StringConstraints(max_length=255), AfterValidator(_check_video_mime)] = Field(
        default=None, description="video/mp4 or video/webm"
    )


class LinkBody(Body):
    link_id: Ignored
    link_version: Ignored
    link_url: LinkUrl = Field(default=None, description="absolute http(s), mailto or tel URL")
    link_service: Code = Field(default=None, description="-1 = unknown")


class PlaceBody(Body):
    place_id: Ignored
    place_version: Ignored
    place_street: Short = None
    place_zip: Annotated[str, StringConstraints(max_length=10), NoNul] = None
    place_town: Short = None
    place_street_addition: Short = None
    place_country: Short = None
    place_lat: Annotated[float, Field(ge=-90, le=90)] = None
    place_lon: Annotated[float, Field(ge=-180, le=180)] = None
    place_description: Text = None


class TagBody(Body):
    tag_id: Ignored
    tag_version: Ignored
    tag_name: Name = Field(default=None, description="unique, case-insensitively")


class MemberBody(Body):
    """A new member of a festival (POST /festivals/{id}/members): an existing account, named by its email."""

    member_email: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=254), NoControl] = (
        Field(default=None, description="the email address of an existing account")
    )
    member_role: Literal["editor"] = Field(default="editor", description="editor (the only role one is added as)")


BODIES: dict[str, type[Body]] = {
    "festival": FestivalBody,
    "event": EventBody,
    "artist": ArtistBody,
    "location": LocationBody,
    "image": ImageBody,
    "link": LinkBody,
    "place": PlaceBody,
    "tag": TagBody,
    "video": VideoBody,
    "member": MemberBody,  # not an entity of the contract: a festival's member
}

# JSON key -> its `start` partner: an end must not be before its start.
TIME_SPANS = {"festival": ("festival_start", "festival_end"), "event": ("event_start", "event_end")}


# pydantic's error types in words for a person, the same for the API's envelope and the portal's fields
# ("must not be empty", not "String should have at least 1 character"); {name}s come from the error's context.
MESSAGES = {
    "extra_forbidden": "unknown field",
    "missing": "is required",
    "string_type": "must be text",
    "string_too_long": "must be at most {max_length} characters",
    "int_type": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "finite_number": "must be a finite number",
    "bool_type": "must be true or false",
    "greater_than_equal": "must be at least {ge}",
    "less_than_equal": "must be at most {le}",
    "greater_than": "must be more than {gt}",
    "less_than": "must be less than {lt}",
    "dict_type": "must be an object",
    "literal_error": "must be {expected}",
}


def _number(value) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _message(error: dict) -> str:
    kind, context = error["type"], error.get("ctx") or {}
    if kind == "string_too_short":
        minimum = context.get("min_length", 1)
        return "must not be empty" if minimum == 1 else f"must be at least {minimum} characters"
    if kind == "value_error":  # our own validators' messages are written for people already
        message = error["msg"]
        return message[len("Value error, ") :] if message.startswith("Value error, ") else message
    if kind in MESSAGES:
        return MESSAGES[kind].format(**{key: _number(value) for key, value in context.items()})
    return "is not valid"


MAX_FIELD_ERRORS = 20  # a body of 50,000 unknown keys gets a short answer, not one line per key


def _invalid(entity: str, exc: ValidationError) -> Invalid:
    fields: dict[str, str] = {}
    more: set[str] = set()
    for error in exc.errors(include_url=False, include_input=False):
        key = str(error["loc"][0]) if error["loc"] else "body"
        if len(fields) < MAX_FIELD_ERRORS or key in fields:
            fields.setdefault(key, _message(error))
        else:
            more.add(key)
    message = f"invalid {entity}: " + "; ".join(f"{k} {v}" for k, v in fields.items())
    return Invalid(message + (f"; and {len(more)} more fields" if more else ""), fields)


def validate_body(entity: str, data: Any, *, required: tuple[str, ...] = ()) -> dict[str, Any]:
    """The fields sent (JSON key -> clean value), ignored keys left out. Raises Invalid with a
    message per field."""
    if not isinstance(data, dict):
        raise Invalid("the request body must be a JSON object")
    try:
        body = BODIES[entity].model_validate(data)
    except ValidationError as exc:
        raise _invalid(entity, exc) from None
    sent = {
        key: getattr(body, key)
        for key in body.model_fields_set
        if not (key.endswith("_id") or key.endswith("_version"))
    }
    missing = {key: "is required" for key in required if key not in sent}
    if missing:
        raise Invalid(f"invalid {entity}: " + "; ".join(f"{k} is required" for k in missing), missing)
    return sent


def check_time_span(entity: str, values: dict[str, Any]) -> None:
    """Cross-field rule on the merged (stored + sent) values."""
    span = TIME_SPANS.get(entity)
    if span and values[span[1]] < values[span[0]]:
        raise Invalid(
            f"invalid {entity}: {span[1]} must not be before {span[0]}", {span[1]: f"must not be before {span[0]}"}
        )
