"""Reads validated by data versions and kept in the response cache: a write changes every read that depends on
it at once (no TTL to wait for), on both cache stores; drafts never leak across visibility classes; a 304 and
a cache hit read the counters only."""

import random
import uuid

import pytest
import redis

from api.read_cache import RedisStore
from app.permissions import Actor
from app.services import users, writes
from tests.conftest import SUITE

TEST_REDIS = SUITE.test_redis_url
pytestmark = pytest.mark.both_read_paths


@pytest.fixture(params=["memory", "redis"])
def app(request, make_app, fast_reads):
    if request.param == "memory":
        return make_app(FAST_READS=fast_reads)
    redis.Redis.from_url(TEST_REDIS).ping()  # no Redis: this test fails, it never skips
    return make_app(FAST_READS=fast_reads, REDIS_URL=TEST_REDIS, READ_CACHE_PREFIX=f"test-read-{uuid.uuid4().hex}:")


@pytest.fixture
def world(factory):
    """A published festival with an event (artist, location) and a tag; a draft festival with an event."""
    owner = factory.user("creator")
    festival = factory.create("festival", owner)["festival_id"]
    event = factory.create("event", owner)["event_id"]
    artist = factory.create("artist", owner)["artist_id"]
    location = factory.create("location", owner)["location_id"]
    tag = factory.create("tag", owner)["tag_id"]
    factory.link("festival", festival, "events", event, owner)
    factory.link("event", event, "artist", artist, owner)
    factory.link("event", event, "location", location, owner)
    factory.link("festival", festival, "tags", tag, owner)
    draft = factory.create("festival", owner, name="Secret draft", is_valid=False)["festival_id"]
    draft_event = factory.create("event", owner, name="Secret event")["event_id"]
    factory.link("festival", draft, "events", draft_event, owner)
    return {
        "owner": owner,
        "festival": festival,
        "event": event,
        "artist": artist,
        "location": location,
        "tag": tag,
        "draft": draft,
        "draft_event": draft_event,
        "public": factory.api_key_headers(),
        "as_owner": factory.bearer(owner),
        "admin": factory.user("admin"),
    }


def cached(client, url, headers):
    """Read twice (the second answer comes from the cache) and check that the ETag revalidates: 304."""
    first = client.get(url, headers=headers)
    assert first.status_code == 200, first.get_json()
    again = client.get(url, headers=headers)
    assert again.headers["X-Cache"] == "hit"
    assert again.data == first.data and again.headers["ETag"] == first.headers["ETag"]
    revalidated = client.get(url, headers={**headers, "If-None-Match": first.headers["ETag"]})
    assert revalidated.status_code == 304 and revalidated.data == b""
    return first


def fresh(client, url, headers, before):
    """After a write: the plain read and the revalidation both answer the new data."""
    after = client.get(url, headers=headers)
    assert after.status_code == 200
    assert after.headers["ETag"] != before.headers["ETag"]
    revalidated = client.get(url, headers={**headers, "If-None-Match": before.headers["ETag"]})
    assert revalidated.status_code == 200 and revalidated.data == after.data
    return after.get_json()["data"]


def names(objects, entity):
    return [obj[f"{entity}_name"] for obj in objects]


def test_create_shows_at_once(client, world):
    before = cached(client, "/api/v1/artists", world["public"])
    created = client.post("/api/v1/artists", json={"artist_name": "Brand new"}, headers=world["as_owner"])
    assert created.status_code == 201
    assert "Brand new" in names(fresh(client, "/api/v1/artists", world["public"], before), "artist")


def test_update_of_the_read_object_shows_at_once(client, world):
    url = f"/api/v1/festivals/{world['festival']}"
    before = cached(client, url, world["public"])
    patched = client.patch(url, json={"festival_name": "Renamed festival"}, headers=world["as_owner"])
    assert patched.status_code == 200
    assert names(fresh(client, url, world["public"], before), "festival") == ["Renamed festival"]


def test_delete_of_the_read_object_shows_at_once(client, world):
    single = f"/api/v1/festivals/{world['festival']}"
    before_single = cached(client, single, world["public"])
    before_list = cached(client, "/api/v1/festivals", world["public"])
    assert client.delete(single, headers=world["as_owner"]).status_code == 200
    assert client.get(single, headers=world["public"]).status_code == 404
    conditional = {**world["public"], "If-None-Match": before_single.headers["ETag"]}
    assert client.get(single, headers=conditional).status_code == 404
    assert fresh(client, "/api/v1/festivals", world["public"], before_list) == []


