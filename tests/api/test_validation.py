"""Write validation as a client sees it: every rule of the contract (shared/design/api.md) on create
(POST /X) and on update (PATCH /X/{id}), the error envelope naming the offending field, and no change
stored after a rejected write."""

from __future__ import annotations

import json

import pytest

API = "/api/v1"
PLURAL = {
    "festival": "festivals",
    "event": "events",
    "artist": "artists",
    "location": "locations",
    "image": "images",
    "link": "links",
    "place": "places",
    "tag": "tags",
}
# The smallest body each create accepts (the contract's required fields).
MINIMAL = {
    "festival": {"festival_name": "Sonnenklang"},
    "event": {"event_name": "Opening"},
    "artist": {"artist_name": "The Band"},
    "location": {"location_name": "Main Stage"},
    "image": {"image_ref": "https://files.example.org/images/abc", "image_hash": "abc"},
    "link": {"link_url": "https://example.org/"},
    "place": {"place_town": "Leipzig"},
    "tag": {"tag_name": "jazz"},
}
# Whole objects as festivals-api-ios serializes them (`JSON()`): id 0 and "<unversioned>" before creation.
IOS_OBJECTS = {
    "festival": {
        "festival_id": 0,
        "festival_version": "<unversioned>",
        "festival_is_valid": False,
        "festival_name": "Sonnenklang",
        "festival_start": 1596794440,
        "festival_end": 1596994440,
        "festival_description": "",
        "festival_price": "Ab 25 Euro",
    },
    "event": {
        "event_id": 0,
        "event_version": "<unversioned>",
        "event_name": "Opening",
        "event_start": 1596794440,
        "event_end": 1596798040,
        "event_description": "",
        "event_type": 3,
    },
    "artist": {
        "artist_id": 0,
        "artist_version": "<unversioned>",
        "artist_name": "The Band",
        "artist_description": "Indie from Leipzig",
    },
    "location": {
        "location_id": 0,
        "location_version": "<unversioned>",
        "location_name": "Main Stage",
        "location_description": "",
        "location_accessible": True,
        "location_openair": False,
    },
    "image": {
        "image_id": 0,
        "image_hash": "abc",
        "image_comment": "poster",
        "image_ref": "https://files.example.org/images/abc",
    },
    "link": {"link_id": 0, "link_version": "<unversioned>", "link_url": "https://example.org/", "link_service": 2},
    "place": {
        "place_id": 0,
        "place_version": "<unversioned>",
        "place_street": "Markt 1",
        "place_zip": "04109",
        "place_town": "Leipzig",
        "place_street_addition": "",
        "place_country": "Germany",
        "place_lat": 51,
        "place_lon": 12.37,
        "place_description": "",
    },
    "tag": {"tag_id": 0, "tag_name": "jazz"},
}
# A change per entity for PATCH tests: (field, new value).
CHANGE = {
    "festival": ("festival_price", "free"),
    "event": ("event_description", "doors at 19:00"),
    "artist": ("artist_description", "Jazz from Berlin"),
    "location": ("location_openair", True),
    "image": ("image_comment", "new poster"),
    "link": ("link_service", 7),
    "place": ("place_zip", "10115"),
    "tag": ("tag_name", "blues"),
}
NAMED = ["festival", "artist", "location", "tag"]


# --- helpers ----------------------------------------------------------------------------------------


def collection(entity: str) -> str:
    return f"{API}/{PLURAL[entity]}"


def item(entity: str, entity_id: int) -> str:
    return f"{API}/{PLURAL[entity]}/{entity_id}"


def send(client, method: str, url: str, headers: dict, body) -> object:
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return client.open(url, method=method, data=data, headers=headers, content_type="application/json")


def assert_error(response, status: int, field: str | None = None) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert isinstance(body, dict) and "data" not in body
    assert isinstance(body.get("error"), str) and body["error"].strip()
    if field is not None:
        assert field in body.get("fields", {}), body
        assert isinstance(body["fields"][field], str) and body["fields"][field].strip()
    return body


def stored(client, admin: dict, entity: str) -> list[dict]:
    """Every row of the entity as an admin (who also sees drafts) reads it."""
    response = client.get(collection(entity), headers=admin)
    assert response.status_code == 200
    return response.get_json()["data"]


def read(client, admin: dict, entity: str, entity_id: int) -> dict:
    response = client.get(item(entity, entity_id), headers=admin)
    assert response.status_code == 200
    [obj] = response.get_json()["data"]
    return obj


