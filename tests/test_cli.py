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