def test_update_of_an_included_row_shows_at_once(client, world):
    url = f"/api/v1/festivals/{world['festival']}/events?include=artist,location"
    before = cached(client, url, world["public"])
    patched = client.patch(
        f"/api/v1/artists/{world['artist']}", json={"artist_name": "Renamed"}, headers=world["as_owner"]
    )
    assert patched.status_code == 200
    events = fresh(client, url, world["public"], before)
    assert names(events[0]["include"]["artist"], "artist") == ["Renamed"]


def test_delete_of_an_included_row_shows_at_once(client, world):
    url = f"/api/v1/festivals/{world['festival']}/events?include=artist,location"
    before = cached(client, url, world["public"])
    assert client.delete(f"/api/v1/locations/{world['location']}", headers=world["as_owner"]).status_code == 200
    assert fresh(client, url, world["public"], before)[0]["include"]["location"] == []


def test_link_shows_at_once(client, world, factory):
    url = f"/api/v1/festivals/{world['festival']}?include=tags"
    before = cached(client, url, world["public"])
    other = factory.create("tag", world["owner"], name="Late tag")["tag_id"]
    linked = client.post(f"/api/v1/festivals/{world['festival']}/tags/{other}", headers=world["as_owner"])
    assert linked.status_code == 200
    festival = fresh(client, url, world["public"], before)[0]
    assert "Late tag" in names(festival["include"]["tags"], "tag")


def test_unlink_shows_at_once(client, world):
    url = f"/api/v1/events/{world['event']}/artist"
    before = cached(client, url, world["public"])
    assert len(before.get_json()["data"]) == 1
    unlinked = client.delete(f"/api/v1/events/{world['event']}/artist/{world['artist']}", headers=world["as_owner"])
    assert unlinked.status_code == 200
    assert fresh(client, url, world["public"], before) == []


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/festivals",
        "/api/v1/events",
        "/api/v1/festivals/{draft}/events",
        "/api/v1/events?include=festival",
        "/api/v1/festivals?include=events",
    ],
)
def test_publish_and_unpublish_show_at_once_and_drafts_never_leak(client, world, url):
    url = url.format(**world)
    owners = cached(client, url, world["as_owner"])
    assert "Secret" in owners.data.decode()
    public = client.get(url, headers=world["public"])
    assert public.status_code in (200, 404) and "Secret" not in public.data.decode()
    publish = client.patch(
        f"/api/v1/festivals/{world['draft']}", json={"festival_is_valid": True}, headers=world["as_owner"]
    )
    assert publish.status_code == 200
    published = client.get(url, headers=world["public"])
    assert published.status_code == 200 and "Secret" in published.data.decode()
    unpublish = client.patch(
        f"/api/v1/festivals/{world['draft']}", json={"festival_is_valid": False}, headers=world["as_owner"]
    )
    assert unpublish.status_code == 200
    hidden = client.get(url, headers=world["public"])
    assert "Secret" not in hidden.data.decode()


def test_ownership_transfer_shows_the_draft_to_its_new_owner_at_once(client, world, factory):
    heir = factory.user("creator")
    as_heir = factory.bearer(heir)
    before = cached(client, "/api/v1/festivals", as_heir)
    assert "Secret draft" not in names(before.get_json()["data"], "festival")
    admin = Actor("user", user_id=world["admin"].id, role="admin")
    writes.transfer_owner("festival", world["draft"], heir.id, admin)
    assert "Secret draft" in names(fresh(client, "/api/v1/festivals", as_heir, before), "festival")
    # and the former owner no longer sees it
    assert "Secret draft" not in names(
        client.get("/api/v1/festivals", headers=world["as_owner"]).get_json()["data"], "festival"
    )


