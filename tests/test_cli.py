"""The command line, as the README uses it."""

from app.db import db
from app.models import Event, Festival, Link, Location, Place, Tag, User
from app.models.relations import FestivalEvent


def test_create_user_then_login(app, client):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-user", "ana@example.org", "--role", "admin", "--password", "long enough pw"])
    assert result.exit_code == 0, result.output
    response = client.post("/identity/token", json={"email": "ana@example.org", "password": "long enough pw"})
    assert response.status_code == 200


def test_create_user_short_password_fails_clearly(app):
    result = app.test_cli_runner().invoke(args=["create-user", "b@example.org", "--password", "short"])
    assert result.exit_code != 0
    assert "at least 10 characters" in result.output


def test_create_user_prompts_for_password(app):
    typed = "long enough pw\nlong enough pw\n"
    result = app.test_cli_runner().invoke(args=["create-user", "c@example.org"], input=typed)
    assert result.exit_code == 0, result.output


def test_create_api_key_last_line_is_a_working_key(app, client):
    result = app.test_cli_runner().invoke(args=["create-api-key", "--comment", "ios app"])
    assert result.exit_code == 0, result.output
    key = result.output.strip().splitlines()[-1]
    assert client.get("/api/v1/festivals", headers={"Api-Key": key}).status_code == 200


def test_demo_data_is_realistic_and_idempotent(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["demo-data"]).exit_code == 0
    second = runner.invoke(args=["demo-data"])
    assert second.exit_code == 0 and "already" in second.output
    with app.app_context(), db.connection_context():
        assert Festival.select().count() >= 3
        assert Event.select().count() >= 100
        assert FestivalEvent.select().count() == Event.select().count()
        assert Location.select().count() >= 3 and Place.select().count() >= 3
        assert Link.select().count() >= 3 and Tag.select().count() >= 3


def test_demo_data_served_with_includes(app, client):
    runner = app.test_cli_runner()
    runner.invoke(args=["demo-data"])
    key = runner.invoke(args=["create-api-key", "--comment", "t"]).output.strip().splitlines()[-1]
    data = client.get("/api/v1/festivals?include=image,link,place,tag", headers={"Api-Key": key}).get_json()["data"]
    assert len(data) >= 3
    assert all(f["festival_is_valid"] for f in data)  # the demo draft stays private
    assert all(len(f["include"]["place"]) == 1 and f["include"]["link"] and f["include"]["tag"] for f in data)


def test_bootstrap_dev_prints_same_working_credentials(app, client):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["bootstrap-dev"]).output
    assert runner.invoke(args=["bootstrap-dev"]).output == first
    lines = dict(line.split(": ", 1) for line in first.strip().splitlines())
    email, password = lines["Admin login"].split()
    assert client.post("/identity/token", json={"email": email, "password": password}).status_code == 200
    assert client.get("/api/v1/tags", headers={"Api-Key": lines["API key"]}).status_code == 200
    with app.app_context(), db.connection_context():
        assert User.get(User.email == email).role == "admin"


def test_bench_seed_loads_events_with_artist_and_stage_and_reads_see_them(app, client, factory):
    headers = factory.api_key_headers()
    before = client.get("/api/v1/festivals", headers=headers)
    assert before.get_json()["data"] == []
    result = app.test_cli_runner().invoke(args=["bench-seed", "--festivals", "3", "--events", "31"])
    assert result.exit_code == 0, result.output
    assert "seeded 3 festivals and 31 events" in result.output
    festivals = client.get("/api/v1/festivals", headers=headers)
    assert festivals.headers["ETag"] != before.headers["ETag"]  # raw inserts raise the data versions too
    assert len(festivals.get_json()["data"]) == 3
    events = client.get("/api/v1/festivals/1/events?include=artist,location", headers=headers).get_json()["data"]
    assert len(events) == 11
    assert all(len(event["include"]["artist"]) == 1 and len(event["include"]["location"]) == 1 for event in events)
    assert len(client.get("/api/v1/events?name=set&limit=50", headers=headers).get_json()["data"]) == 31
    # ids continue after the bulk rows: an ordinary create still works
    created = client.post("/api/v1/events", json={"event_name": "after"}, headers=factory.bearer(factory.user()))
    assert created.status_code == 201 and created.get_json()["data"][0]["event_id"] == 32
