"""Query parameters of list and relation-list reads (name, ids, include, limit/offset, updated_since,
valid), the 404 of unknown ids, and the output format every client parses (shared/design/api.md)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest

from app.registry import ENTITIES
from app.services import reads

pytestmark = pytest.mark.both_read_paths  # each test with the fast read path on and off (tests/api/conftest.py)

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
VERSION = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
# Every field of the contract's entity table, and nothing else.
CONTRACT_FIELDS = {
    "festival": {
        "festival_id",
        "festival_version",
        "festival_is_valid",
        "festival_name",
        "festival_start",
        "festival_end",
        "festival_description",
        "festival_price",
        "festival_timezone",
    },
    "event": {
        "event_id",
        "event_version",
        "event_name",
        "event_description",
        "event_type",
        "event_start",
        "event_end",
        "event_is_scheduled",
        "event_has_timeslot",
    },
    "artist": {"artist_id", "artist_version", "artist_name", "artist_description"},
    "location": {
        "location_id",
        "location_version",
        "location_name",
        "location_description",
        "location_accessible",
        "location_openair",
    },
    "image": {"image_id", "image_hash", "image_comment", "image_ref"},
    "link": {"link_id", "link_version", "link_url", "link_service"},
    "place": {
        "place_id",
        "place_version",
        "place_street",
        "place_zip",
        "place_town",
        "place_street_addition",
        "place_country",
        "place_lat",
        "place_lon",
        "place_description",
    },
    "tag": {"tag_id", "tag_name"},
}
BOOLEANS = {
    "festival": ("festival_is_valid",),
    "event": ("event_is_scheduled", "event_has_timeslot"),
    "location": ("location_accessible", "location_openair"),
}
INTEGERS = {
    "festival": ("festival_id", "festival_start", "festival_end"),
    "event": ("event_id", "event_type", "event_start", "event_end"),
    "link": ("link_id", "link_service"),
}
UNVERSIONED = ("image", "tag")
NAMED = ["festival", "event", "artist", "location", "tag"]
UNNAMED = ["image", "link", "place"]

# (owner, singular, plural, related, how to link: (entity on whose path the link is made, segment, reverse))
RELATIONS = [
    ("festival", "event", "events", "event", "events", False),
    ("festival", "image", "images", "image", "image", False),
    ("festival", "place", "places", "place", "place", False),
    ("festival", "link", "links", "link", "links", False),
    ("festival", "tag", "tags", "tag", "tags", False),
    ("artist", "image", "images", "image", "image", False),
    ("artist", "link", "links", "link", "links", False),
    ("artist", "tag", "tags", "tag", "tags", False),
    ("location", "image", "images", "image", "image", False),
    ("location", "place", "places", "place", "place", False),
    ("location", "link", "links", "link", "links", False),
    ("event", "image", "images", "image", "image", False),
    ("event", "location", "locations", "location", "location", False),
    ("event", "artist", "artists", "artist", "artist", False),
    ("event", "festival", "festivals", "festival", "events", True),  # linked from the festival's side
    ("tag", "festival", "festivals", "festival", "tags", True),  # linked from the festival's side
]
INCLUDE_CASES = [
    (owner, name, related, segment, reverse)
    for owner, singular, plural, related, segment, reverse in RELATIONS
    for name in (singular, plural)
]
# The contract's writable to-one relations: setting a new one replaces the old.
TO_ONE = [
    ("festival", "image", "image"),
    ("festival", "place", "place"),
    ("artist", "image", "image"),
    ("location", "image", "image"),
    ("location", "place", "place"),
    ("event", "image", "image"),
    ("event", "location", "location"),
]
# The relation names the contract lists per entity (each must be named when an include is unknown).
ALLOWED_INCLUDES = {
    "festival": ["event", "image", "place", "link", "tag"],
    "artist": ["image", "link", "tag"],
    "location": ["image", "place", "link"],
    "event": ["image", "location", "artist", "festival"],
    "tag": ["festival"],
}


# --- helpers ----------------------------------------------------------------------------------------


def collection(entity: str, **params) -> str:
    query = f"?{urlencode(params)}" if params else ""
    return f"{API}/{PLURAL[entity]}{query}"


def item(entity: str, entity_id: int, **params) -> str:
    query = f"?{urlencode(params)}" if params else ""
    return f"{API}/{PLURAL[entity]}/{entity_id}{query}"


def related_list(entity: str, entity_id: int, segment: str, **params) -> str:
    query = f"?{urlencode(params)}" if params else ""
    return f"{API}/{PLURAL[entity]}/{entity_id}/{segment}{query}"


def get_data(client, url: str, headers: dict) -> list[dict]:
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"data"} and isinstance(body["data"], list)
    return body["data"]


def ids_of(entity: str, objects: list[dict]) -> list[int]:
    return [obj[f"{entity}_id"] for obj in objects]


def assert_error(response, status: int, field: str | None = None) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert isinstance(body, dict) and "data" not in body
    assert isinstance(body.get("error"), str) and body["error"].strip()
    if field is not None:
        assert field in body.get("fields", {}), body
    return body


def utc(text: str) -> datetime:
    """'2026-05-01T10:00:00' as the naive UTC datetime versions are stored as."""
    return datetime.fromisoformat(text)


def unix(text: str) -> int:
    return int(utc(text).replace(tzinfo=UTC).timestamp())


# --- fixtures ---------------------------------------------------------------------------------------


@pytest.fixture
def reader(factory):
    return factory.api_key_headers()


@pytest.fixture
def make(factory, creator):
    """Create an entity owned by `creator`: make("festival", name="X") -> its id."""

    def build(entity: str, **fields) -> int:
        return factory.create(entity, creator, **fields)[f"{entity}_id"]

    return build


@pytest.fixture
def link(factory, creator):
    def connect(entity: str, entity_id: int, segment: str, related_id: int) -> None:
        factory.link(entity, entity_id, segment, related_id, creator)

    return connect


@pytest.fixture
def set_version(factory):
    """Arrange a known last-change time (naive UTC) on a stored row."""

    def apply(entity: str, entity_id: int, when: str) -> None:
        model = ENTITIES[entity].model
        model.update(version=utc(when)).where(model.id == entity_id).execute()

    return apply


# --- name ---------------------------------------------------------------------------------------------

NAME_CASES = [
    ("rock", ["Rock am Ring", "ROCKHARZ", "Hard-rock Café"]),
    ("ROCK", ["Rock am Ring", "ROCKHARZ", "Hard-rock Café"]),
    ("rOcK aM", ["Rock am Ring"]),
    ("k C", ["Hard-rock Café"]),
    ("jazz", ["Jazz Nights"]),
    ("polka", []),
]
NAMES = ["Rock am Ring", "Jazz Nights", "ROCKHARZ", "Hard-rock Café"]


@pytest.mark.parametrize("entity", NAMED)
@pytest.mark.parametrize(("query", "expected"), NAME_CASES, ids=[c[0] for c in NAME_CASES])
def test_name_matches_substring_case_insensitively(client, reader, make, entity, query, expected):
    for name in NAMES:
        make(entity, name=name)

    data = get_data(client, collection(entity, name=query), reader)

    assert [obj[f"{entity}_name"] for obj in data] == [n for n in NAMES if n in expected]


UNICODE_CASES = [
    ("öko", ["Öko-Fest", "Bio ÖKO Tage"]),
    ("ÖKO", ["Öko-Fest", "Bio ÖKO Tage"]),
    ("élan", ["Élan Vital"]),
    ("straße", ["Straßenfest"]),
]
UNICODE_NAMES = ["Öko-Fest", "Oko Open Air", "Bio ÖKO Tage", "Élan Vital", "Straßenfest"]


@pytest.mark.parametrize("entity", NAMED)
@pytest.mark.parametrize(("query", "expected"), UNICODE_CASES, ids=[c[0] for c in UNICODE_CASES])
def test_name_matches_non_ascii_case_insensitively(client, reader, make, entity, query, expected):
    for name in UNICODE_NAMES:
        make(entity, name=name)

    data = get_data(client, collection(entity, name=query), reader)

    assert [obj[f"{entity}_name"] for obj in data] == [n for n in UNICODE_NAMES if n in expected]


WILDCARD_NAMES = ["100% Rock", "1000 Rock", "a_b", "axb", "AC\\DC", "ACDC"]
WILDCARD_CASES = [
    ("%", ["100% Rock"]),
    ("0%", ["100% Rock"]),
    ("%%", []),
    ("_", ["a_b"]),
    ("a_b", ["a_b"]),
    ("\\", ["AC\\DC"]),
    ("C\\D", ["AC\\DC"]),
]


@pytest.mark.parametrize("entity", NAMED)
@pytest.mark.parametrize(("query", "expected"), WILDCARD_CASES, ids=[c[0] for c in WILDCARD_CASES])
def test_name_wildcard_characters_are_literal(client, reader, make, entity, query, expected):
    for name in WILDCARD_NAMES:
        make(entity, name=name)

    data = get_data(client, collection(entity, name=query), reader)

    assert [obj[f"{entity}_name"] for obj in data] == [n for n in WILDCARD_NAMES if n in expected]


PAGED_TERMS = ["band", "BAND", "über", "ÜBER", "Ärger", "zyx", "nichts"]


@pytest.mark.parametrize("window", [2, 7, 1000, None], ids=["window-2", "window-7", "window-1000", "window-as-is"])
@pytest.mark.parametrize("buckets", [(1, 3), (14, 17), None], ids=["buckets-2-8", "buckets-real", "buckets-as-is"])
@pytest.mark.parametrize("deleted", [0, 5], ids=["ids-from-1", "ids-from-6"])
def test_name_pages_are_the_same_however_the_rows_are_found(
    client, reader, writer, admin, make, link, monkeypatch, window, buckets, deleted
):
    """PostgreSQL looks for a name= page among the first rows by id, then among the ids below fixed bounds, before
    it asks the trigram index for the whole table (app/services/reads.py): pages that are full within the window or
    below a bound, pages that are not and pages past them answer what the whole table holds, drafts hidden alike;
    SQLite answers the same. Bounds of 2 and 8 make every step run on a few events (the real ones, 16,384 and
    131,072, are left out while the table is smaller than they are); with the first events deleted, the ids start
    above the small bound and past a few of the large one's."""
    if window is not None:
        monkeypatch.setattr(reads, "name_window", lambda model: window)
    if buckets is not None:
        monkeypatch.setattr(reads, "name_buckets", lambda model: buckets)
    reads._rows_shape.cache_clear()  # shapes are built with the window
    published = make("festival", name="Sommerfest")
    draft = make("festival", name="Entwurf", is_valid=False)
    for gone in [make("event", name=f"Band gelöscht {n}") for n in range(deleted)]:
        assert client.delete(item("event", gone), headers=writer).status_code == 200
    for n in range(14):  # frequent "Band", every third in the draft; umlauts in both cases; one rare name
        name = ["Band Nr. {n}", "ÜBER Ärger {n}", "über band {n}", "Zyx {n}" if n == 13 else "Ruhe {n}"][n % 4]
        event = make("event", name=name.format(n=n))
        link("festival", draft if n % 3 == 1 else published, "events", event)

    try:
        for headers in (reader, writer, admin):
            every = get_data(client, collection("event", limit=1000), headers)
            for term in PAGED_TERMS:
                matches = [obj for obj in every if term.lower() in obj["event_name"].lower()]
                for limit, offset in ((3, 0), (3, 2), (5, 4), (50, 0)):
                    url = collection("event", name=term, limit=limit, offset=offset)
                    assert get_data(client, url, headers) == matches[offset : offset + limit], url
    finally:
        reads._rows_shape.cache_clear()