def test_adding_and_removing_an_editor_shows_and_hides_the_draft_at_once(client, world, factory):
    editor = factory.user("creator", email="jürgen.weiß@elbhangfest.example")
    as_editor = factory.bearer(editor)
    for url in ("/api/v1/festivals", "/api/v1/events"):
        cached(client, url, as_editor)
    before = {url: client.get(url, headers=as_editor) for url in ("/api/v1/festivals", "/api/v1/events")}
    assert "Secret draft" not in names(before["/api/v1/festivals"].get_json()["data"], "festival")

    added = client.post(
        f"/api/v1/festivals/{world['draft']}/members", json={"member_email": editor.email}, headers=world["as_owner"]
    )
    assert added.status_code == 201, added.get_json()
    assert "Secret draft" in names(
        fresh(client, "/api/v1/festivals", as_editor, before["/api/v1/festivals"]), "festival"
    )
    assert "Secret event" in names(fresh(client, "/api/v1/events", as_editor, before["/api/v1/events"]), "event")

    shown = client.get("/api/v1/events", headers=as_editor)
    removed = client.delete(f"/api/v1/festivals/{world['draft']}/members/{editor.id}", headers=world["as_owner"])
    assert removed.status_code == 200
    assert "Secret event" not in names(fresh(client, "/api/v1/events", as_editor, shown), "event")
    assert client.get(f"/api/v1/festivals/{world['draft']}", headers=as_editor).status_code == 404


def test_suspension_stops_cached_and_revalidated_reads_at_once(client, world):
    before = cached(client, "/api/v1/festivals", world["as_owner"])
    admin = Actor("user", user_id=world["admin"].id, role="admin")
    users.set_suspended(admin, world["owner"].id, True)
    assert client.get("/api/v1/festivals", headers=world["as_owner"]).status_code == 401
    conditional = {**world["as_owner"], "If-None-Match": before.headers["ETag"]}
    assert client.get("/api/v1/festivals", headers=conditional).status_code == 401


def test_demoted_admin_loses_the_drafts_of_others_at_once(client, world, factory):
    other_admin = factory.user("admin")
    as_admin = factory.bearer(other_admin)
    before = cached(client, "/api/v1/events", as_admin)
    assert "Secret event" in names(before.get_json()["data"], "event")
    users.set_role(Actor("user", user_id=world["admin"].id, role="admin"), other_admin.id, "creator")
    assert "Secret event" not in names(fresh(client, "/api/v1/events", as_admin, before), "event")


def test_draft_never_appears_in_a_public_answer_cached_by_its_owner_or_an_admin(client, world, factory):
    for url in (
        "/api/v1/festivals",
        "/api/v1/events",
        "/api/v1/festivals?include=events",
        f"/api/v1/festivals/{world['draft']}",
    ):
        for privileged in (world["as_owner"], factory.bearer(world["admin"])):
            assert client.get(url, headers=privileged).status_code == 200
        public = client.get(url, headers=world["public"])
        assert "Secret" not in public.data.decode()
        other = client.get(url, headers=factory.bearer(factory.user("creator")))
        assert "Secret" not in other.data.decode()


# --- what a revalidation and a cache hit cost --------------------------------------------------------------


def tables_read(sql: list[str]) -> set[str]:
    read = set()
    for statement in sql:
        for table in ("api_key", "data_version", "festival", "event", "artist", "location", "map_"):
            if f'FROM "{table}' in statement or f'JOIN "{table}' in statement:
                read.add(table)
    return read


ROW_TABLES = {"festival", "event", "artist", "location", "map_"}


@pytest.mark.parametrize("caller", ["public", "as_owner"])
def test_revalidation_and_cache_hit_run_no_row_query(client, world, count_queries, caller):
    url = f"/api/v1/festivals/{world['festival']}/events?include=artist,location"
    first = client.get(url, headers=world[caller])
    assert first.status_code == 200
    assert tables_read(count_queries.sql) >= {"festival", "event", "artist", "location"}  # the counter sees reads
    count_queries.reset()
    assert client.get(url, headers={**world[caller], "If-None-Match": first.headers["ETag"]}).status_code == 304
    assert "data_version" in tables_read(count_queries.sql)
    assert not tables_read(count_queries.sql) & ROW_TABLES
    count_queries.reset()
    hit = client.get(url, headers=world[caller])
    assert hit.headers["X-Cache"] == "hit" and hit.data == first.data
    assert "data_version" in tables_read(count_queries.sql)
    assert not tables_read(count_queries.sql) & ROW_TABLES


