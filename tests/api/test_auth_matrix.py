"""Who may do what on /api/v1, as a real client sees it (design/api.md: Routes, ownership, drafts,
read-only, authentication on the wire).

Callers: `anonymous` (no headers), `api_key` (Api-Key), `user` (Bearer, role user), `owner` (the
creator who made the entity), `other` (a different creator), `admin`. Every effect of a write is
checked with a follow-up GET, never by looking into the database."""

from __future__ import annotations

import base64
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlparse

import jwt
import pytest
from jwt.algorithms import HMACAlgorithm

from app.db import db
from app.models import Festival, User
from app.services import api_keys, sessions
from tests.factories import PASSWORD

API = "/api/v1"
_unique = itertools.count(1)


# ---------------------------------------------------------------------------------------------
# Entity kinds and relations under test
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    name: str
    plural: str
    new: Callable[[], dict]  # a valid POST body
    change: Callable[[], dict]  # a valid PATCH body that changes something


KINDS = {
    kind.name: kind
    for kind in (
        Kind(
            "festival",
            "festivals",
            lambda: {"festival_name": f"Matrix Fest {next(_unique)}"},
            lambda: {"festival_name": f"Renamed Fest {next(_unique)}"},
        ),
        Kind(
            "artist",
            "artists",
            lambda: {"artist_name": f"Matrix Artist {next(_unique)}"},
            lambda: {"artist_name": f"Renamed Artist {next(_unique)}"},
        ),
        Kind(
            "location",
            "locations",
            lambda: {"location_name": f"Matrix Stage {next(_unique)}"},
            lambda: {"location_name": f"Renamed Stage {next(_unique)}"},
        ),
        Kind(
            "tag",
            "tags",
            lambda: {"tag_name": f"matrix tag {next(_unique)}"},
            lambda: {"tag_name": f"renamed tag {next(_unique)}"},
        ),
        Kind(
            "link",
            "links",
            lambda: {"link_url": f"https://example.org/new/{next(_unique)}"},
            lambda: {"link_url": f"https://example.org/changed/{next(_unique)}"},
        ),
        Kind(
            "place",
            "places",
            lambda: {"place_town": "Dresden", "place_zip": "01067"},
            lambda: {"place_town": f"Town {next(_unique)}"},
        ),
        Kind(
            "image",
            "images",
            lambda: {"image_ref": "https://files.example.org/images/new", "image_hash": "new"},
            lambda: {"image_comment": f"comment {next(_unique)}"},
        ),
        Kind(
            "event",
            "events",
            lambda: {"event_name": f"Matrix Event {next(_unique)}"},
            lambda: {"event_name": f"Renamed Event {next(_unique)}"},
        ),
    )
}
KIND_NAMES = list(KINDS)


@dataclass(frozen=True)
class Rel:
    """GET/POST/DELETE /{owner}s/{id}/{segment}/{rid}. `via` names the writable segment on the
    related side for reverse (read-only) relations."""

    owner: str
    segment: str
    related: str
    via: str | None = None

    @property
    def id(self) -> str:
        return f"{self.owner}-{self.segment}"


WRITABLE_RELATIONS = [
    Rel("festival", "events", "event"),
    Rel("festival", "image", "image"),
    Rel("festival", "place", "place"),
    Rel("festival", "links", "link"),
    Rel("festival", "tags", "tag"),
    Rel("artist", "image", "image"),
    Rel("artist", "links", "link"),
    Rel("artist", "tags", "tag"),
    Rel("location", "image", "image"),
    Rel("location", "place", "place"),
    Rel("location", "links", "link"),
    Rel("event", "image", "image"),
    Rel("event", "location", "location"),
    Rel("event", "artist", "artist"),
]
READABLE_RELATIONS = WRITABLE_RELATIONS + [
    Rel("event", "festival", "festival", via="events"),
    Rel("tag", "festivals", "festival", via="tags"),
]
# Shared things linked by a creator to their own festival or event.
SHARED_RELATIONS = [rel for rel in WRITABLE_RELATIONS if rel.related != "event"]


def rel_params(relations: list[Rel]) -> list:
    return [pytest.param(rel, id=rel.id) for rel in relations]


# ---------------------------------------------------------------------------------------------
# Callers and their expected answers
# ---------------------------------------------------------------------------------------------

READERS = ["api_key", "user", "owner", "other", "admin"]
CALLERS = ["anonymous", *READERS]
CREATORS = ["owner", "other", "admin"]  # may POST
NOT_CREATORS = {"anonymous": 401, "api_key": 403, "user": 403}
EDITORS = ["owner", "admin"]  # may PATCH/DELETE/link/unlink what `owner` made
NOT_EDITORS = {"anonymous": 401, "api_key": 403, "user": 403, "other": 403}
DRAFT_SEERS = ["owner", "admin"]
DRAFT_BLIND = ["api_key", "user", "other"]