def create_ok(client, writer: dict, entity: str, body: dict) -> dict:
    response = send(client, "POST", collection(entity), writer, body)
    assert response.status_code == 201, response.get_data(as_text=True)
    [obj] = response.get_json()["data"]
    return obj


# --- fixtures ---------------------------------------------------------------------------------------


@pytest.fixture
def make(factory, creator):
    """Create an entity owned by `creator` through the services: make("festival", name="X")."""

    def build(entity: str, **fields) -> dict:
        return factory.create(entity, creator, **fields)

    return build


# --- rules on single values -------------------------------------------------------------------------


def _rules() -> tuple[list, list]:
    invalid, valid = [], []
    for entity in NAMED:
        field = f"{entity}_name"
        invalid += [(entity, field, ""), (entity, field, "   "), (entity, field, "\t\n"), (entity, field, "x" * 256)]
        valid += [(entity, field, "x" * 255), (entity, field, "ü" * 255), (entity, field, "A")]
    invalid += [
        ("festival", "festival_price", "x" * 256),
        ("event", "event_name", "x" * 256),
        ("image", "image_comment", "x" * 256),
        ("link", "link_url", "ftp://example.org/file.txt"),
        ("link", "link_url", "javascript:alert(1)"),
        ("link", "link_url", "/relative/path"),
        ("link", "link_url", "example.org"),
        ("link", "link_url", "https://example.org/with space"),
        ("link", "link_url", " https://example.org/"),
        ("link", "link_url", "https://"),
        ("link", "link_url", ""),
        ("link", "link_url", "https://example.org/" + "a" * (2084 - len("https://example.org/"))),
        ("link", "link_service", -2),
        ("link", "link_service", 256),
        ("event", "event_type", -2),
        ("event", "event_type", 256),
        ("place", "place_zip", "12345678901"),
        ("place", "place_lat", 90.0001),
        ("place", "place_lat", -91),
        ("place", "place_lon", 180.5),
        ("place", "place_lon", -181),
    ]
    valid += [
        ("festival", "festival_price", "x" * 255),
        ("event", "event_name", "x" * 255),
        ("event", "event_name", ""),
        ("image", "image_comment", "x" * 255),
        ("link", "link_url", "http://example.org"),
        ("link", "link_url", "https://example.org/" + "a" * (2083 - len("https://example.org/"))),
        ("link", "link_url", "mailto:info@example.org"),
        ("link", "link_url", "tel:+4934112345"),
        ("link", "link_service", -1),
        ("link", "link_service", 255),
        ("event", "event_type", -1),
        ("event", "event_type", 255),
        ("place", "place_zip", "1234567890"),
        ("place", "place_lat", 90),
        ("place", "place_lat", -90.0),
        ("place", "place_lon", 180),
        ("place", "place_lon", -180.0),
        ("place", "place_lat", 51.3397),
    ]
    return invalid, valid


INVALID_VALUES, VALID_VALUES = _rules()


def _value_id(value) -> str:
    text = repr(value)
    return text if len(text) <= 24 else f"{text[:10]}...len{len(value)}"


# --- wrong JSON types -------------------------------------------------------------------------------

WRONG_TYPES = [
    ("festival", "festival_start", "1800000000"),
    ("festival", "festival_end", 1.5),
    ("festival", "festival_start", True),
    ("festival", "festival_is_valid", 1),
    ("festival", "festival_is_valid", 0),
    ("festival", "festival_is_valid", "true"),
    ("festival", "festival_is_valid", None),
    ("festival", "festival_name", 5),
    ("festival", "festival_name", None),
    ("festival", "festival_name", ["Sonnenklang"]),
    ("festival", "festival_price", 25),
    ("festival", "festival_description", None),
    ("event", "event_type", "3"),
    ("event", "event_type", None),
    ("event", "event_is_scheduled", 0),
    ("event", "event_has_timeslot", 1),
    ("event", "event_name", 42),
    ("artist", "artist_name", {"name": "The Band"}),
    ("artist", "artist_description", 7),
    ("location", "location_accessible", 1),
    ("location", "location_openair", "false"),
    ("image", "image_comment", 5),
    ("image", "image_ref", None),
    ("link", "link_url", None),
    ("link", "link_service", "2"),
    ("link", "link_service", 2.5),
    ("place", "place_lat", "51.3"),
    ("place", "place_lon", True),
    ("place", "place_lat", None),
    ("place", "place_zip", 4109),
    ("tag", "tag_name", 1),
    ("tag", "tag_name", None),
]

