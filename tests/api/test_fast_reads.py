"""The fast read path (api/fast_reads.py): API-key cache hits and 304s answered below Flask must be the answers
Flask gives — the same headers in the same order, the same 401s, the same access log line — after one query."""

import logging
import time
import uuid
from datetime import timedelta

import pytest
import redis

from app.models import ApiKey
from app.models.base import utcnow
from app.services import api_keys
from tests.conftest import SUITE


@pytest.fixture(params=["events?include=artist,location", "schedule.ics"])
def read(request, factory):
    """An API read, or a schedule export (its Content-Disposition is the festival's and kept with the answer)."""
    owner = factory.user("creator")
    festival = factory.create("festival", owner, name="Kölner Lichter")["festival_id"]
    event = factory.create("event", owner, start=1_815_840_000, end=1_815_843_600)["event_id"]
    factory.link("festival", festival, "events", event, owner)
    return f"/api/v1/festivals/{festival}/{request.param}"


@pytest.fixture
def key(factory):
    return factory.api_key_headers()


def fast_answers(app) -> int:
    return len(app.extensions["fast_reads"].routes)


def without_request_id(response) -> list[tuple[str, str]]:
    return [(name, value) for name, value in response.headers.items() if name != "X-Request-ID"]


def test_hit_and_304_are_one_query_with_the_headers_flask_gives(app, client, read, key, count_queries):
    fast = app.extensions["fast_reads"]
    first = client.get(read, headers=key)  # a miss: Flask renders, stores, and the fast path learns the read
    fast.routes.clear()
    by_flask = client.get(read, headers=key)
    not_modified_by_flask = client.get(read, headers={**key, "If-None-Match": first.headers["ETag"]})
    assert by_flask.headers["X-Cache"] == "hit" and not_modified_by_flask.status_code == 304

    count_queries.reset()
    hit = client.get(read, headers=key)
    not_modified = client.get(read, headers={**key, "If-None-Match": first.headers["ETag"]})

    assert count_queries.count == 2  # one each: the key and the counters together
    assert all('"api_key"' in sql and '"data_version"' in sql for sql in count_queries.sql)
    assert hit.status_code == 200 and hit.data == first.data
    assert without_request_id(hit) == without_request_id(by_flask)
    assert not_modified.status_code == 304 and not_modified.data == b""
    assert without_request_id(not_modified) == without_request_id(not_modified_by_flask)
    assert len(hit.headers["X-Request-ID"]) == 32 and hit.headers["X-Request-ID"] != by_flask.headers["X-Request-ID"]


def test_request_id_is_echoed_when_sane(client, read, key):
    client.get(read, headers=key)
    assert client.get(read, headers={**key, "X-Request-ID": "trace-7"}).headers["X-Request-ID"] == "trace-7"
    assert client.get(read, headers={**key, "X-Request-ID": "bad id!"}).headers["X-Request-ID"] != "bad id!"


@pytest.mark.parametrize("presented", ["fa_0000000_nope", "nonsense", "fa_00000000_wrong-secret-of-a-key"])
def test_an_invalid_key_still_gets_401(client, read, key, presented):
    assert client.get(read, headers=key).status_code == 200
    for extra in ({}, {"If-None-Match": client.get(read, headers=key).headers["ETag"]}):
        response = client.get(read, headers={"Api-Key": presented, **extra})
        assert response.status_code == 401
        assert response.get_json() == {"error": "the Api-Key is unknown or revoked"}


def test_wrong_secret_behind_a_real_prefix_gets_401(client, read, key):
    etag = client.get(read, headers=key).headers["ETag"]
    forged = key["Api-Key"][: api_keys.PREFIX_TOTAL + 1] + "x" * 43
    assert client.get(read, headers={"Api-Key": forged}).status_code == 401
    assert client.get(read, headers={"Api-Key": forged, "If-None-Match": etag}).status_code == 401


def test_a_revoked_key_gets_401_at_once(app, client, read, key):
    etag = client.get(read, headers=key).headers["ETag"]
    assert client.get(read, headers=key).headers["X-Cache"] == "hit"
    with app.app_context():
        row = ApiKey.get(ApiKey.prefix == api_keys.key_prefix(key["Api-Key"]))
        api_keys.revoke_key(row.id)
    assert client.get(read, headers=key).status_code == 401
    assert client.get(read, headers={**key, "If-None-Match": etag}).status_code == 401