def test_if_none_match_star_is_404_for_missing_ids_and_hidden_drafts(client, world):
    """`*` matches only a current representation (RFC 9110 13.1.2): what the plain read answers 404 stays 404."""
    star = {**world["public"], "If-None-Match": "*"}
    for url in (
        f"/api/v1/festivals/{world['draft']}",
        "/api/v1/festivals/987654",
        f"/api/v1/events/{world['draft_event']}",
    ):
        assert client.get(url, headers=world["public"]).status_code == 404
        for _ in range(2):  # also once the public read of something else is in the cache
            answer = client.get(url, headers=star)
            assert answer.status_code == 404, (url, answer.status_code)
            assert "error" in answer.get_json()
    published = f"/api/v1/festivals/{world['festival']}"
    assert client.get(published, headers=star).status_code == 304  # not cached yet: made, then matched
    assert client.get(published, headers=star).status_code == 304  # from the cache
    owners = {**world["as_owner"], "If-None-Match": "*"}
    assert client.get(f"/api/v1/festivals/{world['draft']}", headers=owners).status_code == 304


def stored_keys(app) -> int:
    """How many answers the app's response cache holds."""
    store = app.extensions["read_cache"]
    if isinstance(store, RedisStore):
        return sum(1 for _ in redis.Redis.from_url(TEST_REDIS).scan_iter(app.config["READ_CACHE_PREFIX"] + "*"))
    return len(store._entries)


def test_reads_with_junk_parameters_add_at_most_a_handful_of_keys(app, client, world):
    rng = random.Random(20)
    url = f"/api/v1/festivals/{world['festival']}/events"
    for number in range(500):
        junk = {f"utm_{rng.randrange(10**9)}": "x" * rng.randrange(1, 200), "cb": str(number)}
        answer = client.get(url, query_string={"include": "artist,location", **junk}, headers=world["public"])
        assert answer.status_code == 200
    assert stored_keys(app) <= 3
    same = client.get(url, query_string={"include": "artist,location", "zz": "1"}, headers=world["public"])
    assert same.headers["X-Cache"] == "hit"  # an unknown parameter names the same answer


def test_answers_over_the_size_cap_are_not_stored(make_app, world):
    redis.Redis.from_url(TEST_REDIS).ping()
    app = make_app(REDIS_URL=TEST_REDIS, READ_CACHE_PREFIX=f"test-read-{uuid.uuid4().hex}:", READ_CACHE_BYTES=800)
    client = app.test_client()
    small, large = "/api/v1/tags", f"/api/v1/festivals/{world['festival']}/events?include=artist,location"
    assert len(client.get(large, headers=world["public"]).data) > 800 // 8
    assert client.get(large, headers=world["public"]).headers["X-Cache"] == "miss"
    client.get(small, headers=world["public"])
    assert client.get(small, headers=world["public"]).headers["X-Cache"] == "hit"
    keys = list(redis.Redis.from_url(TEST_REDIS).scan_iter(app.config["READ_CACHE_PREFIX"] + "*"))
    assert len(keys) == 1 and 0 < redis.Redis.from_url(TEST_REDIS).ttl(keys[0]) <= 3600


# --- schedule exports: kept in the read cache like every other read ------------------------------------------

EXPORTS = ("schedule.ics", "schedule.json", "schedule.xml", "events.csv")
T0 = 1_815_840_000  # 2027-07-16 in the afternoon (UTC)


def timed(client, world, event: int, offset: int) -> None:
    times = {"event_start": T0 + offset, "event_end": T0 + offset + 3600}
    assert client.patch(f"/api/v1/events/{event}", json=times, headers=world["as_owner"]).status_code == 200


def cached_export(client, url, headers):
    first = client.get(url, headers=headers)
    assert first.status_code == 200, first.data
    again = client.get(url, headers=headers)
    assert again.headers["X-Cache"] == "hit" and again.data == first.data
    assert again.headers["Content-Disposition"] == first.headers["Content-Disposition"]
    assert client.get(url, headers={**headers, "If-None-Match": first.headers["ETag"]}).status_code == 304
    return first


def fresh_export(client, url, headers, before) -> str:
    after = client.get(url, headers=headers)
    assert after.status_code == 200 and after.headers["ETag"] != before.headers["ETag"]
    revalidated = client.get(url, headers={**headers, "If-None-Match": before.headers["ETag"]})
    assert revalidated.status_code == 200 and revalidated.data == after.data
    cached_export(client, url, headers)  # the new answer is kept again
    return after.data.decode()