# Out-of-range values and values of the wrong JSON type: both refused, on create and on patch.
BAD_VALUES = INVALID_VALUES + WRONG_TYPES


def _ids(cases) -> list[str]:
    return [f"{field}={_value_id(value)}" for _, field, value in cases]


@pytest.mark.parametrize(("entity", "field", "value"), BAD_VALUES, ids=_ids(BAD_VALUES))
def test_create_invalid_value_is_rejected(client, writer, admin, entity, field, value):
    body = {**MINIMAL[entity], field: value}

    response = send(client, "POST", collection(entity), writer, body)

    assert_error(response, 400, field)
    assert stored(client, admin, entity) == []


@pytest.mark.parametrize(("entity", "field", "value"), BAD_VALUES, ids=_ids(BAD_VALUES))
def test_patch_invalid_value_is_rejected(client, writer, admin, make, entity, field, value):
    entity_id = make(entity)[f"{entity}_id"]
    before = read(client, admin, entity, entity_id)

    response = send(client, "PATCH", item(entity, entity_id), writer, {field: value})

    assert_error(response, 400, field)
    assert read(client, admin, entity, entity_id) == before


@pytest.mark.parametrize(("entity", "field", "value"), VALID_VALUES, ids=_ids(VALID_VALUES))
def test_create_boundary_value_is_accepted(client, writer, admin, entity, field, value):
    body = {**MINIMAL[entity], field: value}

    created = create_ok(client, writer, entity, body)

    assert created[field] == value
    assert read(client, admin, entity, created[f"{entity}_id"])[field] == value


@pytest.mark.parametrize(("entity", "field", "value"), VALID_VALUES, ids=_ids(VALID_VALUES))
def test_patch_boundary_value_is_accepted(client, writer, admin, make, entity, field, value):
    entity_id = make(entity)[f"{entity}_id"]

    response = send(client, "PATCH", item(entity, entity_id), writer, {field: value})

    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["data"][0][field] == value
    assert read(client, admin, entity, entity_id)[field] == value


# --- end before start ---------------------------------------------------------------------------------

SPANS = [("festival", "festival_start", "festival_end"), ("event", "event_start", "event_end")]


@pytest.mark.parametrize(("entity", "start", "end"), SPANS, ids=["festival", "event"])
def test_create_end_before_start_is_rejected(client, writer, admin, entity, start, end):
    body = {**MINIMAL[entity], start: 1_800_000_000, end: 1_799_999_999}

    response = send(client, "POST", collection(entity), writer, body)

    assert_error(response, 400, end)
    assert stored(client, admin, entity) == []


@pytest.mark.parametrize(("entity", "start", "end"), SPANS, ids=["festival", "event"])
def test_create_end_equal_to_start_is_accepted(client, writer, entity, start, end):
    body = {**MINIMAL[entity], start: 1_800_000_000, end: 1_800_000_000}

    created = create_ok(client, writer, entity, body)

    assert (created[start], created[end]) == (1_800_000_000, 1_800_000_000)


# PATCH bodies checked against the stored span start=1_800_000_000, end=1_800_086_400.
PATCH_SPANS = [
    ("end_only_before_stored_start", {"end": 1_799_999_999}, 400),
    ("start_only_after_stored_end", {"start": 1_800_086_401}, 400),
    ("both_sides_reversed", {"start": 1_900_000_000, "end": 1_800_000_000}, 400),
    ("end_only_equal_to_stored_start", {"end": 1_800_000_000}, 200),
    ("start_only_equal_to_stored_end", {"start": 1_800_086_400}, 200),
    ("both_sides_moved_past_stored_end", {"start": 1_900_000_000, "end": 1_900_003_600}, 200),
]


@pytest.mark.parametrize(("entity", "start", "end"), SPANS, ids=["festival", "event"])
@pytest.mark.parametrize(("case", "change", "status"), PATCH_SPANS, ids=[c[0] for c in PATCH_SPANS])
def test_patch_span_is_checked_against_stored_side(
    client, writer, admin, make, entity, start, end, case, change, status
):
    entity_id = make(entity, start=1_800_000_000, end=1_800_086_400)[f"{entity}_id"]
    before = read(client, admin, entity, entity_id)
    body = {f"{entity}_{side}": value for side, value in change.items()}

    response = send(client, "PATCH", item(entity, entity_id), writer, body)

    after = read(client, admin, entity, entity_id)
    if status == 400:
        assert_error(response, 400, end)
        assert after == before
    else:
        assert response.status_code == 200, response.get_data(as_text=True)
        assert {key: after[key] for key in body} == body
        assert after[end] >= after[start]


