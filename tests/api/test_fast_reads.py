"""The fast read path (api/fast_reads.py): API-key cache hits and 304s answered below Flask must be the answers
Flask gives — the same headers in the same order, the same 401s, the same access log line — after one query."""

import logging
import time
from datetime import timedelta

import pytest

from app.models import ApiKey
from app.models.base import utcnow
from app.services import api_keys


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