def test_name_page_answers_the_same_when_its_prepared_statement_is_gone(make_app, reader, make, link):
    """PostgreSQL runs a name= search's first page as a prepared statement of its connection (app/sql_shapes.py):
    a new connection prepares it again; a statement the server forgot (DISCARD ALL) or can no longer run (a
    migration changed a column of its result) answers unprepared once, then is prepared again. SQLite has no
    prepared statements: it answers the same pages after a new connection."""
    from tests.conftest import USE_POSTGRES

    uncached = make_app(READ_CACHE_BYTES=0)  # every read runs its statement
    client, database = uncached.test_client(), uncached.extensions["database"]
    festival = make("festival", name="Sommerfest")
    for n in range(5):
        link("festival", festival, "events", make("event", name=f"Band {n}"))
    url = collection("event", name="band", limit=3)
    first = get_data(client, url, reader)
    changes = ["DISCARD ALL", "ALTER TABLE event ALTER COLUMN event_name TYPE varchar(300)"] if USE_POSTGRES else []

    try:
        answers = []
        for change in changes:
            database.execute_sql(change)
            answers += [get_data(client, url, reader), get_data(client, url, reader)]
        database.close_all()
        answers += [get_data(client, url, reader), get_data(client, url, reader)]
    finally:
        if USE_POSTGRES:
            database.execute_sql("ALTER TABLE event ALTER COLUMN event_name TYPE varchar(255)")

    assert [obj["event_name"] for obj in first] == ["Band 0", "Band 1", "Band 2"]
    assert answers == [first] * len(answers)