# --- unknown fields ---------------------------------------------------------------------------------

UNKNOWN_FIELDS = [
    ("festival", "festival_owner", 1),
    ("festival", "festival_created", "2026-01-01T00:00:00Z"),
    ("festival", "name", "Sonnenklang"),
    ("festival", "festival_valid", True),
    ("event", "event_festival", 1),
    ("artist", "artist_genre", "jazz"),
    ("location", "location_capacity", 500),
    ("image", "image_size", 1024),
    ("link", "link_title", "Homepage"),
    ("place", "place_state", "Saxony"),
    ("tag", "tag_color", "red"),
]


@pytest.mark.parametrize(("entity", "field", "value"), UNKNOWN_FIELDS, ids=[c[1] for c in UNKNOWN_FIELDS])
def test_create_unknown_field_is_rejected(client, writer, admin, entity, field, value):
    body = {**MINIMAL[entity], field: value}

    response = send(client, "POST", collection(entity), writer, body)

    assert_error(response, 400, field)
    assert stored(client, admin, entity) == []


@pytest.mark.parametrize(("entity", "field", "value"), UNKNOWN_FIELDS, ids=[c[1] for c in UNKNOWN_FIELDS])
def test_patch_unknown_field_is_rejected(client, writer, admin, make, entity, field, value):
    entity_id = make(entity)[f"{entity}_id"]
    before = read(client, admin, entity, entity_id)
    change_field, change_value = CHANGE[entity]

    response = send(client, "PATCH", item(entity, entity_id), writer, {change_field: change_value, field: value})

    assert_error(response, 400, field)
    assert read(client, admin, entity, entity_id) == before


# --- ids and versions in bodies; whole objects from the iOS client ------------------------------------


@pytest.mark.parametrize(
    ("entity_id", "version"),
    [
        (999, "<unversioned>"),
        (0, "2020-02-25T13:37:23Z"),
        ("abc", None),
        (-1, 12345),
    ],
    ids=["id999-unversioned", "id0-old-version", "id-string-version-null", "id-negative-version-int"],
)
def test_create_ignores_id_and_version_in_body(client, writer, admin, entity_id, version):
    body = {"festival_id": entity_id, "festival_version": version, "festival_name": "Sonnenklang"}

    created = create_ok(client, writer, "festival", body)

    assert created["festival_id"] != entity_id
    assert created["festival_version"] != version
    assert [f["festival_id"] for f in stored(client, admin, "festival")] == [created["festival_id"]]
    assert client.get(item("festival", 999), headers=admin).status_code == 404


def test_patch_ignores_id_and_version_in_body(client, writer, admin, make):
    target = make("festival", name="Target")
    other = make("festival", name="Other")
    other_before = read(client, admin, "festival", other["festival_id"])
    body = {"festival_id": other["festival_id"], "festival_version": "<unversioned>", "festival_price": "free"}

    response = send(client, "PATCH", item("festival", target["festival_id"]), writer, body)

    assert response.status_code == 200, response.get_data(as_text=True)
    [updated] = response.get_json()["data"]
    assert updated["festival_id"] == target["festival_id"]
    assert updated["festival_price"] == "free"
    assert updated["festival_version"] != "<unversioned>"
    assert read(client, admin, "festival", other["festival_id"]) == other_before


@pytest.mark.parametrize("entity", list(IOS_OBJECTS))
def test_create_whole_ios_object_is_accepted(client, writer, admin, entity):
    body = IOS_OBJECTS[entity]

    created = create_ok(client, writer, entity, body)

    sent = {k: v for k, v in body.items() if not k.endswith(("_id", "_version"))}
    assert {k: created[k] for k in sent} == sent
    assert created[f"{entity}_id"] >= 1
    assert read(client, admin, entity, created[f"{entity}_id"]) == created


@pytest.mark.parametrize("entity", list(IOS_OBJECTS))
def test_patch_whole_object_as_read_is_accepted(client, writer, admin, entity):
    created = create_ok(client, writer, entity, IOS_OBJECTS[entity])
    field, value = CHANGE[entity]
    body = {**read(client, admin, entity, created[f"{entity}_id"]), field: value}  # what the client holds

    response = send(client, "PATCH", item(entity, created[f"{entity}_id"]), writer, body)

    assert response.status_code == 200, response.get_data(as_text=True)
    [updated] = response.get_json()["data"]
    expected = {k: v for k, v in body.items() if not k.endswith("_version")}
    assert {k: updated[k] for k in expected} == expected
    assert read(client, admin, entity, created[f"{entity}_id"]) == updated


