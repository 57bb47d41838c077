"""Idempotency-Key on POST (issue 13, finding 6: retries duplicate): the same key answers the first answer
again and creates nothing; the answer is stored in the create's own transaction."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from app.db import db
from app.models import Festival, Tag
from app.models.idempotency import IdempotencyRecord
from app.services import idempotency

API = "/api/v1"


def keyed(headers: dict, key: str) -> dict:
    return {**headers, "Idempotency-Key": key}


def count(app, model) -> int:
    with app.app_context():
        db.connect(reuse_if_open=True)
        return model.select().count()


def test_the_same_key_answers_the_first_answer_and_creates_nothing(app, client, writer):
    body = {"festival_name": "Once", "festival_description": "only one"}
    first = client.post(f"{API}/festivals", json=body, headers=keyed(writer, "k-1"))

    again = client.post(f"{API}/festivals", json=body, headers=keyed(writer, "k-1"))

    assert first.status_code == again.status_code == 201
    assert again.data == first.data
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["ETag"] == first.headers["ETag"]
    assert again.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    assert count(app, Festival) == 1


def test_a_retry_with_the_keys_in_another_order_is_the_same_request(app, client, writer):
    headers = {**keyed(writer, "order"), "Content-Type": "application/json"}
    first = client.post(f"{API}/tags", data='{"tag_name": "a", "tag_id": null}', headers=headers)
    again = client.post(f"{API}/tags", data='{"tag_id": null, "tag_name": "a"}', headers=headers)

    assert again.status_code == 201 and again.data == first.data
    assert count(app, Tag) == 1


def test_the_same_key_with_another_body_is_422(app, client, writer):
    client.post(f"{API}/tags", json={"tag_name": "first"}, headers=keyed(writer, "k-2"))

    response = client.post(f"{API}/tags", json={"tag_name": "second"}, headers=keyed(writer, "k-2"))
    elsewhere = client.post(f"{API}/artists", json={"artist_name": "first"}, headers=keyed(writer, "k-2"))

    assert response.status_code == elsewhere.status_code == 422
    assert "Idempotency-Key" in response.get_json()["error"]
    assert count(app, Tag) == 1


def test_without_a_key_every_post_creates(app, client, writer):
    for _ in range(2):
        assert client.post(f"{API}/links", json={"link_url": "https://example.org/"}, headers=writer).status_code == 201

    assert client.get(f"{API}/links", headers=writer).get_json()["data"].__len__() == 2


@pytest.mark.parametrize("key", ["x" * 256, "", "   ", "with space", "ünïcode", "tab\there"])
def test_a_key_that_is_too_long_or_not_visible_ascii_is_400(app, client, writer, key):
    response = client.post(f"{API}/tags", json={"tag_name": "t"}, headers=keyed(writer, key))

    assert response.status_code == 400
    assert "Idempotency-Key" in response.get_json()["fields"]
    assert count(app, Tag) == 0


def test_a_key_of_255_characters_is_fine(client, writer):
    assert client.post(f"{API}/tags", json={"tag_name": "t"}, headers=keyed(writer, "k" * 255)).status_code == 201


def test_keys_are_per_caller(app, client, factory, writer):
    other = factory.bearer(factory.user("creator"))

    mine = client.post(f"{API}/artists", json={"artist_name": "A"}, headers=keyed(writer, "shared"))
    theirs = client.post(f"{API}/artists", json={"artist_name": "A"}, headers=keyed(other, "shared"))

    assert mine.status_code == theirs.status_code == 201
    assert mine.get_json()["data"][0]["artist_id"] != theirs.get_json()["data"][0]["artist_id"]


def test_an_error_is_not_stored_and_the_fixed_request_creates(app, client, writer):
    bad = client.post(f"{API}/festivals", json={"festival_name": ""}, headers=keyed(writer, "k-3"))
    fixed = client.post(f"{API}/festivals", json={"festival_name": "Fixed"}, headers=keyed(writer, "k-3"))

    assert bad.status_code == 400
    assert fixed.status_code == 201
    assert count(app, Festival) == 1


def test_a_key_is_kept_24_hours(app, client, writer):
    first = client.post(f"{API}/tags", json={"tag_name": "old"}, headers=keyed(writer, "k-4"))
    with app.app_context():
        db.connect(reuse_if_open=True)
        record = IdempotencyRecord.get()
        IdempotencyRecord.update(created=record.created - timedelta(hours=24, seconds=1)).execute()

    again = client.post(f"{API}/tags", json={"tag_name": "new"}, headers=keyed(writer, "k-4"))

    assert first.status_code == again.status_code == 201
    assert again.get_json()["data"][0]["tag_name"] == "new"
    assert count(app, Tag) == 2 and count(app, IdempotencyRecord) == 1


def test_the_record_is_written_in_the_creates_transaction(app, client, writer, monkeypatch):
    """A failure between the new row and its record (as a killed worker would leave it) keeps neither."""

    def broken_insert(**fields):
        raise RuntimeError("killed before the record")

    monkeypatch.setattr(IdempotencyRecord, "insert", broken_insert)
    response = client.post(f"{API}/festivals", json={"festival_name": "Half"}, headers=keyed(writer, "k-5"))
    monkeypatch.undo()

    assert response.status_code == 500
    assert count(app, Festival) == 0
    retried = client.post(f"{API}/festivals", json={"festival_name": "Half"}, headers=keyed(writer, "k-5"))
    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried.headers
    assert count(app, Festival) == 1


def test_concurrent_duplicates_create_one(app, writer, monkeypatch):
    """Five copies of one request at once (a client retrying while the first is still running): one row,
    every answer the same. The create is slowed down so that all of them are inside it together."""
    import time

    from app.services import writes

    create = writes.create

    def slow_create(*args, **kwargs):
        time.sleep(0.2)
        return create(*args, **kwargs)

    monkeypatch.setattr(writes, "create", slow_create)
    answers = []

    def post():
        response = app.test_client().post(
            f"{API}/festivals", json={"festival_name": "Twins"}, headers=keyed(writer, "twin")
        )
        answers.append((response.status_code, response.data))

    threads = [threading.Thread(target=post) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert {status for status, _ in answers} == {201}
    assert len({body for _, body in answers}) == 1
    assert count(app, Festival) == 1


def test_the_caller_of_a_key(factory, creator):
    assert idempotency.caller_of(factory.actor(creator)) == f"user:{creator.id}"
