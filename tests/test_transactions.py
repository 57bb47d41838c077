"""A failure in the middle of a write leaves nothing behind."""

from app.db import db
from app.models import AuditEntry, Festival
from app.models.relations import FestivalTag
from app.services import audit


def _explode(*args, **kwargs):
    raise RuntimeError("disk full")


def test_create_failing_after_insert_stores_nothing(client, factory, monkeypatch, app):
    owner = factory.user("creator")
    headers = factory.bearer(owner)
    monkeypatch.setattr(audit, "record", _explode)  # fails after the row was inserted
    response = client.post("/api/v1/festivals", json={"festival_name": "Half written"}, headers=headers)
    assert response.status_code == 500
    body = response.get_json()
    assert body["error"] == "internal error"
    assert body["request_id"] == response.headers["X-Request-ID"]
    assert "Traceback" not in response.get_data(as_text=True)
    with app.app_context(), db.connection_context():
        assert Festival.select().count() == 0


def test_link_failing_after_insert_keeps_old_state(client, factory, monkeypatch, app):
    owner = factory.user("creator")
    headers = factory.bearer(owner)
    festival = factory.create("festival", owner)
    tag = factory.create("tag", owner)["tag_id"]
    monkeypatch.setattr(audit, "record", _explode)
    response = client.post(f"/api/v1/festivals/{festival['festival_id']}/tags/{tag}", headers=headers)
    assert response.status_code == 500
    with app.app_context(), db.connection_context():
        assert FestivalTag.select().count() == 0
        stored = Festival.get_by_id(festival["festival_id"])
        assert stored.version.strftime("%Y-%m-%dT%H:%M:%SZ") == festival["festival_version"]


def test_delete_failing_midway_keeps_entity_and_links(client, factory, monkeypatch, app):
    owner = factory.user("creator")
    headers = factory.bearer(owner)
    festival = factory.create("festival", owner)["festival_id"]
    tag = factory.create("tag", owner)["tag_id"]
    factory.link("festival", festival, "tags", tag, owner)
    monkeypatch.setattr(audit, "record", _explode)
    assert client.delete(f"/api/v1/tags/{tag}", headers=headers).status_code == 500
    with app.app_context(), db.connection_context():
        assert FestivalTag.select().count() == 1
        assert AuditEntry.select().where(AuditEntry.action == "delete").count() == 0