@pytest.mark.parametrize("entity", UNNAMED)
def test_name_on_entity_without_name_is_rejected(client, reader, make, entity):
    make(entity)

    response = client.get(collection(entity, name="x"), headers=reader)

    assert_error(response, 400, "name")


@pytest.mark.parametrize(
    ("owner", "segment", "related"),
    [
        ("festival", "links", "link"),
        ("festival", "image", "image"),
        ("festival", "place", "place"),
        ("location", "place", "place"),
        ("artist", "links", "link"),
    ],
)
def test_name_on_relation_list_without_name_is_rejected(client, reader, make, link, owner, segment, related):
    owner_id = make(owner)
    link(owner, owner_id, segment, make(related))

    response = client.get(related_list(owner, owner_id, segment, name="x"), headers=reader)

    assert_error(response, 400, "name")


# --- ids ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("entity", list(PLURAL))
@pytest.mark.parametrize(
    ("pick", "expected"),
    [
        ([0, 2], [0, 2]),
        ([3], [3]),
        ([2, 0], [0, 2]),
        ([1, None], [1]),
        ([None], []),
    ],
    ids=["two", "one", "reversed", "with-unknown", "only-unknown"],
)
def test_ids_returns_only_those_ids(client, reader, make, entity, pick, expected):
    created = [make(entity) for _ in range(4)]
    wanted = ",".join(str(created[i]) if i is not None else "9999" for i in pick)

    data = get_data(client, collection(entity, ids=wanted), reader)

    assert sorted(ids_of(entity, data)) == [created[i] for i in expected]


@pytest.mark.parametrize("huge", [2**31, 2**63, 10**30], ids=["2^31", "2^63", "10^30"])
def test_ids_larger_than_any_id_match_nothing(client, reader, make, huge):
    festival = make("festival")

    data = get_data(client, collection("festival", ids=f"{huge},{festival}"), reader)

    assert ids_of("festival", data) == [festival]


@pytest.mark.parametrize("raw", ["x", "1,x", "1.5", "1;2", "one,two", "0x1", "1e3", "¹", "1,²", "١"])
def test_ids_not_integers_is_rejected(client, reader, make, raw):
    make("festival")

    response = client.get(collection("festival", ids=raw), headers=reader)

    assert_error(response, 400, "ids")


# --- include ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("owner", "name", "related", "segment", "reverse"), INCLUDE_CASES, ids=[f"{c[0]}-{c[1]}" for c in INCLUDE_CASES]
)
def test_include_embeds_related_under_the_name_as_sent(
    client, reader, make, link, owner, name, related, segment, reverse
):
    linked, unlinked, target = make(owner), make(owner), make(related)
    if reverse:
        link(related, target, segment, linked)
    else:
        link(owner, linked, segment, target)
    expected_target = get_data(client, item(related, target), reader)

    data = get_data(client, collection(owner, include=name), reader)

    by_id = {obj[f"{owner}_id"]: obj for obj in data}
    assert by_id[linked]["include"] == {name: expected_target}
    assert by_id[unlinked]["include"] == {name: []}