class Cast:
    """The people of a test: users of every role, an API key, and entities made for them."""

    def __init__(self, factory):
        self.factory = factory
        self.users = {
            "owner": factory.user("creator"),
            "other": factory.user("creator"),
            "user": factory.user("user"),
            "admin": factory.user("admin"),
        }
        self._headers = {name: factory.bearer(user) for name, user in self.users.items()}
        self._headers["api_key"] = factory.api_key_headers()
        self._headers["anonymous"] = {}

    def headers(self, caller: str) -> dict:
        return dict(self._headers[caller])

    def make(self, kind: str, by: str = "owner", **fields) -> int:
        return self.factory.create(kind, self.users[by], **fields)[f"{kind}_id"]

    def connect(self, rel: Rel, entity_id: int, related_id: int, by: str = "owner") -> None:
        """Put `related_id` into the relation of `entity_id` (from the writable side)."""
        if rel.via is None:
            self.factory.link(rel.owner, entity_id, rel.segment, related_id, self.users[by])
        else:
            self.factory.link(rel.related, related_id, rel.via, entity_id, self.users[by])

    def make_linked(self, rel: Rel, by: str = "owner") -> tuple[int, int]:
        entity_id, related_id = self.make(rel.owner, by), self.make(rel.related, by)
        self.connect(rel, entity_id, related_id, by)
        return entity_id, related_id


@pytest.fixture
def cast(factory) -> Cast:
    return Cast(factory)


# ---------------------------------------------------------------------------------------------
# Wire helpers
# ---------------------------------------------------------------------------------------------


def url(*parts) -> str:
    return "/".join([API, *(str(part) for part in parts)])


def entity_url(kind: str, entity_id: int | None = None) -> str:
    plural = KINDS[kind].plural
    return url(plural) if entity_id is None else url(plural, entity_id)


def relation_url(rel: Rel, entity_id: int, related_id: int | None = None) -> str:
    base = url(KINDS[rel.owner].plural, entity_id, rel.segment)
    return base if related_id is None else f"{base}/{related_id}"


def data_of(response, status: int = 200) -> list:
    """The `data` list of a success envelope, after checking status and shape."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    body = response.get_json()
    assert isinstance(body, dict) and set(body) == {"data"}, body
    assert isinstance(body["data"], list)
    return body["data"]


def error_of(response, status: int) -> str:
    """The message of an error envelope, after checking status and shape (401 needs a challenge)."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    body = response.get_json()
    assert isinstance(body, dict) and "data" not in body, body
    assert isinstance(body.get("error"), str) and body["error"], body
    if status == 401:
        assert response.headers.get("WWW-Authenticate", "").startswith("Bearer")
    return body["error"]


def ids_of(objects: list, kind: str) -> list[int]:
    return [obj[f"{kind}_id"] for obj in objects]


def listed_ids(client, headers: dict, kind: str) -> list[int]:
    return ids_of(data_of(client.get(entity_url(kind), headers=headers)), kind)


def fetch_one(client, headers: dict, kind: str, entity_id: int) -> dict:
    [obj] = data_of(client.get(entity_url(kind, entity_id), headers=headers))
    return obj


def related_ids(client, headers: dict, rel: Rel, entity_id: int) -> list[int]:
    return ids_of(data_of(client.get(relation_url(rel, entity_id), headers=headers)), rel.related)


def assert_fields(expected: dict, obj: dict) -> None:
    assert {key: obj.get(key) for key in expected} == expected


# ---------------------------------------------------------------------------------------------
# 1. The auth matrix: reads
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("caller", READERS)
@pytest.mark.parametrize("kind", KIND_NAMES)
def test_list_contains_published_entity_for_reader(client, cast, kind, caller):
    entity_id = cast.make(kind)

    response = client.get(entity_url(kind), headers=cast.headers(caller))

    assert ids_of(data_of(response), kind) == [entity_id]


@pytest.mark.parametrize("caller", READERS)
@pytest.mark.parametrize("kind", KIND_NAMES)
def test_single_answers_one_element_for_reader(client, cast, kind, caller):
    entity_id = cast.make(kind)

    response = client.get(entity_url(kind, entity_id), headers=cast.headers(caller))

    assert ids_of(data_of(response), kind) == [entity_id]


@pytest.mark.parametrize("caller", READERS)
@pytest.mark.parametrize("rel", rel_params(READABLE_RELATIONS))
def test_relation_list_contains_linked_entity_for_reader(client, cast, rel, caller):
    entity_id, related_id = cast.make_linked(rel)

    response = client.get(relation_url(rel, entity_id), headers=cast.headers(caller))

    assert ids_of(data_of(response), rel.related) == [related_id]


