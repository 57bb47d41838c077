"""The list reads' bodies, byte for byte: what orjson writes of the rows as the models hold them (versions
formatted by app/serialize.py's format_version, booleans as true/false), for hostile text, drafts and includes
with several related rows and none. The read path formats versions in SQL and shares a related row's dict
between the events that include it: neither may change a byte."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

import orjson
import pytest

from app.models import Event
from app.permissions import Actor, visible
from app.registry import ENTITIES
from app.serialize import from_row
from app.services.preconditions import version_tag

pytestmark = pytest.mark.both_read_paths

API = "/api/v1"
HOSTILE = [
    "Größenwahn – Bühne für Übermütige",
    "emoji 🎸🔥 and \u2028 line separator",
    "quotes \"double\" and 'single'",
    "back\\slash \\n not a newline, a/slash",
    "new\nline\ttab\rreturn\x01\x1f\x7f end",
    "",
    "Donaudampfschifffahrtsgesellschaftskapitänsmützenfabrikationsbetriebsversammlung " * 2,
]


def name(text: str) -> str:
    """Names refuse control characters (descriptions keep them)."""
    return "".join(c for c in text if c.isprintable())


def expected_body(entity: str, actor, rows, include: list[tuple[str, str]] = ()) -> bytes:
    """The reference: models read with peewee, turned into dicts one field at a time (app/serialize.py's
    from_row), related rows by id, drafts filtered by app/permissions.py's rule."""
    spec = ENTITIES[entity]
    out = []
    for row in rows:
        obj = from_row(spec, row)
        if include:
            obj["include"] = {}
            for key, segment in include:
                relation = spec.relations[segment]
                target = ENTITIES[relation.related]
                query = (
                    target.model.select()
                    .join(relation.table, on=(relation.related_column == target.model.id))
                    .where(relation.owner_column == row.id)
                )
                rule = visible(target, actor)
                if rule is not None:
                    query = query.where(rule)
                obj["include"][key] = [from_row(target, related) for related in query.order_by(target.model.id)]
        out.append(obj)
    return orjson.dumps({"data": out})


def visible_rows(entity: str, actor, where=None):
    spec = ENTITIES[entity]
    query = spec.model.select()
    rule = visible(spec, actor)
    if rule is not None:
        query = query.where(rule)
    if where is not None:
        query = query.where(where)
    return list(query.order_by(spec.model.id))


@pytest.fixture
def hostile(factory, creator):
    """Two festivals in two time zones (one a draft) with 26 events of hostile names; events with two artists,
    one, or none; stages shared by many events; one version with microseconds just below a second."""
    published = factory.create(
        "festival", creator, name=HOSTILE[0], timezone="Europe/Berlin", description=HOSTILE[4], price=""
    )
    draft = factory.create("festival", creator, name='Entwurf "geheim"', timezone="America/New_York", is_valid=False)
    stages = [
        factory.create("location", creator, name=name(text), description=text)["location_id"] for text in HOSTILE[:3]
    ]
    artists = [
        factory.create("artist", creator, name=f"{name(text)}!", description=text)["artist_id"] for text in HOSTILE
    ]
    events = []
    for n in range(26):
        text = HOSTILE[n % len(HOSTILE)]
        event = factory.create(
            "event", creator, name=f"{name(text)} {n}", description=text, start=1_800_000_000 + n, end=1_800_003_600 + n
        )
        festival = draft if n % 5 == 4 else published
        factory.link("festival", festival["festival_id"], "events", event["event_id"], creator)
        if n % 3:
            factory.link("event", event["event_id"], "location", stages[n % len(stages)], creator)
        for artist in artists[n % 4 : n % 4 + (n % 3)]:
            factory.link("event", event["event_id"], "artist", artist, creator)
        events.append(event["event_id"])
    Event.update(version=datetime(2026, 5, 6, 7, 8, 9, 999999)).where(Event.id == events[0]).execute()
    return published["festival_id"], draft["festival_id"], events


@pytest.fixture
def app(make_app, fast_reads):
    """No response cache: with an Api-Key, a read's second answer is made below Flask (api/fast_reads.py)."""
    return make_app(FAST_READS=fast_reads, READ_CACHE_BYTES=0)


def twice(client, path: str, headers: dict) -> list:
    """The read's first answer (Flask's) and its second (with an Api-Key and the fast path on: made below Flask)."""
    return [client.get(path, headers=headers), client.get(path, headers=headers)]