@pytest.mark.parametrize(("owner", "related", "segment"), TO_ONE, ids=[f"{c[0]}-{c[2]}" for c in TO_ONE])
def test_include_to_one_relation_is_a_list_of_at_most_one(client, reader, make, link, owner, related, segment):
    owner_id, first, second = make(owner), make(related), make(related)
    link(owner, owner_id, segment, first)
    link(owner, owner_id, segment, second)

    [obj] = get_data(client, item(owner, owner_id, include=segment), reader)
    relation = get_data(client, related_list(owner, owner_id, segment), reader)

    assert ids_of(related, obj["include"][segment]) == [second]
    assert ids_of(related, relation) == [second]


def test_include_singular_and_plural_together_give_both_keys(client, reader, make, link):
    festival = make("festival")
    links = [make("link", url=f"https://example.org/{n}") for n in range(2)]
    for link_id in links:
        link("festival", festival, "links", link_id)

    [obj] = get_data(client, item("festival", festival, include="link,links,tag"), reader)

    assert set(obj["include"]) == {"link", "links", "tag"}
    assert ids_of("link", obj["include"]["link"]) == links
    assert obj["include"]["links"] == obj["include"]["link"]
    assert obj["include"]["tag"] == []


def test_include_on_single_get_embeds_related(client, reader, make, link):
    festival, tag = make("festival"), make("tag", name="jazz")
    link("festival", festival, "tags", tag)

    [obj] = get_data(client, item("festival", festival, include="tags,image"), reader)

    assert ids_of("tag", obj["include"]["tags"]) == [tag]
    assert obj["include"]["image"] == []


def test_include_on_relation_list_embeds_related(client, reader, make, link):
    festival, event, artist = make("festival"), make("event"), make("artist")
    link("festival", festival, "events", event)
    link("event", event, "artist", artist)

    [obj] = get_data(client, related_list("festival", festival, "events", include="artists,location"), reader)

    assert obj["event_id"] == event
    assert ids_of("artist", obj["include"]["artists"]) == [artist]
    assert obj["include"]["location"] == []


@pytest.mark.parametrize(("owner", "allowed"), list(ALLOWED_INCLUDES.items()), ids=list(ALLOWED_INCLUDES))
@pytest.mark.parametrize("raw", ["bogus", "image,bogus", "festivalz"])
def test_include_unknown_name_is_rejected_naming_allowed(client, reader, make, owner, allowed, raw):
    make(owner)

    response = client.get(collection(owner, include=raw), headers=reader)

    body = assert_error(response, 400, "include")
    for name in allowed:
        assert name in body["error"]


@pytest.mark.parametrize("entity", UNNAMED)
def test_include_on_entity_without_relations_is_rejected(client, reader, make, entity):
    make(entity)

    response = client.get(collection(entity, include="festival"), headers=reader)

    assert_error(response, 400, "include")


@pytest.mark.parametrize(
    "url",
    [
        lambda ids: collection("festival", include=""),
        lambda ids: item("festival", ids["festival"], include=""),
        lambda ids: related_list("festival", ids["festival"], "events", include=""),
        lambda ids: collection("festival"),
        lambda ids: item("festival", ids["festival"]),
        lambda ids: related_list("festival", ids["festival"], "events"),
        lambda ids: related_list("festival", ids["festival"], "events", includes="artist"),
    ],
    ids=[
        "list-empty",
        "single-empty",
        "relation-empty",
        "list-none",
        "single-none",
        "relation-none",
        "relation-misspelled-param",
    ],
)
def test_include_not_requested_gives_no_include_key(client, reader, make, link, url):
    festival, event, tag = make("festival"), make("event"), make("tag")
    link("festival", festival, "events", event)
    link("festival", festival, "tags", tag)

    data = get_data(client, url({"festival": festival}), reader)

    assert data
    assert all("include" not in obj for obj in data)


def test_write_responses_have_no_include_key(client, writer, make):
    created = client.post(collection("festival"), json={"festival_name": "Sonnenklang"}, headers=writer)
    festival_id = created.get_json()["data"][0]["festival_id"]

    patched = client.patch(item("festival", festival_id), json={"festival_price": "free"}, headers=writer)

    assert (created.status_code, patched.status_code) == (201, 200)
    assert "include" not in created.get_json()["data"][0]
    assert "include" not in patched.get_json()["data"][0]


# --- limit and offset ---------------------------------------------------------------------------------

PAGES = [
    ({"limit": "2"}, [0, 1]),
    ({"limit": "2", "offset": "2"}, [2, 3]),
    ({"limit": "2", "offset": "4"}, [4]),
    ({"limit": "1", "offset": "0"}, [0]),
    ({"offset": "3"}, [3, 4]),
    ({"offset": "5"}, []),
    ({"limit": "1000"}, [0, 1, 2, 3, 4]),
    ({"limit": "3", "offset": "10"}, []),
]