def test_a_service_key_is_not_an_api_key(app, client, read, key):
    client.get(read, headers=key)
    with app.app_context():
        service_key, _ = api_keys.create_key("heartbeats", "service")
    assert client.get(read, headers={"Api-Key": service_key}).status_code == 401


def test_a_due_key_use_is_still_recorded(app, client, read, key):
    client.get(read, headers=key)
    prefix = api_keys.key_prefix(key["Api-Key"])
    long_ago = utcnow() - timedelta(hours=1)
    with app.app_context():
        ApiKey.update(last_used=long_ago).where(ApiKey.prefix == prefix).execute()
    assert client.get(read, headers=key).headers["X-Cache"] == "hit"
    # Noted by the fast path, written in the background: by this flush or by the writer's thread meanwhile.
    api_keys.KEY_USE.flush()
    deadline = time.monotonic() + 10
    with app.app_context():
        while ApiKey.get(ApiKey.prefix == prefix).last_used <= long_ago and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ApiKey.get(ApiKey.prefix == prefix).last_used > long_ago


def test_bearer_and_cookie_requests_go_through_flask(app, client, read, key, factory):
    seen = []
    app.extensions["fast_reads"].observers.append(lambda *answer: seen.append(answer))
    client.get(read, headers=key)
    assert client.get(read, headers=key).headers["X-Cache"] == "hit" and len(seen) == 1  # a key alone: below Flask
    as_user = client.get(read, headers={**key, **factory.bearer(factory.user("creator"))})
    client.set_cookie("session", "anything")
    with_cookie = client.get(read, headers=key)
    assert as_user.status_code == with_cookie.status_code == 200 and len(seen) == 1


def test_fast_answers_get_the_access_log_line_and_observers(app, client, read, key, caplog):
    seen = []
    app.extensions["fast_reads"].observers.append(lambda *answer: seen.append(answer))
    client.get(read, headers=key)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="festivals.request"):
        answer = client.get(read, headers=key)
    path = read.split("?")[0]
    assert [record.getMessage().split(" ")[:3] for record in caplog.records] == [["GET", path, "200"]]
    assert caplog.records[0].request_id == answer.headers["X-Request-ID"]
    rule = (
        "/api/v1/<entity:spec>/<id:entity_id>/<segment>" if "events?" in read else "/api/v1/festivals/<id:festival_id>/"
    )
    assert seen[0][0].startswith(rule) and seen[0][1:3] == ("GET", 200) and seen[0][4] == "hit"


def test_errors_are_never_learned(app, client, key):
    assert client.get("/api/v1/festivals/987654", headers=key).status_code == 404
    assert client.get("/api/v1/festivals?limit=x", headers=key).status_code == 400
    assert fast_answers(app) == 0


def test_api_answers_carry_vary_cache_control_and_the_security_headers(client, read, key):
    miss, hit = client.get(read, headers=key), client.get(read, headers=key)
    for answer in (miss, hit):
        assert answer.headers["Vary"] == "Authorization, Api-Key" and answer.headers["Cache-Control"] == "no-cache"
        assert answer.headers["X-Content-Type-Options"] == "nosniff" and answer.headers["X-Frame-Options"] == "DENY"
        assert (
            answer.headers["Referrer-Policy"] == "same-origin"
            and "interest-cohort=()" in answer.headers["Permissions-Policy"]
        )
        assert "frame-ancestors 'none'" in answer.headers["Content-Security-Policy"]
        assert answer.headers["API-Version"] == "1" and "X-RateLimit-Limit" not in answer.headers


# --- misses (and every answer without a response cache) made below Flask -------------------------------------

HOSTILE_NAME = 'Größenwahn 🎸 "quoted" back\\slash </script> \u2028'


@pytest.fixture(params=["cache-off", "memory", "redis"])
def store(request) -> dict:
    """The response cache the fast app runs with: none, in memory, or Redis."""
    if request.param == "cache-off":
        return {"READ_CACHE_BYTES": 0}
    if request.param == "memory":
        return {}
    redis.Redis.from_url(SUITE.test_redis_url).ping()  # no Redis: this test fails, it never skips
    return {"REDIS_URL": SUITE.test_redis_url, "READ_CACHE_PREFIX": f"test-fast-{uuid.uuid4().hex}:"}


def fast_and_flask(make_app, **config):
    """(the fast app's client, Flask's own client on the same database, the fast path's answers seen)."""
    fast = make_app(FAST_READS=True, **config)
    seen = []
    fast.extensions["fast_reads"].observers.append(lambda *answer: seen.append(answer))
    return fast.test_client(), make_app(FAST_READS=False, READ_CACHE_BYTES=0).test_client(), seen