@pytest.mark.parametrize("shape", ["list", "single"])
@pytest.mark.parametrize("kind", KIND_NAMES)
def test_read_without_credentials_is_unauthorized(client, cast, kind, shape):
    entity_id = cast.make(kind)
    path = entity_url(kind) if shape == "list" else entity_url(kind, entity_id)

    response = client.get(path)

    error_of(response, 401)


@pytest.mark.parametrize("rel", rel_params(READABLE_RELATIONS))
def test_relation_read_without_credentials_is_unauthorized(client, cast, rel):
    entity_id, _ = cast.make_linked(rel)

    response = client.get(relation_url(rel, entity_id))

    error_of(response, 401)


@pytest.mark.parametrize("kind", KIND_NAMES)
def test_single_unknown_id_is_not_found(client, cast, kind):
    response = client.get(entity_url(kind, 987654), headers=cast.headers("api_key"))

    error_of(response, 404)


# ---------------------------------------------------------------------------------------------
# 1. The auth matrix: create
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("caller", CREATORS)
@pytest.mark.parametrize("kind", KIND_NAMES)
def test_create_by_creator_or_admin_answers_201_with_location(client, cast, kind, caller):
    body = KINDS[kind].new()

    response = client.post(entity_url(kind), json=body, headers=cast.headers(caller))

    [created] = data_of(response, 201)
    assert_fields(body, created)
    location = urlparse(response.headers["Location"]).path
    assert location == entity_url(kind, created[f"{kind}_id"])
    [fetched] = data_of(client.get(location, headers=cast.headers(caller)))
    assert_fields(body, fetched)


@pytest.mark.parametrize("caller", list(NOT_CREATORS))
@pytest.mark.parametrize("kind", KIND_NAMES)
def test_create_without_creator_role_is_refused(client, cast, kind, caller):
    body = KINDS[kind].new()

    response = client.post(entity_url(kind), json=body, headers=cast.headers(caller))

    error_of(response, NOT_CREATORS[caller])
    assert listed_ids(client, cast.headers("admin"), kind) == []


# ---------------------------------------------------------------------------------------------
# 1. The auth matrix: edit
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("caller", EDITORS)
@pytest.mark.parametrize("kind", KIND_NAMES)
def test_edit_by_owner_or_admin_is_saved(client, cast, kind, caller):
    entity_id = cast.make(kind)
    change = KINDS[kind].change()

    response = client.patch(entity_url(kind, entity_id), json=change, headers=cast.headers(caller))

    [updated] = data_of(response)
    assert updated[f"{kind}_id"] == entity_id
    assert_fields(change, updated)
    assert_fields(change, fetch_one(client, cast.headers("api_key"), kind, entity_id))


@pytest.mark.parametrize("caller", list(NOT_EDITORS))
@pytest.mark.parametrize("kind", KIND_NAMES)
def test_edit_by_non_owner_is_refused_and_changes_nothing(client, cast, kind, caller):
    entity_id = cast.make(kind)
    before = fetch_one(client, cast.headers("admin"), kind, entity_id)

    response = client.patch(entity_url(kind, entity_id), json=KINDS[kind].change(), headers=cast.headers(caller))

    error_of(response, NOT_EDITORS[caller])
    assert fetch_one(client, cast.headers("admin"), kind, entity_id) == before


# ---------------------------------------------------------------------------------------------
# 1. The auth matrix: delete
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("caller", EDITORS)
@pytest.mark.parametrize("kind", KIND_NAMES)
def test_delete_by_owner_or_admin_removes_entity(client, cast, kind, caller):
    entity_id = cast.make(kind)

    response = client.delete(entity_url(kind, entity_id), headers=cast.headers(caller))

    assert data_of(response) == []
    error_of(client.get(entity_url(kind, entity_id), headers=cast.headers(caller)), 404)
    assert listed_ids(client, cast.headers("admin"), kind) == []


@pytest.mark.parametrize("caller", list(NOT_EDITORS))
@pytest.mark.parametrize("kind", KIND_NAMES)
def test_delete_by_non_owner_is_refused_and_keeps_entity(client, cast, kind, caller):
    entity_id = cast.make(kind)

    response = client.delete(entity_url(kind, entity_id), headers=cast.headers(caller))

    error_of(response, NOT_EDITORS[caller])
    assert fetch_one(client, cast.headers("admin"), kind, entity_id)[f"{kind}_id"] == entity_id


# ---------------------------------------------------------------------------------------------
# 1. The auth matrix: link and unlink
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("caller", EDITORS)
@pytest.mark.parametrize("rel", rel_params(WRITABLE_RELATIONS))
def test_link_by_owner_or_admin_adds_relation(client, cast, rel, caller):
    entity_id, related_id = cast.make(rel.owner), cast.make(rel.related)

    response = client.post(relation_url(rel, entity_id, related_id), headers=cast.headers(caller))

    assert data_of(response) == []
    assert related_ids(client, cast.headers("admin"), rel, entity_id) == [related_id]