@pytest.mark.parametrize(
    ("params", "expected"), PAGES, ids=["&".join(f"{k}={v}" for k, v in p.items()) for p, _ in PAGES]
)
def test_limit_offset_pages_in_id_order(client, reader, make, set_version, params, expected):
    # Names and versions in the opposite order of ids: only id order gives the expected pages.
    created = [make("festival", name=f"Festival {'EDCBA'[n]}") for n in range(5)]
    for n, festival_id in enumerate(created):
        set_version("festival", festival_id, f"2026-05-0{5 - n}T10:00:00")

    data = get_data(client, collection("festival", **params), reader)

    assert ids_of("festival", data) == [created[i] for i in expected]


@pytest.mark.parametrize(
    ("param", "raw"),
    [
        ("limit", "0"),
        ("limit", "1001"),
        ("limit", "-1"),
        ("limit", "x"),
        ("limit", "1.5"),
        ("limit", "2x"),
        ("offset", "-1"),
        ("offset", "x"),
        ("offset", "1.5"),
        ("limit", "²"),
        ("offset", "¹"),
        ("limit", "١٠"),
        ("offset", "٣"),  # Unicode digits: 400, never 500
    ],
)
def test_limit_offset_invalid_is_rejected(client, reader, make, param, raw):
    make("festival")

    response = client.get(collection("festival", **{param: raw}), headers=reader)

    assert_error(response, 400, param)


def test_list_without_limit_returns_every_row(client, reader):
    model = ENTITIES["festival"].model  # more rows than the largest allowed page, inserted in bulk
    model.insert_many([{"name": f"Festival {n:04d}", "is_valid": True} for n in range(1201)]).execute()

    data = get_data(client, collection("festival"), reader)

    assert len(data) == 1201
    assert ids_of("festival", data) == sorted(ids_of("festival", data))


# --- updated_since ------------------------------------------------------------------------------------

VERSIONED = ["festival", "event", "artist", "location", "link", "place"]
# Rows changed at 10:00Z ("old") and 12:00Z ("new") on 2026-05-01.
SINCE_CASES = [
    ("2026-05-01T11:00:00Z", ["new"]),
    ("2026-05-01T13:00:00+02:00", ["new"]),
    ("2026-05-01T08:00:00-03:00", ["new"]),
    ("2026-05-01T11:59:59.5Z", ["new"]),
    ("2026-05-01T09:00:00+02:00", ["old", "new"]),
    ("2026-05-01T09:59:59Z", ["old", "new"]),
    ("2026-05-01T10:00:00Z", ["new"]),
    ("2026-05-01T12:00:00Z", []),
    ("2026-05-01T14:00:00+02:00", []),
    (str(unix("2026-05-01T11:00:00")), ["new"]),
    (str(unix("2026-05-01T09:00:00")), ["old", "new"]),
    (str(unix("2026-05-01T12:00:00")), []),
]


@pytest.mark.parametrize("entity", VERSIONED)
@pytest.mark.parametrize(("since", "expected"), SINCE_CASES, ids=[c[0] for c in SINCE_CASES])
def test_updated_since_returns_only_newer_versions(client, reader, make, set_version, entity, since, expected):
    rows = {"old": make(entity), "new": make(entity)}
    set_version(entity, rows["old"], "2026-05-01T10:00:00")
    set_version(entity, rows["new"], "2026-05-01T12:00:00")

    data = get_data(client, collection(entity, updated_since=since), reader)

    assert ids_of(entity, data) == [rows[label] for label in expected]


def test_updated_since_offset_unencoded_in_url_is_understood(client, reader, make, set_version):
    old, new = make("festival"), make("festival")
    set_version("festival", old, "2026-05-01T10:00:00")
    set_version("festival", new, "2026-05-01T12:00:00")

    # A client that does not percent-encode "+": the query string carries a literal "+".
    data = get_data(client, f"{API}/festivals?updated_since=2026-05-01T13:00:00+02:00", reader)

    assert ids_of("festival", data) == [new]


def test_updated_since_sees_a_change_made_through_the_api(client, reader, writer, make, set_version):
    changed, untouched = make("festival"), make("festival")
    set_version("festival", changed, "2026-05-01T10:00:00")
    set_version("festival", untouched, "2026-05-01T10:00:00")
    patched = client.patch(item("festival", changed), json={"festival_price": "free"}, headers=writer)
    assert patched.status_code == 200

    data = get_data(client, collection("festival", updated_since="2026-05-01T11:00:00Z"), reader)

    assert ids_of("festival", data) == [changed]


@pytest.mark.parametrize("limit", [None, 2, 3])
def test_updated_since_pages_count_only_visible_events_in_id_order(
    client, reader, writer, admin, make, link, set_version, limit
):
    published = make("festival", name="Sommerfest Lüneburg")
    draft = make("festival", name="Wintertraum Görlitz (Entwurf)", is_valid=False)
    events = []
    for n in range(8):  # interleaved: every third event is in the draft
        event = make("event", name=f"Konzert Nr. {n} — Kammerchor Bad Säckingen")
        link("festival", draft if n % 3 == 1 else published, "events", event)
        set_version("event", event, "2026-05-01T10:00:00" if n in (0, 5) else "2026-05-01T12:00:00")
        events.append(event)
    newer = [event for n, event in enumerate(events) if n not in (0, 5)]
    public = [event for n, event in enumerate(events) if n not in (0, 5) and n % 3 != 1]
    params = {"updated_since": "2026-05-01T11:00:00Z"} | ({"limit": limit} if limit else {})

    for headers, expected in ((reader, public), (writer, newer), (admin, newer)):
        pages, offset = [], 0
        while True:
            page = ids_of("event", get_data(client, collection("event", **params, offset=offset), headers))
            pages += page
            offset += limit or len(page)
            if not limit or len(page) < limit:
                break
        assert pages == expected
        in_festival = get_data(client, related_list("festival", published, "events", **params), headers)
        assert ids_of("event", in_festival) == [e for e in expected if e in public][: limit or None]