@pytest.mark.parametrize("entity", list(IOS_OBJECTS))
def test_patch_whole_unversioned_ios_object_is_accepted(client, writer, admin, entity):
    created = create_ok(client, writer, entity, IOS_OBJECTS[entity])
    field, value = CHANGE[entity]
    body = {**IOS_OBJECTS[entity], field: value}  # id 0, "<unversioned>": as the client may still hold it

    response = send(client, "PATCH", item(entity, created[f"{entity}_id"]), writer, body)

    assert response.status_code == 200, response.get_data(as_text=True)
    [updated] = response.get_json()["data"]
    assert updated[f"{entity}_id"] == created[f"{entity}_id"]
    assert updated[field] == value
    assert read(client, admin, entity, created[f"{entity}_id"]) == updated


# --- PATCH changes only what is sent --------------------------------------------------------------------


@pytest.mark.parametrize("entity", list(IOS_OBJECTS))
def test_patch_one_field_changes_only_that_field(client, writer, admin, entity):
    created = create_ok(client, writer, entity, IOS_OBJECTS[entity])
    before = read(client, admin, entity, created[f"{entity}_id"])
    field, value = CHANGE[entity]

    response = send(client, "PATCH", item(entity, created[f"{entity}_id"]), writer, {field: value})

    assert response.status_code == 200, response.get_data(as_text=True)
    after = read(client, admin, entity, created[f"{entity}_id"])
    assert after[field] == value != before[field]
    unchanged = {k for k in before if k not in (field, f"{entity}_version")}
    assert {k: after[k] for k in unchanged} == {k: before[k] for k in unchanged}


def test_patch_empty_object_changes_nothing(client, writer, admin):
    created = create_ok(client, writer, "festival", IOS_OBJECTS["festival"])
    before = read(client, admin, "festival", created["festival_id"])

    response = send(client, "PATCH", item("festival", created["festival_id"]), writer, {})

    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["data"] == [before]
    assert read(client, admin, "festival", created["festival_id"]) == before


# --- bodies that are not a JSON object ----------------------------------------------------------------------

NOT_OBJECTS = [
    ("empty", b""),
    ("whitespace", b"  \n"),
    ("not_json", b"festival_name=Sonnenklang"),
    ("truncated", b'{"festival_name": "Sonnenklang"'),
    ("trailing_comma", b'{"festival_name": "Sonnenklang",}'),
    ("single_quotes", b"{'festival_name': 'Sonnenklang'}"),
    ("invalid_utf8", b'{"festival_name": "\xff\xfe"}'),
    ("array", b'[{"festival_name": "Sonnenklang"}]'),
    ("empty_array", b"[]"),
    ("null", b"null"),
    ("string", b'"Sonnenklang"'),
    ("number", b"42"),
]


@pytest.mark.parametrize("raw", [c[1] for c in NOT_OBJECTS], ids=[c[0] for c in NOT_OBJECTS])
def test_create_body_not_a_json_object_is_rejected(client, writer, admin, raw):
    response = send(client, "POST", collection("festival"), writer, raw)

    assert_error(response, 400)
    assert stored(client, admin, "festival") == []


@pytest.mark.parametrize("raw", [c[1] for c in NOT_OBJECTS], ids=[c[0] for c in NOT_OBJECTS])
def test_patch_body_not_a_json_object_is_rejected(client, writer, admin, make, raw):
    festival_id = make("festival")["festival_id"]
    before = read(client, admin, "festival", festival_id)

    response = send(client, "PATCH", item("festival", festival_id), writer, raw)

    assert_error(response, 400)
    assert read(client, admin, "festival", festival_id) == before


# --- body size ------------------------------------------------------------------------------------------


def _json_of_size(size: int, fields: dict) -> bytes:
    """A valid JSON object of exactly `size` bytes: the fields, padded with whitespace."""
    compact = json.dumps(fields)
    raw = (compact[:-1] + " " * (size - len(compact)) + "}").encode()
    assert len(raw) == size
    return raw


def test_create_body_over_one_mib_is_rejected(client, writer, admin):
    raw = _json_of_size(1024 * 1024 + 1, {"festival_name": "Sonnenklang"})

    response = send(client, "POST", collection("festival"), writer, raw)

    assert_error(response, 413)
    assert stored(client, admin, "festival") == []