@pytest.mark.parametrize("caller", list(NOT_EDITORS))
@pytest.mark.parametrize("rel", rel_params(WRITABLE_RELATIONS))
def test_link_by_non_owner_is_refused_and_adds_nothing(client, cast, rel, caller):
    entity_id, related_id = cast.make(rel.owner), cast.make(rel.related)

    response = client.post(relation_url(rel, entity_id, related_id), headers=cast.headers(caller))

    error_of(response, NOT_EDITORS[caller])
    assert related_ids(client, cast.headers("admin"), rel, entity_id) == []


@pytest.mark.parametrize("caller", EDITORS)
@pytest.mark.parametrize("rel", rel_params(WRITABLE_RELATIONS))
def test_unlink_by_owner_or_admin_removes_relation_only(client, cast, rel, caller):
    entity_id, related_id = cast.make_linked(rel)

    response = client.delete(relation_url(rel, entity_id, related_id), headers=cast.headers(caller))

    assert data_of(response) == []
    assert related_ids(client, cast.headers("admin"), rel, entity_id) == []
    assert fetch_one(client, cast.headers("admin"), rel.related, related_id)[f"{rel.related}_id"] == related_id


@pytest.mark.parametrize("caller", list(NOT_EDITORS))
@pytest.mark.parametrize("rel", rel_params(WRITABLE_RELATIONS))
def test_unlink_by_non_owner_is_refused_and_keeps_relation(client, cast, rel, caller):
    entity_id, related_id = cast.make_linked(rel)

    response = client.delete(relation_url(rel, entity_id, related_id), headers=cast.headers(caller))

    error_of(response, NOT_EDITORS[caller])
    assert related_ids(client, cast.headers("admin"), rel, entity_id) == [related_id]


@pytest.mark.parametrize("rel", rel_params(WRITABLE_RELATIONS))
def test_link_unknown_related_id_is_not_found(client, cast, rel):
    entity_id = cast.make(rel.owner)

    response = client.post(relation_url(rel, entity_id, 987654), headers=cast.headers("owner"))

    error_of(response, 404)
    assert related_ids(client, cast.headers("admin"), rel, entity_id) == []


# ---------------------------------------------------------------------------------------------
# 2. Drafts
# ---------------------------------------------------------------------------------------------


@dataclass
class Draft:
    festival_id: int
    event_id: int
    tag_id: int


@pytest.fixture
def draft(cast) -> Draft:
    """An unpublished festival of `owner` with one event, tagged with a (published) tag."""
    festival_id = cast.make("festival", is_valid=False)
    event_id = cast.make("event")
    tag_id = cast.make("tag")
    cast.factory.link("festival", festival_id, "events", event_id, cast.users["owner"])
    cast.factory.link("festival", festival_id, "tags", tag_id, cast.users["owner"])
    return Draft(festival_id, event_id, tag_id)


@pytest.mark.parametrize("caller", DRAFT_BLIND)
def test_draft_festival_missing_from_list_for_non_owner(client, cast, draft, caller):
    published_id = cast.make("festival")

    response = client.get(entity_url("festival"), headers=cast.headers(caller))

    assert ids_of(data_of(response), "festival") == [published_id]


@pytest.mark.parametrize("caller", DRAFT_BLIND)
def test_draft_festival_single_not_found_for_non_owner(client, cast, draft, caller):
    response = client.get(entity_url("festival", draft.festival_id), headers=cast.headers(caller))

    error_of(response, 404)


@pytest.mark.parametrize("segment", ["events", "tags"])
@pytest.mark.parametrize("caller", DRAFT_BLIND)
def test_draft_festival_relations_not_found_for_non_owner(client, cast, draft, caller, segment):
    response = client.get(url("festivals", draft.festival_id, segment), headers=cast.headers(caller))

    error_of(response, 404)


@pytest.mark.parametrize("caller", DRAFT_BLIND)
def test_draft_festival_missing_from_tag_festivals_for_non_owner(client, cast, draft, caller):
    response = client.get(url("tags", draft.tag_id, "festivals"), headers=cast.headers(caller))

    assert data_of(response) == []


@pytest.mark.parametrize("caller", DRAFT_BLIND)
def test_draft_event_missing_from_list_for_non_owner(client, cast, draft, caller):
    loose_event_id = cast.make("event")

    response = client.get(entity_url("event"), headers=cast.headers(caller))

    assert ids_of(data_of(response), "event") == [loose_event_id]


