"""If-Match and If-Unmodified-Since on writes (issue 13, finding 5: lost updates): a write based on a version
that is no longer current answers 412 with the envelope; without the headers nothing changes."""

from __future__ import annotations

import threading
import time
from email.utils import format_datetime

import pytest

from app.services import writes

API = "/api/v1"
ENTITIES = ["festival", "event", "artist", "location", "image", "link", "place", "tag"]
CHANGE = {
    "festival": {"festival_description": "changed"},
    "event": {"event_description": "changed"},
    "artist": {"artist_description": "changed"},
    "location": {"location_description": "changed"},
    "image": {"image_comment": "changed"},
    "link": {"link_service": 3},
    "place": {"place_description": "changed"},
    "tag": {"tag_name": "changed"},
}


def etag_of(response) -> str:
    etag = response.headers["ETag"]
    assert etag.startswith('"') and etag.endswith('"'), etag
    return etag


@pytest.fixture
def festival(factory, creator):
    return factory.create("festival", creator, description="first")["festival_id"]


def test_get_then_patch_with_if_match_and_a_stale_one_is_412(client, writer, festival):
    url = f"{API}/festivals/{festival}"
    read = client.get(url, headers=writer)
    etag = etag_of(read)

    first = client.patch(url, json={"festival_description": "mine"}, headers={**writer, "If-Match": etag})
    second = client.patch(url, json={"festival_description": "theirs"}, headers={**writer, "If-Match": etag})

    assert first.status_code == 200 and etag_of(first) != etag
    assert second.status_code == 412
    assert "changed" in second.get_json()["error"] and second.mimetype == "application/json"
    assert client.get(url, headers=writer).get_json()["data"][0]["festival_description"] == "mine"


def test_the_lost_update_of_the_probe_is_refused(client, writer, festival):
    """Two apps read the whole object, one saves a description, the other PATCHes its stale whole object."""
    url = f"{API}/festivals/{festival}"
    read = client.get(url, headers=writer)
    stale_object, etag = read.get_json()["data"][0], etag_of(read)
    client.patch(url, json={"festival_description": "saved by the other app"}, headers=writer)

    stale_write = {**stale_object, "festival_price": "10 EUR"}
    response = client.patch(url, json=stale_write, headers={**writer, "If-Match": etag})

    assert response.status_code == 412
    assert client.get(url, headers=writer).get_json()["data"][0]["festival_description"] == "saved by the other app"


def test_without_if_match_the_old_behaviour_stays(client, writer, festival):
    url = f"{API}/festivals/{festival}"
    client.patch(url, json={"festival_description": "one"}, headers=writer)

    response = client.patch(url, json={"festival_description": "two"}, headers=writer)

    assert response.status_code == 200
    assert response.get_json()["data"][0]["festival_description"] == "two"


@pytest.mark.parametrize("entity", ENTITIES)
def test_every_entity_refuses_a_stale_patch_and_delete(client, writer, factory, creator, entity):
    created = factory.create(entity, creator)
    url = f"{API}/{entity}s/{created[f'{entity}_id']}"
    etag = etag_of(client.get(url, headers=writer))
    assert client.patch(url, json=CHANGE[entity], headers={**writer, "If-Match": etag}).status_code == 200

    assert client.patch(url, json=CHANGE[entity], headers={**writer, "If-Match": etag}).status_code == 412
    assert client.delete(url, headers={**writer, "If-Match": etag}).status_code == 412
    assert client.get(url, headers=writer).status_code == 200
    current = etag_of(client.get(url, headers=writer))
    assert client.delete(url, headers={**writer, "If-Match": current}).status_code == 200
    assert client.get(url, headers=writer).status_code == 404


def test_write_answers_carry_an_etag_for_the_next_write(client, writer):
    created = client.post(f"{API}/tags", json={"tag_name": "first"}, headers=writer)
    url = created.headers["Location"]

    patched = client.patch(url, json={"tag_name": "second"}, headers={**writer, "If-Match": etag_of(created)})
    again = client.patch(url, json={"tag_name": "third"}, headers={**writer, "If-Match": etag_of(patched)})

    assert patched.status_code == 200 and again.status_code == 200
    stale = client.patch(url, json={"tag_name": "x"}, headers={**writer, "If-Match": etag_of(patched)})
    assert stale.status_code == 412


def test_star_matches_any_existing_object_and_an_unknown_id_is_404(client, writer, festival):
    star = {**writer, "If-Match": "*"}

    assert client.patch(f"{API}/festivals/{festival}", json={"festival_price": "5"}, headers=star).status_code == 200
    assert client.patch(f"{API}/festivals/99999", json={"festival_price": "5"}, headers=star).status_code == 404


def test_one_of_several_tags_may_match_and_a_weak_tag_never_does(client, writer, festival):
    url = f"{API}/festivals/{festival}"
    etag = etag_of(client.get(url, headers=writer))

    weak = client.patch(url, json={"festival_price": "1"}, headers={**writer, "If-Match": f"W/{etag}"})
    listed = client.patch(url, json={"festival_price": "2"}, headers={**writer, "If-Match": f'"1.x", {etag}'})

    assert weak.status_code == 412
    assert listed.status_code == 200


def http_date(seconds: float) -> str:
    from datetime import UTC, datetime

    return format_datetime(datetime.fromtimestamp(seconds, UTC), usegmt=True)