def test_updated_since_shows_a_creator_their_own_newer_drafts(client, reader, writer, make, set_version):
    draft = make("festival", name="Kellerfest Würzburg (Entwurf)", is_valid=False)
    published = make("festival", name="Hafenfest Flensburg")
    for festival in (draft, published):
        set_version("festival", festival, "2026-05-01T12:00:00")
    since = {"updated_since": "2026-05-01T11:00:00Z", "limit": 10}

    assert ids_of("festival", get_data(client, collection("festival", **since), writer)) == [draft, published]
    assert ids_of("festival", get_data(client, collection("festival", **since), reader)) == [published]


@pytest.mark.parametrize(
    "raw",
    [
        "yesterday",
        "2026-13-01T00:00:00Z",
        "2026-05-01T25:00:00Z",
        "1e9",
        "-5",
        "12:00",
        "2026-05-01T10:00:00+25:00",
        "99999999999999999999",
        "²",
    ],
)
def test_updated_since_invalid_is_rejected(client, reader, make, raw):
    make("festival")

    response = client.get(collection("festival", updated_since=raw), headers=reader)

    assert_error(response, 400, "updated_since")


# --- valid --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "valid", "expected"),
    [
        ("admin", "true", ["Published A", "Published B"]),
        ("admin", "false", ["Draft"]),
        ("admin", None, ["Published A", "Draft", "Published B"]),
        ("reader", "true", ["Published A", "Published B"]),
        ("reader", "false", []),
    ],
    ids=["admin-true", "admin-false", "admin-absent", "apikey-true", "apikey-false"],
)
def test_valid_filters_festivals_by_published(client, admin, reader, make, who, valid, expected):
    make("festival", name="Published A", is_valid=True)
    make("festival", name="Draft", is_valid=False)
    make("festival", name="Published B", is_valid=True)
    headers = admin if who == "admin" else reader
    params = {"valid": valid} if valid is not None else {}

    data = get_data(client, collection("festival", **params), headers)

    assert [obj["festival_name"] for obj in data] == expected


@pytest.mark.parametrize("entity", ["artist", "tag", "link"])
def test_valid_and_unknown_parameters_are_ignored_on_other_lists(client, reader, make, entity):
    created = [make(entity) for _ in range(2)]

    data = get_data(client, collection(entity, valid="true", color="red", sort="name"), reader)

    assert ids_of(entity, data) == created


# --- parameters combine with AND --------------------------------------------------------------------

COMBINED = [
    ({"name": "rock", "valid": "true"}, ["Rock Alpha", "Rock Delta", "Rock Epsilon"]),
    ({"name": "rock", "valid": "true", "updated_since": "2026-03-01T00:00:00Z"}, ["Rock Alpha", "Rock Epsilon"]),
    ({"name": "rock", "updated_since": "2026-03-01T00:00:00Z"}, ["Rock Alpha", "Rock Beta", "Rock Epsilon"]),
    (
        {"name": "rock", "valid": "true", "updated_since": "2026-03-01T00:00:00Z", "limit": "1", "offset": "1"},
        ["Rock Epsilon"],
    ),
    ({"name": "rock", "ids": "{Rock Alpha},{Jazz Gamma},{Rock Delta}"}, ["Rock Alpha", "Rock Delta"]),
    ({"ids": "{Rock Alpha},{Rock Beta},{Jazz Gamma}", "valid": "false"}, ["Rock Beta"]),
    (
        {"ids": "{Rock Alpha},{Jazz Gamma},{Rock Delta}", "updated_since": "2026-03-01T00:00:00Z", "limit": "1"},
        ["Rock Alpha"],
    ),
    ({"name": "jazz", "valid": "false"}, []),
]


@pytest.mark.parametrize(("params", "expected"), COMBINED, ids=[f"case{n}" for n in range(len(COMBINED))])
def test_parameters_combine_with_and(client, admin, make, set_version, params, expected):
    rows = {}
    for name, valid, version in [
        ("Rock Alpha", True, "2026-05-01T12:00:00"),
        ("Rock Beta", False, "2026-05-01T12:00:00"),
        ("Jazz Gamma", True, "2026-05-01T12:00:00"),
        ("Rock Delta", True, "2026-01-01T12:00:00"),
        ("Rock Epsilon", True, "2026-05-01T12:00:00"),
    ]:
        rows[name] = make("festival", name=name, is_valid=valid)
        set_version("festival", rows[name], version)
    query = {key: value.format(**rows) for key, value in params.items()}

    data = get_data(client, collection("festival", **query), admin)

    assert [obj["festival_name"] for obj in data] == expected


# --- relation lists take the same parameters ---------------------------------------------------------