@pytest.mark.parametrize("caller", DRAFT_BLIND)
def test_draft_event_single_not_found_for_non_owner(client, cast, draft, caller):
    response = client.get(entity_url("event", draft.event_id), headers=cast.headers(caller))

    error_of(response, 404)


@pytest.mark.parametrize("caller", DRAFT_BLIND)
def test_draft_event_festival_relation_not_found_for_non_owner(client, cast, draft, caller):
    response = client.get(url("events", draft.event_id, "festival"), headers=cast.headers(caller))

    error_of(response, 404)


@pytest.mark.parametrize("caller", DRAFT_SEERS)
def test_draft_festival_listed_and_readable_for_owner_and_admin(client, cast, draft, caller):
    headers = cast.headers(caller)

    listed = listed_ids(client, headers, "festival")
    single = fetch_one(client, headers, "festival", draft.festival_id)
    tagged = ids_of(data_of(client.get(url("tags", draft.tag_id, "festivals"), headers=headers)), "festival")

    assert listed == [draft.festival_id]
    assert single["festival_is_valid"] is False
    assert tagged == [draft.festival_id]


@pytest.mark.parametrize("caller", DRAFT_SEERS)
def test_draft_event_listed_and_readable_for_owner_and_admin(client, cast, draft, caller):
    headers = cast.headers(caller)

    listed = listed_ids(client, headers, "event")
    single = fetch_one(client, headers, "event", draft.event_id)
    in_festival = ids_of(data_of(client.get(url("festivals", draft.festival_id, "events"), headers=headers)), "event")
    festival_of_event = ids_of(
        data_of(client.get(url("events", draft.event_id, "festival"), headers=headers)), "festival"
    )

    assert listed == [draft.event_id]
    assert single["event_id"] == draft.event_id
    assert in_festival == [draft.event_id]
    assert festival_of_event == [draft.festival_id]


def test_draft_festival_visible_to_api_key_once_published(client, cast, draft):
    response = client.patch(
        entity_url("festival", draft.festival_id), json={"festival_is_valid": True}, headers=cast.headers("owner")
    )

    assert data_of(response)[0]["festival_is_valid"] is True
    api_key = cast.headers("api_key")
    assert listed_ids(client, api_key, "festival") == [draft.festival_id]
    assert ids_of(data_of(client.get(entity_url("event", draft.event_id), headers=api_key)), "event") == [
        draft.event_id
    ]


@pytest.mark.parametrize("caller", DRAFT_BLIND)
def test_draft_without_owner_and_its_events_are_hidden_from_non_admins(client, cast, draft, caller):
    # An owner's account removed leaves its drafts without owner (ON DELETE SET NULL): no one owns them now.
    Festival.update(owner=None).where(Festival.id == draft.festival_id).execute()
    headers = cast.headers(caller)

    assert listed_ids(client, headers, "festival") == []
    assert listed_ids(client, headers, "event") == []
    error_of(client.get(entity_url("event", draft.event_id), headers=headers), 404)
    error_of(client.get(url("events", draft.event_id, "festival"), headers=headers), 404)
    tagged = data_of(client.get(url("tags", draft.tag_id, "festivals") + "?include=events", headers=headers))
    assert tagged == []
    admin_sees = data_of(client.get(url("festivals", draft.festival_id, "events"), headers=cast.headers("admin")))
    assert ids_of(admin_sees, "event") == [draft.event_id]


# ---------------------------------------------------------------------------------------------
# 3. Events inside festivals
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def adopted_event(cast) -> tuple[int, int]:
    """(festival of `owner`, event created by `other`) put together by the admin."""
    festival_id = cast.make("festival", by="owner")
    event_id = cast.make("event", by="other")
    cast.factory.link("festival", festival_id, "events", event_id, cast.users["admin"])
    return festival_id, event_id


@pytest.mark.parametrize("caller", ["owner", "other"])
def test_event_in_festival_editable_by_festival_owner_and_event_creator(client, cast, adopted_event, caller):
    _, event_id = adopted_event
    change = KINDS["event"].change()

    response = client.patch(entity_url("event", event_id), json=change, headers=cast.headers(caller))

    [updated] = data_of(response)
    assert_fields(change, updated)
    assert_fields(change, fetch_one(client, cast.headers("api_key"), "event", event_id))


def test_event_in_festival_not_editable_by_unrelated_creator(client, cast, adopted_event):
    _, event_id = adopted_event
    stranger = cast.factory.bearer(cast.factory.user("creator"))
    before = fetch_one(client, cast.headers("admin"), "event", event_id)

    response = client.patch(entity_url("event", event_id), json=KINDS["event"].change(), headers=stranger)

    error_of(response, 403)
    assert fetch_one(client, cast.headers("admin"), "event", event_id) == before