@pytest.fixture
def paths(app, make_app, store):
    return fast_and_flask(make_app, **store)


@pytest.fixture
def site(factory):
    owner = factory.user("creator")
    festival = factory.create("festival", owner, name=HOSTILE_NAME, description="line\nbreak\ttab")["festival_id"]
    draft = factory.create("festival", owner, name="Secret draft", is_valid=False)["festival_id"]
    location = factory.create("location", owner, name="Bühne 1")["location_id"]
    events = []
    for n in range(4):
        event = factory.create("event", owner, name=f"{HOSTILE_NAME} {n}")["event_id"]
        factory.link("festival", draft if n == 3 else festival, "events", event, owner)
        factory.link("event", event, "location", location, owner)
        if n % 2:
            artist = factory.create("artist", owner, name=f"Künstler {n}")["artist_id"]
            factory.link("event", event, "artist", artist, owner)
        events.append(event)
    return {
        "creator": owner,
        "owner": factory.bearer(owner),
        "key": factory.api_key_headers(),
        "festival": festival,
        "draft": draft,
        "events": events,
        "location": location,
    }


MISS_READS = [
    "/api/v1/festivals/{festival}",
    "/api/v1/festivals/{festival}?include=events,tags",
    "/api/v1/festivals?include=events",
    "/api/v1/festivals/{festival}/events?include=artist,location",
    "/api/v1/events?include=artist,location&limit=2&offset=1",
    "/api/v1/events?name=gr%C3%B6%C3%9Fenwahn",
    "/api/v1/events/{event}/location",
    "/api/v1/events/{event}?include=festival,location",
    "/api/v1/locations/{location}",
    "/api/v1/festivals/{festival}/schedule.ics",
    "/api/v1/festivals/{festival}/schedule.json",
    "/api/v1/festivals/{festival}/schedule.xml",
    "/api/v1/festivals/{festival}/events.csv",
]


@pytest.mark.parametrize("url", MISS_READS)
def test_a_miss_made_below_flask_is_flasks_answer(app, make_app, site, url):
    """Without a response cache every answer is a miss: made below Flask once Flask answered the read once."""
    fast, flask, seen = fast_and_flask(make_app, READ_CACHE_BYTES=0)
    url = url.format(event=site["events"][0], **site)
    assert fast.get(url, headers=site["key"]).status_code == 200 and seen == []  # Flask's: the read is learned
    by_flask = flask.get(url, headers=site["key"])
    for headers in (site["key"], {**site["key"], "If-None-Match": '"not-the-tag", W/"neither"'}):
        seen.clear()
        made = fast.get(url, headers=headers)
        assert [answer[4] for answer in seen] == ["miss"]  # made below Flask
        assert made.status_code == 200 and made.data == by_flask.data
        assert without_request_id(made) == without_request_id(by_flask)
        assert "Secret" not in made.data.decode()


def test_a_miss_made_below_flask_is_stored_for_the_next_read(paths, site, store):
    fast, _, seen = paths
    url = f"/api/v1/festivals/{site['festival']}/events?include=artist,location"
    fast.get(url, headers=site["key"])
    renamed = fast.patch(f"/api/v1/locations/{site['location']}", json={"location_name": "B2"}, headers=site["owner"])
    assert renamed.status_code == 200
    made, again = fast.get(url, headers=site["key"]), fast.get(url, headers=site["key"])
    assert [answer[4] for answer in seen] == ["miss", "miss" if "READ_CACHE_BYTES" in store else "hit"]
    assert made.data == again.data and made.headers["ETag"] == again.headers["ETag"] and b'"B2"' in made.data
    revalidated = fast.get(url, headers={**site["key"], "If-None-Match": made.headers["ETag"]})
    assert revalidated.status_code == 304 and seen[-1][4] == "not-modified"