RELATION_CASES = [
    ({}, ["Opening Night", "Closing Night", "Afterparty"]),
    ({"name": "NIGHT"}, ["Opening Night", "Closing Night"]),
    ({"ids": "{Opening Night},{Night Owl},{Afterparty}"}, ["Opening Night", "Afterparty"]),
    ({"limit": "1", "offset": "1"}, ["Closing Night"]),
    ({"offset": "2"}, ["Afterparty"]),
    ({"updated_since": "2026-03-01T00:00:00Z"}, ["Opening Night", "Afterparty"]),
    ({"name": "night", "updated_since": "2026-03-01T00:00:00Z"}, ["Opening Night"]),
    ({"name": "owl"}, []),
]


@pytest.mark.parametrize(("params", "expected"), RELATION_CASES, ids=[f"case{n}" for n in range(len(RELATION_CASES))])
def test_relation_list_applies_parameters(client, reader, make, link, set_version, params, expected):
    festival, other = make("festival"), make("festival")
    rows = {}
    for name, owner, version in [
        ("Opening Night", festival, "2026-05-01T12:00:00"),
        ("Night Owl", other, "2026-05-01T12:00:00"),
        ("Closing Night", festival, "2026-01-01T12:00:00"),
        ("Afterparty", festival, "2026-05-01T12:00:00"),
    ]:
        rows[name] = make("event", name=name)
        link("festival", owner, "events", rows[name])
        set_version("event", rows[name], version)
    query = {key: value.format(**rows) for key, value in params.items()}

    data = get_data(client, related_list("festival", festival, "events", **query), reader)

    assert [obj["event_name"] for obj in data] == expected


@pytest.mark.parametrize(
    ("param", "raw", "field"),
    [
        ("ids", "x", "ids"),
        ("limit", "0", "limit"),
        ("offset", "-1", "offset"),
        ("updated_since", "yesterday", "updated_since"),
        ("include", "bogus", "include"),
    ],
)
def test_relation_list_invalid_parameter_is_rejected(client, reader, make, link, param, raw, field):
    festival, event = make("festival"), make("event")
    link("festival", festival, "events", event)

    response = client.get(related_list("festival", festival, "events", **{param: raw}), headers=reader)

    assert_error(response, 400, field)


# --- unknown ids --------------------------------------------------------------------------------------


@pytest.mark.parametrize("entity", list(PLURAL))
@pytest.mark.parametrize("unknown", [9999, 2**31, 2**63], ids=["9999", "2^31", "2^63"])
def test_get_unknown_id_is_not_found(client, reader, make, entity, unknown):
    make(entity)

    response = client.get(item(entity, unknown), headers=reader)

    assert_error(response, 404)


@pytest.mark.parametrize(
    ("owner", "segment"), [("festival", "events"), ("artist", "links"), ("tag", "festivals"), ("event", "location")]
)
def test_relation_list_of_unknown_id_is_not_found(client, reader, owner, segment):
    response = client.get(related_list(owner, 9999, segment), headers=reader)

    assert_error(response, 404)


@pytest.mark.parametrize("entity", list(PLURAL))
def test_get_known_id_answers_a_one_element_list(client, reader, make, entity):
    entity_id = make(entity)

    data = get_data(client, item(entity, entity_id), reader)

    assert ids_of(entity, data) == [entity_id]


# --- output format ------------------------------------------------------------------------------------

INCLUDE_ALL = {
    "festival": "events,image,place,links,tags",
    "event": "image,location,artists,festival",
    "artist": "image,links,tags",
    "location": "image,place,links",
    "tag": "festivals",
}


def related_entity(name: str) -> str:
    """`links` -> link, `image` -> image: the entity an include name stands for."""
    return {plural: entity for entity, plural in PLURAL.items()}.get(name, name)


def check_format(entity: str, obj: dict) -> int:
    """Asserts the contract's field set and JSON types; returns how many objects were checked."""
    assert set(obj) - {"include"} == CONTRACT_FIELDS[entity]
    for field in BOOLEANS.get(entity, ()):
        assert obj[field] is True or obj[field] is False, (field, obj[field])
    for field in INTEGERS.get(entity, ()):
        assert type(obj[field]) is int, (field, obj[field])
    if entity in UNVERSIONED:
        assert f"{entity}_version" not in obj
    else:
        assert VERSION.fullmatch(obj[f"{entity}_version"]), obj[f"{entity}_version"]
    checked = 1
    for name, related in obj.get("include", {}).items():
        for nested in related:
            checked += check_format(related_entity(name), nested)
    return checked


@pytest.fixture
def world(make, link):
    """One of everything, every relation linked, with true and false booleans."""
    ids = {
        "festival": make("festival", is_valid=True, start=1_800_000_000, end=1_800_086_400),
        "event": make("event", is_scheduled=False, has_timeslot=True, type=3, start=1_800_000_000, end=1_800_003_600),
        "artist": make("artist"),
        "location": make("location", accessible=True, openair=False),
        "image": make("image"),
        "link": make("link", service=-1),
        "place": make("place", lat=51.34, lon=12.37),
        "tag": make("tag", name="jazz"),
    }
    for owner, _, _, related, segment, reverse in RELATIONS:
        if not reverse:
            link(owner, ids[owner], segment, ids[related])
    return ids


OUTPUT_ROUTES = [(entity, route) for entity in PLURAL for route in ("list", "single")] + [
    (entity, route) for entity in INCLUDE_ALL for route in ("list-include", "single-include")
]