def test_list_reads_are_the_models_as_orjson_writes_them(app, client, factory, creator, writer, admin, hostile):
    published, draft, events = hostile
    made_below_flask = []
    if "fast_reads" in app.extensions:
        app.extensions["fast_reads"].observers.append(lambda *answer: made_below_flask.append(answer[4]))
    key = factory.api_key_headers()
    other_creator = factory.user("creator")
    viewers = [
        (key, Actor("api_key", key_id=1)),
        (writer, factory.actor(creator)),
        (factory.bearer(other_creator), factory.actor(other_creator)),
    ]
    include = [("artist", "artist"), ("location", "location")]
    since = datetime(2000, 1, 1)
    for headers, actor in viewers:
        cases = [
            (f"{API}/events", visible_rows("event", actor), []),
            (f"{API}/events?include=artist,location", visible_rows("event", actor), include),
            (f"{API}/events?include=location,artist", visible_rows("event", actor), include[::-1]),
            (f"{API}/events?limit=7&offset=3&include=artist", visible_rows("event", actor)[3:10], include[:1]),
            (
                f"{API}/events?{urlencode({'ids': ','.join(map(str, events[::2])), 'include': 'artist,location'})}",
                visible_rows("event", actor, Event.id.in_(events[::2])),
                include,
            ),
            (
                f"{API}/events?name=DONAU",
                [row for row in visible_rows("event", actor) if "donau" in row.name.casefold()],
                [],
            ),
            (
                f"{API}/events?updated_since=2000-01-01T00:00:00Z&limit=100&include=artist",
                visible_rows("event", actor, Event.version > since),
                include[:1],
            ),
            (f"{API}/festivals?include=events", visible_rows("festival", actor), [("events", "events")]),
            (f"{API}/artists", visible_rows("artist", actor), []),
            (f"{API}/locations", visible_rows("location", actor), []),
        ]
        for path, rows, included in cases:
            entity = path.split("?")[0].rsplit("/", 1)[1].removesuffix("s")
            for response in twice(client, path, headers):
                assert response.status_code == 200, path
                assert response.data == expected_body(entity, actor, rows, included), path
        for festival in (published, draft):
            festival_events = [row for row in visible_rows("event", actor) if row.id in _events_of(festival)]
            for response in twice(client, f"{API}/festivals/{festival}/events?include=artist,location", headers):
                if festival == draft and actor.user_id != creator.id:
                    assert response.status_code == 404
                    continue
                assert response.data == expected_body("event", actor, festival_events, include)
    assert client.get(f"{API}/events", headers=admin).status_code == 200
    # With the fast path, the Api-Key's second answers (every 200 read but the draft's 404) were made below Flask.
    assert made_below_flask == (["miss"] * 11 if "fast_reads" in app.extensions else [])


def _events_of(festival_id: int) -> set[int]:
    relation = ENTITIES["festival"].relations["events"]
    query = relation.table.select(relation.related_column).where(relation.owner_column == festival_id)
    return {related_id for (related_id,) in query.tuples()}


def test_object_reads_are_the_model_and_its_version_tag(app, client, factory, creator, writer, hostile):
    """`/{entity}/{id}`: the row as orjson writes it, with includes, and the ETag starting with its version tag;
    a draft only for its owner."""
    published, draft, events = hostile
    key = factory.api_key_headers()
    include = [("artist", "artist"), ("location", "location")]
    for headers, actor in ((key, Actor("api_key", key_id=1)), (writer, factory.actor(creator))):
        cases = [
            (f"{API}/festivals/{published}", "festival", published, []),
            (f"{API}/festivals/{draft}?include=events", "festival", draft, [("events", "events")]),
            (f"{API}/events/{events[0]}?include=artist,location", "event", events[0], include),
            (f"{API}/events/{events[4]}?include=location,artist", "event", events[4], include[::-1]),
        ]
        for path, entity, entity_id, included in cases:
            rows = visible_rows(entity, actor, ENTITIES[entity].model.id == entity_id)
            for response in twice(client, path, headers):
                if not rows:
                    assert response.status_code == 404 and headers is key, path
                    continue
                assert response.status_code == 200, path
                assert response.data == expected_body(entity, actor, rows, included), path
                assert response.headers["ETag"].startswith(f'"{version_tag(rows[0].version)}.'), path