def test_if_unmodified_since(client, writer, festival):
    url = f"{API}/festivals/{festival}"
    client.patch(url, json={"festival_description": "now"}, headers=writer)

    before = client.patch(
        url, json={"festival_price": "1"}, headers={**writer, "If-Unmodified-Since": http_date(time.time() - 3600)}
    )
    after = client.patch(
        url, json={"festival_price": "2"}, headers={**writer, "If-Unmodified-Since": http_date(time.time() + 5)}
    )
    unreadable = client.patch(url, json={"festival_price": "3"}, headers={**writer, "If-Unmodified-Since": "soon"})

    assert before.status_code == 412
    assert after.status_code == 200
    assert unreadable.status_code == 200  # RFC 9110: an invalid date is ignored


def test_if_match_wins_over_if_unmodified_since(client, writer, festival):
    url = f"{API}/festivals/{festival}"
    etag = etag_of(client.get(url, headers=writer))
    headers = {**writer, "If-Match": etag, "If-Unmodified-Since": http_date(0)}

    assert client.patch(url, json={"festival_price": "1"}, headers=headers).status_code == 200


def test_link_and_unlink_honour_if_match_of_the_owner(client, writer, factory, creator, festival):
    tag = factory.create("tag", creator)["tag_id"]
    url = f"{API}/festivals/{festival}"
    etag = etag_of(client.get(url, headers=writer))
    client.patch(url, json={"festival_price": "changed meanwhile"}, headers=writer)

    stale = client.post(f"{url}/tags/{tag}", headers={**writer, "If-Match": etag})
    current = client.post(f"{url}/tags/{tag}", headers={**writer, "If-Match": etag_of(client.get(url, headers=writer))})
    unlink_stale = client.delete(f"{url}/tags/{tag}", headers={**writer, "If-Match": etag})

    assert stale.status_code == 412
    assert current.status_code == 200
    assert unlink_stale.status_code == 412
    assert len(client.get(f"{url}/tags", headers=writer).get_json()["data"]) == 1


def test_the_object_etag_still_revalidates_reads(client, writer, festival):
    url = f"{API}/festivals/{festival}?include=tags"
    first = client.get(url, headers=writer)
    etag = etag_of(first)

    assert client.get(url, headers={**writer, "If-None-Match": etag}).status_code == 304
    client.patch(f"{API}/festivals/{festival}", json={"festival_price": "9"}, headers=writer)
    after = client.get(url, headers={**writer, "If-None-Match": etag})
    assert after.status_code == 200 and etag_of(after) != etag
    assert etag_of(after).split(".")[0] != etag.split(".")[0]  # the version part moved too


def test_the_etag_differs_by_include_but_if_match_accepts_both(client, writer, festival):
    url = f"{API}/festivals/{festival}"
    plain = etag_of(client.get(url, headers=writer))
    included = etag_of(client.get(f"{url}?include=tags", headers=writer))

    assert plain != included and plain.split(".")[0] == included.split(".")[0]
    assert client.patch(url, json={"festival_price": "1"}, headers={**writer, "If-Match": included}).status_code == 200


def test_two_writers_with_the_same_if_match_cannot_both_win(app, client, writer, festival, monkeypatch):
    """Both read the row before either commits (the permission check is slowed down): only the row lock
    (PostgreSQL) or the write lock (SQLite) taken with the read lets the second one see the first's change."""
    url = f"{API}/festivals/{festival}"
    etag = etag_of(client.get(url, headers=writer))
    slow_check = writes.require_edit

    def slow(*args):
        slow_check(*args)
        time.sleep(0.3)

    monkeypatch.setattr(writes, "require_edit", slow)
    answers = []

    def patch(text):
        answers.append(
            app.test_client()
            .patch(url, json={"festival_description": text}, headers={**writer, "If-Match": etag})
            .status_code
        )

    threads = [threading.Thread(target=patch, args=(f"writer {n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(answers) == [200, 412]


def test_an_empty_etag_is_no_version_and_no_error(client, writer, festival):
    """Found by schemathesis: werkzeug parses `""` as a tag of None."""
    url = f"{API}/festivals/{festival}"

    read = client.get(url, headers={**writer, "If-None-Match": '"", W/""'})
    write = client.patch(url, json={"festival_price": "1"}, headers={**writer, "If-Match": '""'})

    assert read.status_code == 200
    assert write.status_code == 412


def test_asking_who_may_edit_does_not_wait_for_a_write_of_the_row(app, factory, creator, festival, database_url):
    """Writes lock the row they check; pages and exports that only ask whether the caller may edit it must
    not wait behind a long write (an import) holding that lock."""
    from app.db import db
    from tests.conftest import USE_POSTGRES

    if USE_POSTGRES:
        import psycopg2

        holder = psycopg2.connect(database_url)
        holder.cursor().execute("SELECT 1 FROM festival WHERE festival_id = %s FOR UPDATE", (festival,))
    else:
        import sqlite3

        holder = sqlite3.connect(database_url.split(":///", 1)[1], isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        holder.execute("UPDATE festival SET festival_price = festival_price WHERE festival_id = ?", (festival,))
    answered = []

    def ask():
        with app.app_context():
            db.connect(reuse_if_open=True)
            answered.append(writes.require_editable("festival", festival, factory.actor(creator)).id)
            db.close()

    try:
        asking = threading.Thread(target=ask)
        asking.start()
        asking.join(timeout=5)
        assert answered == [festival]
    finally:
        holder.rollback()
        holder.close()
        asking.join()