@pytest.mark.parametrize(("entity", "route"), OUTPUT_ROUTES, ids=[f"{e}-{r}" for e, r in OUTPUT_ROUTES])
def test_output_has_contract_fields_booleans_and_versions(client, reader, world, entity, route):
    params = {"include": INCLUDE_ALL[entity]} if route.endswith("include") else {}
    url = collection(entity, **params) if route.startswith("list") else item(entity, world[entity], **params)

    data = get_data(client, url, reader)

    assert len(data) == 1
    checked = check_format(entity, data[0])
    assert checked == 1 + (len(params["include"].split(",")) if params else 0)


@pytest.mark.parametrize(
    ("entity", "body", "change"),
    [
        ("festival", {"festival_name": "Sonnenklang", "festival_is_valid": False}, {"festival_is_valid": True}),
        ("event", {"event_name": "Opening", "event_is_scheduled": False}, {"event_has_timeslot": False}),
        ("location", {"location_name": "Main Stage", "location_openair": True}, {"location_accessible": True}),
        ("artist", {"artist_name": "The Band"}, {"artist_description": "Indie"}),
        ("link", {"link_url": "https://example.org/"}, {"link_service": 4}),
        ("place", {"place_town": "Leipzig", "place_lat": 51}, {"place_lon": 12}),
        ("image", {"image_ref": "https://files.example.org/images/abc"}, {"image_comment": "poster"}),
        ("tag", {"tag_name": "jazz"}, {"tag_name": "blues"}),
    ],
)
def test_write_responses_have_contract_fields_booleans_and_versions(client, writer, entity, body, change):
    created = client.post(collection(entity), json=body, headers=writer)
    assert created.status_code == 201, created.get_data(as_text=True)
    [obj] = created.get_json()["data"]

    patched = client.patch(item(entity, obj[f"{entity}_id"]), json=change, headers=writer)

    assert patched.status_code == 200, patched.get_data(as_text=True)
    check_format(entity, obj)
    check_format(entity, patched.get_json()["data"][0])


def test_booleans_keep_their_value_on_the_wire(client, reader, make):
    location = make("location", accessible=True, openair=False)
    event = make("event", is_scheduled=False, has_timeslot=True)

    [loc] = get_data(client, item("location", location), reader)
    [evt] = get_data(client, item("event", event), reader)

    assert (loc["location_accessible"], loc["location_openair"]) == (True, False)
    assert (evt["event_is_scheduled"], evt["event_has_timeslot"]) == (False, True)


def test_version_is_the_stored_change_time_in_utc(client, reader, make, set_version):
    festival = make("festival")
    set_version("festival", festival, "2026-07-02T22:41:02.987654")

    [obj] = get_data(client, item("festival", festival), reader)

    assert obj["festival_version"] == "2026-07-02T22:41:02Z"


# --- API-Version header -------------------------------------------------------------------------------


def _requests():
    def conditional(client, ctx):
        first = client.get(collection("festival"), headers=ctx["reader"])
        return client.get(collection("festival"), headers={**ctx["reader"], "If-None-Match": first.headers["ETag"]})

    def too_large(client, ctx):
        return client.post(
            collection("festival"),
            data=b" " * (1024 * 1024 + 1),
            headers=ctx["writer"],
            content_type="application/json",
        )

    return {
        "list-200": lambda c, x: c.get(collection("festival"), headers=x["reader"]),
        "single-200": lambda c, x: c.get(item("festival", x["festival"]), headers=x["reader"]),
        "relation-200": lambda c, x: c.get(related_list("festival", x["festival"], "events"), headers=x["reader"]),
        "create-201": lambda c, x: c.post(collection("tag"), json={"tag_name": "blues"}, headers=x["writer"]),
        "patch-200": lambda c, x: c.patch(
            item("festival", x["festival"]), json={"festival_price": "5"}, headers=x["writer"]
        ),
        "delete-200": lambda c, x: c.delete(item("festival", x["festival"]), headers=x["writer"]),
        "link-200": lambda c, x: c.post(f"{API}/festivals/{x['festival']}/tags/{x['tag']}", headers=x["writer"]),
        "not-modified-304": conditional,
        "bad-param-400": lambda c, x: c.get(collection("festival", limit="0"), headers=x["reader"]),
        "bad-body-400": lambda c, x: c.post(
            collection("festival"), data=b"[]", headers=x["writer"], content_type="application/json"
        ),
        "no-credentials-401": lambda c, x: c.get(collection("festival")),
        "api-key-write-403": lambda c, x: c.post(collection("tag"), json={"tag_name": "x"}, headers=x["reader"]),
        "unknown-id-404": lambda c, x: c.get(item("festival", 9999), headers=x["reader"]),
        "unknown-path-404": lambda c, x: c.get(f"{API}/stages", headers=x["reader"]),
        "method-405": lambda c, x: c.put(item("festival", x["festival"]), json={}, headers=x["writer"]),
        "conflict-409": lambda c, x: c.post(collection("tag"), json={"tag_name": "JAZZ"}, headers=x["writer"]),
        "too-large-413": too_large,
    }


REQUESTS = _requests()


@pytest.mark.parametrize("name", list(REQUESTS))
def test_every_response_has_api_version_header(client, reader, writer, make, name):
    ctx = {"reader": reader, "writer": writer, "festival": make("festival"), "tag": make("tag", name="jazz")}
    expected_status = int(name.rsplit("-", 1)[1])

    response = REQUESTS[name](client, ctx)

    assert response.status_code == expected_status, response.get_data(as_text=True)
    assert response.headers.get("API-Version") == "1"
