"""Adding a field end to end: a new column of a public model must reach the JSON (app/registry.py's fields, read
back through the API), the OpenAPI document (output and request body, app/schemas.py), the portal (a form field in
portal/forms.py or portal/media.py, or a template that shows it) and the schedule files (the events CSV, the
festival in schedule.json). A column that deliberately stays out of one of them is named below with the reason.
The checklist that goes with this test: docs/contributing.md, "Adding a field"."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from wtforms.fields.core import UnboundField

from app import ROOT
from app.registry import ENTITIES
from portal.forms import ArtistForm, EventForm, FestivalForm, ImageForm, LinkForm, LocationForm, PlaceForm, TagForm
from portal.media import VideoForm

PUBLIC = ("festival", "event", "artist", "location", "place", "image", "link", "tag", "video")

# Columns of every entity that are bookkeeping, not content: who made it and when stay inside the server.
BOOKKEEPING = {"created", "owner"}
NOT_IN_JSON = {
    "festival": {"name_key"},  # the unique key of the name ('Café' = 'CAFÉ'), derived from festival_name
    "image": {"version"},  # v1 output of images carries no version (api.md)
    "tag": {"version", "name_key"},  # no version in v1 output (api.md); the name's unique key, like festivals'
    "video": {"version"},  # like images
}
# JSON keys no client sends: the server sets them (ids, versions) or the file server's probe found them.
NOT_IN_BODY = {"id", "version"}

PORTAL_FORMS = {
    "festival": FestivalForm,
    "event": EventForm,
    "artist": ArtistForm,
    "location": LocationForm,
    "place": PlaceForm,
    "image": ImageForm,
    "link": LinkForm,
    "tag": TagForm,
    "video": VideoForm,
}
# Keys the portal neither edits nor shows, and why.
NOT_IN_PORTAL = {
    "festival": {"festival_id", "festival_version", "festival_start", "festival_end"},  # days: from its events
    "event": {
        "event_id",
        "event_version",
        "event_type",  # the Go apps' numeric kind; the portal has no use for it yet (the CSV carries it)
        "event_is_scheduled",  # API clients' flags for a time still to be announced
        "event_has_timeslot",
    },
    "artist": {"artist_id", "artist_version"},
    "location": {"location_id", "location_version"},
    "place": {"place_id", "place_version"},
    "image": {"image_id"},
    "link": {"link_id", "link_version"},
    "tag": {"tag_id"},
    "video": {"video_id"},
}

# The schedule files carry a festival and its events; artists and locations appear there by name only, the
# other entities not at all. Each exported key, and where it shows in the file.
EVENTS_CSV = {  # event key -> CSV column
    "event_id": "id",
    "event_name": "name",
    "event_start": "start",  # with "day"
    "event_end": "end",
    "event_type": "type",
    "event_description": "description",
}
NOT_IN_EVENTS_CSV = {
    "event_version",  # a file for people and spreadsheets: no sync state
    "event_is_scheduled",  # a time not yet announced is an empty day/start in the file
    "event_has_timeslot",
}
SCHEDULE_JSON = {  # festival key -> path in schedule.json
    "festival_id": ("schedule", "conference", "url"),
    "festival_version": ("schedule", "version"),
    "festival_name": ("schedule", "conference", "title"),
    "festival_description": ("schedule", "conference", "description"),
    "festival_start": ("schedule", "conference", "start"),
    "festival_end": ("schedule", "conference", "end"),
    "festival_timezone": ("schedule", "conference", "time_zone_name"),
}
NOT_IN_SCHEDULE_JSON = {
    "festival_is_valid",  # only published festivals have a public schedule at all
    "festival_price",  # the Frab layout has no place for it
}


def _columns(entity: str) -> set[str]:
    """The model's attributes, as peewee defines them (a new column shows up here first)."""
    return {field.name for field in ENTITIES[entity].model._meta.sorted_fields} - BOOKKEEPING


def _keys(entity: str) -> set[str]:
    return {ENTITIES[entity].key(attr) for attr in _columns(entity) - NOT_IN_JSON.get(entity, set())}


@pytest.fixture
def creator(factory):
    return factory.user("creator")


@pytest.mark.parametrize("entity", PUBLIC)
def test_every_column_is_in_the_json_the_api_answers(app, factory, creator, entity):
    created = factory.create(entity, creator)
    spec = ENTITIES[entity]
    response = app.test_client().get(
        f"/api/v1/{spec.plural}/{created[spec.key('id')]}", headers=factory.bearer(creator)
    )
    assert response.status_code == 200
    answered = set(response.get_json()["data"][0]) - {"include"}
    assert _keys(entity) - answered == set(), "add the column to app/registry.py's fields (or to NOT_IN_JSON, why)"


@pytest.mark.parametrize("entity", PUBLIC)
def test_every_column_is_in_the_openapi_document(app, entity):
    schemas = app.test_client().get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    title = entity.capitalize()
    assert _keys(entity) - set(schemas[title]["properties"]) == set()
    writable = {key for key in _keys(entity) if key.removeprefix(f"{entity}_") not in NOT_IN_BODY}
    assert writable - set(schemas[f"{title}Body"]["properties"]) == set(), "add the field to app/schemas.py's body"


TEMPLATES = "\n".join(path.read_text() for path in Path(ROOT, "templates").rglob("*.html"))


@pytest.mark.parametrize("entity", PUBLIC)
def test_every_column_is_edited_or_shown_in_the_portal(entity):
    form = PORTAL_FORMS[entity]
    form_fields = {name for name in dir(form) if isinstance(getattr(form, name), UnboundField)}
    missing = {
        key
        for key in _keys(entity) - NOT_IN_PORTAL.get(entity, set())
        if key not in form_fields and key not in TEMPLATES
    }
    assert missing == set(), "add a field to the portal's form and template (or to NOT_IN_PORTAL, why)"


def test_every_event_column_is_in_the_events_csv(app, factory, creator):
    festival = factory.create("festival", creator)["festival_id"]
    response = app.test_client().get(f"/api/v1/festivals/{festival}/events.csv", headers=factory.bearer(creator))
    header = next(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    unmapped = _keys("event") - NOT_IN_EVENTS_CSV - set(EVENTS_CSV)
    assert unmapped == set(), "add a CSV column (app/services/exports.py, imports.py) or say why not"
    assert set(EVENTS_CSV.values()) <= set(header)


def test_every_festival_column_is_in_schedule_json(app, factory, creator):
    festival = factory.create(
        "festival", creator, description="Drei Tage am Müggelsee", start=1_781_258_400, end=1_781_431_200
    )
    url = f"/api/v1/festivals/{festival['festival_id']}/schedule.json"
    body = app.test_client().get(url, headers=factory.bearer(creator)).get_json()
    unmapped = _keys("festival") - NOT_IN_SCHEDULE_JSON - set(SCHEDULE_JSON)
    assert unmapped == set(), "add the festival's field to schedule.json (app/services/exports.py) or say why not"
    for path in SCHEDULE_JSON.values():
        value = body
        for step in path:
            value = value[step]
        assert value not in (None, "")