def test_link_other_creators_event_into_own_festival_is_forbidden(client, cast):
    festival_id = cast.make("festival", by="owner")
    event_id = cast.make("event", by="other")

    response = client.post(url("festivals", festival_id, "events", event_id), headers=cast.headers("owner"))

    error_of(response, 403)
    assert data_of(client.get(url("festivals", festival_id, "events"), headers=cast.headers("admin"))) == []
    assert data_of(client.get(url("events", event_id, "festival"), headers=cast.headers("admin"))) == []


@pytest.mark.parametrize("caller", EDITORS)
def test_link_event_of_another_festival_conflicts(client, cast, caller):
    first_id, second_id = cast.make("festival"), cast.make("festival")
    event_id = cast.make("event")
    cast.factory.link("festival", first_id, "events", event_id, cast.users["owner"])

    response = client.post(url("festivals", second_id, "events", event_id), headers=cast.headers(caller))

    error_of(response, 409)
    admin = cast.headers("admin")
    assert ids_of(data_of(client.get(url("festivals", first_id, "events"), headers=admin)), "event") == [event_id]
    assert data_of(client.get(url("festivals", second_id, "events"), headers=admin)) == []


def test_link_event_into_its_festival_again_is_a_no_op(client, cast):
    festival_id, event_id = cast.make_linked(Rel("festival", "events", "event"))

    response = client.post(url("festivals", festival_id, "events", event_id), headers=cast.headers("owner"))

    assert data_of(response) == []
    events = data_of(client.get(url("festivals", festival_id, "events"), headers=cast.headers("admin")))
    assert ids_of(events, "event") == [event_id]


# ---------------------------------------------------------------------------------------------
# 4. Shared things: linkable by anyone who owns {id}, editable only by their owner
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("rel", rel_params(SHARED_RELATIONS))
def test_link_shared_thing_of_other_creator_to_own_entity_is_allowed(client, cast, rel):
    entity_id = cast.make(rel.owner, by="owner")
    shared_id = cast.make(rel.related, by="other")

    response = client.post(relation_url(rel, entity_id, shared_id), headers=cast.headers("owner"))

    assert data_of(response) == []
    assert related_ids(client, cast.headers("api_key"), rel, entity_id) == [shared_id]


@pytest.mark.parametrize("rel", rel_params(SHARED_RELATIONS))
def test_unlink_shared_thing_of_other_creator_from_own_entity_is_allowed(client, cast, rel):
    entity_id = cast.make(rel.owner, by="owner")
    shared_id = cast.make(rel.related, by="other")
    cast.connect(rel, entity_id, shared_id, by="owner")

    response = client.delete(relation_url(rel, entity_id, shared_id), headers=cast.headers("owner"))

    assert data_of(response) == []
    assert related_ids(client, cast.headers("api_key"), rel, entity_id) == []


@pytest.mark.parametrize("rel", rel_params(SHARED_RELATIONS))
def test_edit_shared_thing_linked_to_own_entity_is_forbidden(client, cast, rel):
    entity_id = cast.make(rel.owner, by="owner")
    shared_id = cast.make(rel.related, by="other")
    cast.connect(rel, entity_id, shared_id, by="owner")
    before = fetch_one(client, cast.headers("admin"), rel.related, shared_id)

    response = client.patch(
        entity_url(rel.related, shared_id), json=KINDS[rel.related].change(), headers=cast.headers("owner")
    )

    error_of(response, 403)
    assert fetch_one(client, cast.headers("admin"), rel.related, shared_id) == before


@pytest.mark.parametrize("rel", rel_params(SHARED_RELATIONS))
def test_delete_shared_thing_linked_to_own_entity_is_forbidden(client, cast, rel):
    entity_id = cast.make(rel.owner, by="owner")
    shared_id = cast.make(rel.related, by="other")
    cast.connect(rel, entity_id, shared_id, by="owner")

    response = client.delete(entity_url(rel.related, shared_id), headers=cast.headers("owner"))

    error_of(response, 403)
    assert related_ids(client, cast.headers("admin"), rel, entity_id) == [shared_id]


# ---------------------------------------------------------------------------------------------
# 5. Invalid credentials
# ---------------------------------------------------------------------------------------------


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def signing_input(header: dict, claims: dict) -> str:
    return f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"


def token_claims(app, user: User, **overrides) -> dict:
    """Claims of a live login of `user` (a real session id, as identity issues it)."""
    now = int(time.time())
    with app.app_context():
        sid = sessions.start_login(user, "test", 600)
    claims = {
        "sub": str(user.id),
        "role": user.role,
        "sid": sid,
        "iss": app.config["TOKEN_ISSUER"],
        "aud": app.config["TOKEN_AUDIENCE"],
        "iat": now,
        "exp": now + 600,
        "jti": f"t{next(_unique)}",
    }
    return {**claims, **overrides}


