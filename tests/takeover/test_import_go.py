"""`flask --app wsgi import-go` against a real MariaDB (tests/takeover/conftest.py), on SQLite and PostgreSQL."""

from __future__ import annotations

import base64

import pytest

from app.db import db
from app.models import ApiKey, AuditEntry, Event, Festival, Image, Tag, User
from app.models import relations as rel
from fileserver import create_files_app
from fileserver.config import load_files_config
from tests.takeover.conftest import API_KEY, FESTIVAL_EVENTS, PASSWORDS, SERVICE_KEY
from tools import import_go as importer


@pytest.fixture(autouse=True)
def _media_in_instance(monkeypatch):
    monkeypatch.delenv("FESTIVALS_MEDIA_DIR", raising=False)  # the store: <instance>/media


def run(app, go, *extra):
    args = ["import-go", "--api-db", go.api_url, "--identity-db", go.identity_url, "--media", str(go.media), *extra]
    result = app.test_cli_runner().invoke(args=args)
    print(result.output)
    return result


def table_row(output: str, table: str) -> list[int]:
    """in Go, new, changed, unchanged, left out of `table` in the printed summary."""
    line = next(line for line in output.splitlines() if line[2:24].strip() == table)
    return [int(value) for value in line[24:].split()]


def snapshot(app) -> dict:
    """Every imported table's rows (what a second run must leave as they are)."""
    with app.app_context():
        db.connect(reuse_if_open=True)
        models = [User, ApiKey, Festival, Event, Image, Tag, *rel.RELATION_TABLES]
        return {model._meta.table_name: sorted(map(tuple, model.select().tuples())) for model in models}


def api(client, path: str) -> list:
    response = client.get(f"/api/v1{path}", headers={"Api-Key": API_KEY})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["data"]


def test_import_go_keeps_ids_relations_owners_and_reports_problems(app, go):
    result = run(app, go)
    assert result.exit_code == 0, result.output
    assert table_row(result.output, "event") == [go.data.events, go.data.events, 0, 0, 0]
    assert table_row(result.output, "map_event_artist")[1] == go.data.events - 1
    for expected in (
        "map_event_artist row 126: event 7 → artist 999: no artist 999",
        "map_event_artist row 125: event 5 → artist 6 again; collapsed",
        f"map_festival_event: event {go.data.stray_event} has festivals 2, 3; linked to none",
        "map_festival_image: festival 2 has images 2, 4; linked to none",
        "map_festival_tag row 5: festival 2 → tag 777: no tag 777",
        "artist 1: owned by users 2, 1; kept user 2",
        "festival 3: user 55 does not exist; no owner",
        "map_event_user: 1 row(s) for event ids that do not exist",
        "upload-1003.jpg is a PDF document",
        "image 4: upload-9999.jpg is not in the media folder",
    ):
        assert expected in result.output

    client = app.test_client()
    festival = api(client, "/festivals/1")[0]
    assert festival["festival_name"] == "Überschall Festival Görlitz 🎸"
    assert festival["festival_version"] == "2026-05-04T12:30:15Z"
    events = api(client, "/festivals/1/events")
    assert [event["event_id"] for event in events] == list(range(1, FESTIVAL_EVENTS[1] + 1))
    assert len(api(client, "/festivals/2/events")) == FESTIVAL_EVENTS[2]
    assert api(client, f"/events/{go.data.stray_event}/festival") == []
    assert [a["artist_id"] for a in api(client, "/events/5/artist")] == [6]
    assert [a["artist_id"] for a in api(client, "/events/7/artist")] == [8]  # not the deleted 999
    assert [t["tag_name"] for t in api(client, "/festivals/1/tags")] == ["Rock", "Open Air 🌞"]
    assert api(client, "/festivals/2/image") == []
    assert api(client, "/festivals/1/place")[0]["place_town"] == "Görlitz"
    # the draft stays hidden from an Api-Key, as in Go
    assert client.get("/api/v1/festivals/3", headers={"Api-Key": API_KEY}).status_code == 404

    with app.app_context():
        assert Festival.get_by_id(1).owner_id == 2 and Festival.get_by_id(3).owner_id is None
        assert Event.get_by_id(100).owner_id == 2 and Event.get_by_id(101).owner_id is None
        roles = {user.id: user.role for user in User.select()}
        assert roles == {1: "admin", 2: "creator", 3: "user", 4: "user"}
        assert User.get_by_id(1).email == "anna.mueller@festivals-goerlitz.example"
        image = Image.get_by_id(1)
        assert len(image.hash) == 64 and image.ref.endswith("/images/upload-1001.jpg")
        assert AuditEntry.select().where(AuditEntry.action == "import-go").count() == 1


def test_import_go_ids_continue_after_the_highest(app, go, factory):
    assert run(app, go).exit_code == 0
    creator = User.get_by_id(2)
    created = factory.create("festival", creator, name="Nachzügler-Fest 2027")
    assert created["festival_id"] == 4
    event = factory.create("event", creator, name="Neuer Auftritt")
    assert event["event_id"] == go.data.events + 1


def test_import_go_second_run_changes_nothing(app, go):
    assert run(app, go).exit_code == 0
    before = snapshot(app)
    again = run(app, go)
    assert again.exit_code == 0
    assert snapshot(app) == before
    for table in ("users", "api_keys", "media files", "festival", "event", "image", "tag", "map_event_artist"):
        source, new, changed, unchanged, _ = table_row(again.output, table)
        assert (new, changed) == (0, 0), table
        assert unchanged > 0, table