def test_what_the_read_refuses_is_answered_by_flask(paths, site):
    """Learned reads whose object is then hidden (unpublished), deleted, or asked with `If-None-Match: *`."""
    fast, flask, seen = paths
    festival, event = f"/api/v1/festivals/{site['festival']}", f"/api/v1/events/{site['events'][0]}"
    for url in (festival, event, f"{festival}/events"):
        assert fast.get(url, headers=site["key"]).status_code == 200
    star = fast.get(event, headers={**site["key"], "If-None-Match": "*"})
    assert star.status_code == 304 and star.headers["X-Cache"] in ("not-modified", "hit")
    seen.clear()
    hidden = fast.patch(festival, json={"festival_is_valid": False}, headers=site["owner"])
    assert hidden.status_code == 200
    assert fast.delete(event, headers=site["owner"]).status_code == 200
    for url in (festival, event, f"{festival}/events"):
        refused, by_flask = fast.get(url, headers=site["key"]), flask.get(url, headers=site["key"])
        assert refused.status_code == by_flask.status_code == 404
        assert refused.data == by_flask.data and without_request_id(refused) == without_request_id(by_flask)
    assert seen == []  # none of them answered below Flask


def test_writes_show_at_once_through_the_fast_path(paths, site, factory):
    """Create, update, link, unlink, publish and delete, each read right after through the fast path."""
    fast, _, seen = paths
    key, owner = site["key"], site["owner"]
    festival = f"/api/v1/festivals/{site['festival']}"
    events = f"{festival}/events?include=artist,location"
    draft_events = f"/api/v1/festivals/{site['draft']}?include=events"
    for url in ("/api/v1/artists", festival, events, draft_events.replace(str(site["draft"]), str(site["festival"]))):
        assert fast.get(url, headers=key).status_code == 200

    def made(url):
        seen.clear()
        answer = fast.get(url, headers=key)
        assert answer.status_code == 200 and [a[4] for a in seen] == ["miss"], (url, answer.status_code, seen)
        return answer.get_json()["data"]

    created = fast.post("/api/v1/artists", json={"artist_name": "Brand new"}, headers=owner)
    assert created.status_code == 201
    assert "Brand new" in [artist["artist_name"] for artist in made("/api/v1/artists")]
    assert fast.patch(festival, json={"festival_name": "Renamed"}, headers=owner).status_code == 200
    assert made(festival)[0]["festival_name"] == "Renamed"
    late = factory.create("event", site["creator"], name="Late event")["event_id"]
    assert fast.post(f"{festival}/events/{late}", headers=owner).status_code == 200
    assert "Late event" in [event["event_name"] for event in made(events)]
    assert fast.delete(f"{festival}/events/{site['events'][0]}", headers=owner).status_code == 200
    assert f"{HOSTILE_NAME} 0" not in [event["event_name"] for event in made(events)]
    assert (
        fast.patch(f"/api/v1/festivals/{site['draft']}", json={"festival_is_valid": True}, headers=owner).status_code
        == 200
    )
    published = f"/api/v1/festivals/{site['draft']}?include=events"
    fast.get(published, headers=key)  # learned now that it answers 200
    assert (
        fast.patch(f"/api/v1/events/{site['events'][3]}", json={"event_name": "Shown"}, headers=owner).status_code
        == 200
    )
    assert [event["event_name"] for event in made(published)[0]["include"]["events"]] == ["Shown"]
    gone = fast.delete(f"/api/v1/artists/{created.get_json()['data'][0]['artist_id']}", headers=owner)
    assert gone.status_code == 200
    assert "Brand new" not in [artist["artist_name"] for artist in made("/api/v1/artists")]


def test_an_export_made_below_flask_shows_writes_at_once(paths, site):
    """A schedule export's miss made below Flask: a renamed act is in it at once, and a renamed festival names
    the file (Content-Disposition, stored with the answer) as Flask names it."""
    fast, flask, seen = paths
    key, owner = site["key"], site["owner"]
    url = f"/api/v1/festivals/{site['festival']}/events.csv"
    learned = fast.get(url, headers=key)  # Flask's answer: the read is learned
    assert learned.status_code == 200
    event = f"/api/v1/events/{site['events'][1]}"
    assert fast.patch(event, json={"event_name": "Zugabe am Südufer"}, headers=owner).status_code == 200
    festival = f"/api/v1/festivals/{site['festival']}"
    assert fast.patch(festival, json={"festival_name": "Nächte in Köln"}, headers=owner).status_code == 200
    seen.clear()
    made, by_flask = fast.get(url, headers=key), flask.get(url, headers=key)
    assert [answer[4] for answer in seen] == ["miss"]
    assert "Zugabe am Südufer" in made.get_data(as_text=True) and made.data == by_flask.data
    assert made.headers["Content-Disposition"] == by_flask.headers["Content-Disposition"]
    assert made.headers["Content-Disposition"] != learned.headers["Content-Disposition"]