def test_patch_body_over_one_mib_is_rejected(client, writer, admin, make):
    festival_id = make("festival")["festival_id"]
    before = read(client, admin, "festival", festival_id)
    raw = _json_of_size(1024 * 1024 + 1, {"festival_price": "free"})

    response = send(client, "PATCH", item("festival", festival_id), writer, raw)

    assert_error(response, 413)
    assert read(client, admin, "festival", festival_id) == before


def test_create_body_of_exactly_one_mib_is_accepted(client, writer):
    raw = _json_of_size(1024 * 1024, {"festival_name": "Sonnenklang"})

    created = create_ok(client, writer, "festival", raw)

    assert created["festival_name"] == "Sonnenklang"


# --- unique names --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["Sonnenklang", "  Sonnenklang  "], ids=["same", "padded"])
def test_create_festival_name_taken_is_conflict(client, writer, admin, make, name):
    existing = make("festival", name="Sonnenklang")

    response = send(client, "POST", collection("festival"), writer, {"festival_name": name})

    assert_error(response, 409, "festival_name")
    assert [f["festival_id"] for f in stored(client, admin, "festival")] == [existing["festival_id"]]


def test_patch_festival_name_taken_is_conflict(client, writer, admin, make):
    make("festival", name="Sonnenklang")
    other = make("festival", name="Mondschein")
    before = read(client, admin, "festival", other["festival_id"])

    response = send(client, "PATCH", item("festival", other["festival_id"]), writer, {"festival_name": "Sonnenklang"})

    assert_error(response, 409, "festival_name")
    assert read(client, admin, "festival", other["festival_id"]) == before


def test_patch_festival_keeping_its_own_name_is_accepted(client, writer, make):
    festival = make("festival", name="Sonnenklang")

    response = send(
        client,
        "PATCH",
        item("festival", festival["festival_id"]),
        writer,
        {"festival_name": "Sonnenklang", "festival_price": "free"},
    )

    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["data"][0]["festival_price"] == "free"


TAG_VARIANTS = [("Jazz", "JAZZ"), ("Jazz", "jazz"), ("jazz", "Jazz "), ("Électro", "éLECTRO"), ("Öko", "ÖKO")]


@pytest.mark.parametrize(("existing", "name"), TAG_VARIANTS, ids=[f"{a}-vs-{b.strip()}" for a, b in TAG_VARIANTS])
def test_create_tag_name_taken_in_other_case_is_conflict(client, writer, admin, make, existing, name):
    tag = make("tag", name=existing)

    response = send(client, "POST", collection("tag"), writer, {"tag_name": name})

    assert_error(response, 409, "tag_name")
    assert stored(client, admin, "tag") == [tag]


@pytest.mark.parametrize(("existing", "name"), TAG_VARIANTS, ids=[f"{a}-vs-{b.strip()}" for a, b in TAG_VARIANTS])
def test_patch_tag_name_taken_in_other_case_is_conflict(client, writer, admin, make, existing, name):
    make("tag", name=existing)
    other = make("tag", name="blues")

    response = send(client, "PATCH", item("tag", other["tag_id"]), writer, {"tag_name": name})

    assert_error(response, 409, "tag_name")
    assert read(client, admin, "tag", other["tag_id"]) == other


def test_patch_tag_changing_only_the_case_of_its_own_name_is_accepted(client, writer, admin, make):
    tag = make("tag", name="jazz")

    response = send(client, "PATCH", item("tag", tag["tag_id"]), writer, {"tag_name": "Jazz"})

    assert response.status_code == 200, response.get_data(as_text=True)
    assert read(client, admin, "tag", tag["tag_id"])["tag_name"] == "Jazz"


# --- error envelope of a rejected write -------------------------------------------------------------------


def test_create_with_several_invalid_fields_names_each_field(client, writer, admin):
    body = {"festival_name": "", "festival_price": "x" * 256, "festival_is_valid": 1, "festival_color": "red"}

    response = send(client, "POST", collection("festival"), writer, body)

    error = assert_error(response, 400)
    assert set(error["fields"]) == {"festival_name", "festival_price", "festival_is_valid", "festival_color"}
    assert stored(client, admin, "festival") == []


@pytest.mark.parametrize("field", ["festival_name", "festival_description", "festival_price"])
def test_create_string_with_nul_character_is_rejected(client, writer, admin, field):
    body = {"festival_name": "Sonnenklang", field: "Sonnen\x00klang"}

    response = send(client, "POST", collection("festival"), writer, body)

    assert_error(response, 400, field)
    assert stored(client, admin, "festival") == []