def test_import_go_interrupted_run_finishes_on_the_next(app, go, monkeypatch):
    writes = []
    real_write = importer._write

    def failing_write(model, rows, conflict, update):
        if model is Event:
            if writes:  # the second chunk of events: a crash half way
                raise KeyboardInterrupt
            writes.append(model)
        real_write(model, rows, conflict, update)

    monkeypatch.setattr(importer, "_write", failing_write)
    monkeypatch.setattr("tools.go_source.CHUNK", 60)
    with pytest.raises(KeyboardInterrupt):
        run_without_runner(app, go)
    with app.app_context():
        half = Event.select().count()
    assert 0 < half < go.data.events

    monkeypatch.setattr(importer, "_write", real_write)
    result = run(app, go)
    assert result.exit_code == 0
    new = table_row(result.output, "event")[1]
    assert new == go.data.events - half
    assert len(api(app.test_client(), "/festivals/1/events")) == FESTIVAL_EVENTS[1]


def run_without_runner(app, go):
    """The import as the CLI runs it, letting an interruption through (the CLI runner would catch it)."""
    with app.app_context():
        db.connect(reuse_if_open=True)
        files = load_files_config({"INSTANCE_PATH": app.instance_path})
        importer.import_go(go.api_url, go.identity_url, str(go.media), files, False)


def test_import_go_dry_run_writes_nothing(app, go, tmp_path):
    result = run(app, go, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "would be imported (dry run: nothing written)" in result.output
    assert table_row(result.output, "festival") == [3, 3, 0, 0, 0]
    assert "map_festival_event: event" in result.output and "no artist 999" in result.output
    assert all(not rows for rows in snapshot(app).values())
    assert not (tmp_path / "instance" / "media").exists()


def test_imported_user_logs_in_with_the_go_password_then_has_argon2(app, go):
    assert run(app, go).exit_code == 0
    client = app.test_client()
    credentials = base64.b64encode(f"joerg.schaefer@ueberschall.example:{PASSWORDS[2]}".encode()).decode()
    wrong = base64.b64encode(b"joerg.schaefer@ueberschall.example:falsch-falsch").decode()
    assert client.get("/identity/users/login", headers={"Authorization": f"Basic {wrong}"}).status_code == 401
    with app.app_context():
        assert User.get_by_id(2).password_hash.startswith("$2")
    response = client.get("/identity/users/login", headers={"Authorization": f"Basic {credentials}"})
    assert response.status_code == 200
    with app.app_context():
        assert User.get_by_id(2).password_hash.startswith("$argon2")
    body = {"email": "joerg.schaefer@ueberschall.example", "password": PASSWORDS[2]}
    again = client.post("/identity/token", json=body)
    assert again.status_code == 200
    assert run(app, go).exit_code == 0  # a later run keeps the new hash
    with app.app_context():
        assert User.get_by_id(2).password_hash.startswith("$argon2")


def test_imported_keys_keep_working(app, go):
    assert run(app, go).exit_code == 0
    client = app.test_client()
    assert client.get("/api/v1/festivals", headers={"Api-Key": API_KEY}).status_code == 200
    assert client.get("/api/v1/festivals", headers={"Api-Key": API_KEY + "x"}).status_code == 401
    verify = client.get("/identity/service-keys/verify", headers={"Service-Key": SERVICE_KEY})
    assert verify.status_code == 200 and verify.get_json()["data"][0]["key_comment"] == "loversear heartbeats"
    assert client.get("/api/v1/festivals", headers={"Api-Key": SERVICE_KEY}).status_code == 401
    with app.app_context():
        stored = {row.kind: row for row in ApiKey.select()}
        assert stored["api"].comment == "iOS-App 2.3 (App Store)"
        assert API_KEY not in {row.key_hash for row in stored.values()}  # only hashes are kept


def test_imported_media_download_and_thumbnail_by_old_names(app, go, tmp_path):
    assert run(app, go).exit_code == 0
    files = create_files_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "instance")}).test_client()
    original = files.get("/images/upload-1001.jpg")
    assert original.status_code == 200 and original.mimetype == "image/jpeg"
    thumb = files.get("/images/upload-1001.jpg?width=160")
    assert thumb.status_code == 200 and thumb.mimetype.startswith("image/")
    assert files.get("/images/upload-1002.jpg").mimetype == "image/png"
    for path in ("/images/upload-1003.jpg", "/pdf/upload-1004.pdf"):
        document = files.get(path)
        assert document.status_code == 200 and document.mimetype == "application/pdf"
        assert document.data.startswith(b"%PDF-")
    assert files.get("/images/upload-9999.jpg").status_code == 404
    with app.app_context():
        digest = Image.get_by_id(1).hash
    assert files.get(f"/images/{digest}").data == original.data


@pytest.mark.parametrize(
    "change, message",
    [
        ({"api_url": "mysql://root@127.0.0.1:1/nothing"}, "--api-db: cannot connect to 127.0.0.1:1/nothing"),
        ({"media": "/nonexistent/go-media"}, "--media: /nonexistent/go-media is not a folder"),
        ({"identity_url": "postgres://x@h/db"}, "--identity-db: expected mysql://"),
        ("swap", "is not a Go FestivalsApp database"),
    ],
)
def test_import_go_bad_input_says_why_and_writes_nothing(app, go, change, message):
    if change == "swap":  # the identity database given as the API's: a wrong schema
        go.api_url, go.identity_url = go.identity_url, go.api_url
    else:
        for name, value in change.items():
            setattr(go, name, value)
    result = run(app, go)
    assert result.exit_code != 0
    assert message in result.output and "nothing was written" in result.output
    assert "Traceback" not in result.output
    assert all(not rows for rows in snapshot(app).values())