def signed_token(app, claims: dict) -> str:
    """A token signed with the identity service's real private key (as it would issue one)."""
    key = app.extensions["identity_keys"].current
    return jwt.encode(claims, key.private, algorithm="EdDSA", headers={"kid": key.kid})


def current_kid(app) -> str:
    return app.extensions["identity_keys"].current.kid


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_crafted_token_with_valid_claims_is_accepted(client, app, cast):
    """The control for the forged tokens below: the crafting helpers make tokens the API accepts."""
    token = signed_token(app, token_claims(app, cast.users["owner"]))

    response = client.get(entity_url("festival"), headers=bearer(token))

    assert data_of(response) == []


@pytest.mark.parametrize("key", ["nonsense", "fa_00000000_" + "x" * 43, "fa_short"])
def test_unknown_api_key_is_unauthorized(client, cast, key):
    response = client.get(entity_url("festival"), headers={"Api-Key": key})

    error_of(response, 401)


def test_revoked_api_key_is_unauthorized(client, app, cast):
    with app.app_context(), db.connection_context():
        key, row = api_keys.create_key("to revoke")
        api_keys.revoke_key(row.id)

    response = client.get(entity_url("festival"), headers={"Api-Key": key})

    error_of(response, 401)


@pytest.mark.parametrize("header", ["Api-Key", "Service-Key"])
def test_service_key_on_api_route_is_unauthorized(client, app, cast, header):
    with app.app_context(), db.connection_context():
        key, _ = api_keys.create_key("service", kind="service")

    response = client.get(entity_url("festival"), headers={header: key})

    error_of(response, 401)


@pytest.mark.parametrize(
    "value", ["Bearer not-a-token", "Bearer a.b.c", "Bearer eyJhbGciOiJFZERTQSJ9..", "Bearer", "Token abc"]
)
def test_malformed_bearer_is_unauthorized(client, cast, value):
    response = client.get(entity_url("festival"), headers={"Authorization": value})

    error_of(response, 401)


def test_truncated_bearer_is_unauthorized(client, cast):
    token = cast.factory.token(cast.users["owner"])

    response = client.get(entity_url("festival"), headers=bearer(token[:-6]))

    error_of(response, 401)


@pytest.mark.parametrize("method", ["get", "post"])
def test_token_of_suspended_user_is_unauthorized(client, app, cast, method):
    headers = cast.headers("owner")
    with app.app_context(), db.connection_context():
        User.update(suspended=True).where(User.id == cast.users["owner"].id).execute()

    response = getattr(client, method)(entity_url("festival"), json=KINDS["festival"].new(), headers=headers)

    error_of(response, 401)
    assert listed_ids(client, cast.headers("admin"), "festival") == []


def test_token_of_deleted_user_is_unauthorized(client, app, cast):
    headers = cast.headers("user")
    with app.app_context(), db.connection_context():
        User.delete().where(User.id == cast.users["user"].id).execute()

    response = client.get(entity_url("festival"), headers=headers)

    error_of(response, 401)


def test_hs256_token_signed_with_public_key_is_unauthorized(client, app, cast):
    public_pem = client.get("/identity/validation-key").get_data()
    assert b"PUBLIC KEY" in public_pem
    header = {"alg": "HS256", "typ": "JWT", "kid": current_kid(app)}
    unsigned = signing_input(header, token_claims(app, cast.users["admin"]))
    signature = HMACAlgorithm(HMACAlgorithm.SHA256).sign(unsigned.encode(), public_pem)
    token = f"{unsigned}.{b64url(signature)}"

    response = client.post(entity_url("festival"), json=KINDS["festival"].new(), headers=bearer(token))

    error_of(response, 401)
    assert listed_ids(client, cast.headers("admin"), "festival") == []


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
def test_unsigned_alg_none_token_is_unauthorized(client, app, cast, alg):
    header = {"alg": alg, "typ": "JWT", "kid": current_kid(app)}
    token = signing_input(header, token_claims(app, cast.users["admin"])) + "."

    response = client.post(entity_url("festival"), json=KINDS["festival"].new(), headers=bearer(token))

    error_of(response, 401)
    assert listed_ids(client, cast.headers("admin"), "festival") == []


def test_token_with_tampered_subject_is_unauthorized(client, app, cast):
    real = signed_token(app, token_claims(app, cast.users["user"]))
    header, _, signature = real.split(".")
    forged_claims = token_claims(app, cast.users["admin"])
    forged = f"{header}.{b64url(json.dumps(forged_claims).encode())}.{signature}"

    response = client.post(entity_url("festival"), json=KINDS["festival"].new(), headers=bearer(forged))

    error_of(response, 401)