@pytest.mark.parametrize("kind", EXPORTS)
@pytest.mark.parametrize("caller", ["public", "anonymous"])
def test_exports_show_every_write_at_once(client, world, factory, kind, caller):
    headers = {} if caller == "anonymous" else world["public"]
    url = f"/api/v1/festivals/{world['festival']}/{kind}"
    timed(client, world, world["event"], 0)
    as_owner = world["as_owner"]
    before = cached_export(client, url, headers)

    renamed = client.patch(
        f"/api/v1/festivals/{world['festival']}", json={"festival_name": "Grünes Fest"}, headers=as_owner
    )
    assert renamed.status_code == 200
    fresh_export(client, url, headers, before)
    named = client.get(url, headers=headers)
    assert "grunes-fest" in named.headers["Content-Disposition"]

    before = named
    patched = client.patch(
        f"/api/v1/artists/{world['artist']}", json={"artist_name": "Zoë Umbenannt"}, headers=as_owner
    )
    assert patched.status_code == 200
    if kind != "schedule.ics":  # iCalendar names no artists
        assert "Umbenannt" in fresh_export(client, url, headers, before)

    before = client.get(url, headers=headers)
    late = factory.create("event", world["owner"], name="Spätes Konzert")["event_id"]
    timed(client, world, late, 7200)
    linked = client.post(f"/api/v1/festivals/{world['festival']}/events/{late}", headers=as_owner)
    assert linked.status_code == 200
    assert "Spätes Konzert" in fresh_export(client, url, headers, before)

    before = client.get(url, headers=headers)
    unlinked = client.delete(f"/api/v1/festivals/{world['festival']}/events/{late}", headers=as_owner)
    assert unlinked.status_code == 200
    assert "Spätes Konzert" not in fresh_export(client, url, headers, before)

    before = client.get(url, headers=headers)
    assert client.delete(f"/api/v1/events/{world['event']}", headers=as_owner).status_code == 200
    assert "Event" not in fresh_export(client, url, headers, before).replace("VEVENT", "")


@pytest.mark.parametrize("kind", EXPORTS)
def test_exports_of_drafts_follow_publish_transfer_and_demotion(client, world, factory, kind):
    url = f"/api/v1/festivals/{world['draft']}/{kind}"
    timed(client, world, world["draft_event"], 0)
    assert client.get(url).status_code == 404
    owners = cached_export(client, url, world["as_owner"])
    assert "Secret event" in owners.data.decode()
    assert client.get(url, headers={"If-None-Match": owners.headers["ETag"]}).status_code == 404

    def publish(valid: bool) -> None:
        answer = client.patch(
            f"/api/v1/festivals/{world['draft']}", json={"festival_is_valid": valid}, headers=world["as_owner"]
        )
        assert answer.status_code == 200

    publish(True)
    public = cached_export(client, url, world["public"])
    assert "Secret event" in public.data.decode() and client.get(url).status_code == 200
    publish(False)
    assert client.get(url, headers=world["public"]).status_code == 404
    assert client.get(url, headers={**world["public"], "If-None-Match": public.headers["ETag"]}).status_code == 404

    other_admin = factory.user("admin")
    as_admin = factory.bearer(other_admin)
    cached_export(client, url, as_admin)
    users.set_role(Actor("user", user_id=world["admin"].id, role="admin"), other_admin.id, "creator")
    assert client.get(url, headers=as_admin).status_code == 404

    heir = factory.user("creator")
    assert client.get(url, headers=factory.bearer(heir)).status_code == 404
    writes.transfer_owner("festival", world["draft"], heir.id, Actor("user", user_id=world["admin"].id, role="admin"))
    assert "Secret event" in client.get(url, headers=factory.bearer(heir)).data.decode()
    assert client.get(url, headers=world["as_owner"]).status_code == 404

    users.set_suspended(Actor("user", user_id=world["admin"].id, role="admin"), heir.id, True)
    assert client.get(url, headers=factory.bearer(heir)).status_code == 401


def test_export_links_name_the_host_asked(client, world):
    url = f"/api/v1/festivals/{world['festival']}/schedule.json"
    timed(client, world, world["event"], 0)
    for _ in range(2):  # the second time from the cache
        here = client.get(url, headers=world["public"], base_url="http://festivals.example")
        there = client.get(url, headers=world["public"], base_url="https://other.example:8443")
        assert b"http://festivals.example/" in here.data and b"other.example" not in here.data
        assert b"https://other.example:8443/" in there.data and b"festivals.example" not in there.data