def test_expired_token_from_identity_service_is_unauthorized(client, make_app, cast):
    expiring = make_app(ACCESS_TOKEN_TTL=-10)
    login = expiring.test_client().post(
        "/identity/token", json={"email": cast.users["owner"].email, "password": PASSWORD}
    )
    assert login.status_code == 200, login.get_data(as_text=True)

    response = client.get(entity_url("festival"), headers=bearer(login.get_json()["access_token"]))

    error_of(response, 401)


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"exp": int(time.time()) - 60}, id="expired"),
        pytest.param({"aud": "somebody-else"}, id="wrong-audience"),
        pytest.param({"iss": "somebody-else"}, id="wrong-issuer"),
        pytest.param({"sub": "987654"}, id="unknown-user"),
        pytest.param({"sid": "f" * 32}, id="unknown-login"),
        pytest.param({"sid": None}, id="no-login"),
    ],
)
def test_signed_token_with_bad_claims_is_unauthorized(client, app, cast, overrides):
    token = signed_token(app, token_claims(app, cast.users["owner"], **overrides))

    response = client.get(entity_url("festival"), headers=bearer(token))

    error_of(response, 401)


# ---------------------------------------------------------------------------------------------
# 6. Read-only mode
# ---------------------------------------------------------------------------------------------


@dataclass
class ReadOnlyWorld:
    client: object
    festival_id: int
    tag_id: int
    linked_tag_id: int
    ids: dict = field(default_factory=dict)  # kind -> id of an entity of that kind


@pytest.fixture
def read_only(make_app, cast) -> ReadOnlyWorld:
    """Data written normally, then a second app on the same database started read-only."""
    ids = {kind: cast.make(kind) for kind in KIND_NAMES}
    festival_id, linked_tag_id = cast.make_linked(Rel("festival", "tags", "tag"))
    server = make_app(READ_ONLY=True)
    return ReadOnlyWorld(server.test_client(), festival_id, ids["tag"], linked_tag_id, ids)


WRITES = ["post", "patch", "delete"]


def write_request(world: ReadOnlyWorld, method: str, kind: str, headers: dict):
    if method == "post":
        return world.client.post(entity_url(kind), json=KINDS[kind].new(), headers=headers)
    path = entity_url(kind, world.ids[kind])
    if method == "patch":
        return world.client.patch(path, json=KINDS[kind].change(), headers=headers)
    return world.client.delete(path, headers=headers)


@pytest.mark.parametrize("method", WRITES)
@pytest.mark.parametrize("kind", KIND_NAMES)
def test_read_only_entity_write_answers_405(cast, read_only, kind, method):
    admin = cast.headers("admin")
    before = data_of(read_only.client.get(entity_url(kind), headers=admin))

    response = write_request(read_only, method, kind, admin)

    error_of(response, 405)
    assert data_of(read_only.client.get(entity_url(kind), headers=admin)) == before


@pytest.mark.parametrize("caller", ["anonymous", "api_key", "owner"])
def test_read_only_write_answers_405_for_any_caller(cast, read_only, caller):
    response = write_request(read_only, "post", "festival", cast.headers(caller))

    error_of(response, 405)


def test_read_only_link_answers_405(cast, read_only):
    rel = Rel("festival", "tags", "tag")

    response = read_only.client.post(
        relation_url(rel, read_only.festival_id, read_only.tag_id), headers=cast.headers("admin")
    )

    error_of(response, 405)
    assert related_ids(read_only.client, cast.headers("admin"), rel, read_only.festival_id) == [read_only.linked_tag_id]


def test_read_only_unlink_answers_405(cast, read_only):
    rel = Rel("festival", "tags", "tag")

    response = read_only.client.delete(
        relation_url(rel, read_only.festival_id, read_only.linked_tag_id), headers=cast.headers("admin")
    )

    error_of(response, 405)
    assert related_ids(read_only.client, cast.headers("admin"), rel, read_only.festival_id) == [read_only.linked_tag_id]


@pytest.mark.parametrize("caller", ["api_key", "owner", "admin"])
@pytest.mark.parametrize("kind", KIND_NAMES)
def test_read_only_reads_still_work(cast, read_only, kind, caller):
    headers = cast.headers(caller)

    listed = ids_of(data_of(read_only.client.get(entity_url(kind), headers=headers)), kind)
    single = ids_of(data_of(read_only.client.get(entity_url(kind, read_only.ids[kind]), headers=headers)), kind)

    assert read_only.ids[kind] in listed
    assert single == [read_only.ids[kind]]


def test_read_only_relation_read_still_works(cast, read_only):
    rel = Rel("festival", "tags", "tag")

    linked = related_ids(read_only.client, cast.headers("api_key"), rel, read_only.festival_id)

    assert linked == [read_only.linked_tag_id]
