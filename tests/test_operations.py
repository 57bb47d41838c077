"""Operational behaviour: health/ready/version/info, request ids, errors, caching headers, docs."""

import logging
import re

import pytest


def test_ready_when_database_reachable(client):
    response = client.get("/ready")
    assert response.status_code == 200
    assert response.get_json()["database"] == "ok"


def test_ready_is_503_when_database_unreachable(make_app, tmp_path):
    broken = make_app(DATABASE_URL=f"sqlite:///{tmp_path}/missing-dir/db.sqlite3")
    client = broken.test_client()
    assert client.get("/health").status_code == 200
    response = client.get("/ready")
    assert response.status_code == 503
    assert response.get_json()["status"] == "unavailable"


def test_api_answers_503_envelope_when_database_unreachable(make_app, tmp_path):
    broken = make_app(DATABASE_URL=f"sqlite:///{tmp_path}/missing-dir/db.sqlite3")
    response = broken.test_client().get("/api/v1/festivals", headers={"Api-Key": "fa_00000000_x"})
    assert response.status_code == 503
    assert "unavailable" in response.get_json()["error"]


def test_version_and_info(client):
    assert re.match(r"^\d+\.\d+\.\d+$", client.get("/version").get_json()["version"])
    info = client.get("/info").get_json()
    assert info["api"] == "v1" and info["read_only"] is False and info["database"] in ("sqlite", "postgresql")


class Collect(logging.Handler):
    def __init__(self):
        super().__init__()
        self.records = []

    def emit(self, record):
        self.records.append(record)


def test_request_id_is_echoed_and_logged(client):
    collect = Collect()
    handler = logging.getLogger("festivals").handlers[0]  # the app's handler adds request ids
    collect.filters = handler.filters
    logging.getLogger("festivals").addHandler(collect)
    try:
        response = client.get("/version", headers={"X-Request-ID": "abc-123"})
    finally:
        logging.getLogger("festivals").removeHandler(collect)
    assert response.headers["X-Request-ID"] == "abc-123"
    assert any(getattr(r, "request_id", None) == "abc-123" for r in collect.records)


@pytest.mark.parametrize("log_health", [False, True])
def test_health_checks_are_logged_only_when_turned_on(make_app, log_health):
    """The gateway asks /ready each second: FESTIVALS_LOG_HEALTH turns those access lines on."""
    client = make_app(LOG_HEALTH=log_health).test_client()
    collect = Collect()
    collect.filters = logging.getLogger("festivals").handlers[0].filters
    logging.getLogger("festivals").addHandler(collect)
    try:
        for path in ("/health", "/ready", "/version"):
            assert client.get(path).status_code == 200
    finally:
        logging.getLogger("festivals").removeHandler(collect)
    logged = [getattr(record, "path", None) for record in collect.records if collect.filter(record)]
    assert logged == (["/health", "/ready", "/version"] if log_health else ["/version"])


def test_request_id_generated_when_missing_or_unsafe(client):
    generated = client.get("/health").headers["X-Request-ID"]
    unsafe = client.get("/health", headers={"X-Request-ID": "evil value;" + "x" * 200}).headers["X-Request-ID"]
    assert re.match(r"^[0-9a-f]{32}$", generated)
    assert re.match(r"^[0-9a-f]{32}$", unsafe)


def test_unknown_api_path_and_method_use_envelope(client, factory):
    headers = factory.api_key_headers()
    missing = client.get("/api/v1/unknown", headers=headers)
    assert missing.status_code == 404 and missing.get_json() == {"error": "not found"}
    wrong = client.put("/api/v1/festivals", headers=headers)
    assert wrong.status_code == 405 and wrong.get_json() == {"error": "method not allowed"}
    assert "GET" in wrong.headers["Allow"]
    assert missing.headers["API-Version"] == "1"


def test_unexpected_error_hides_traceback(client, factory, monkeypatch):
    from app.services import reads

    def broken(*args, **kwargs):
        raise ZeroDivisionError("secret detail")

    monkeypatch.setattr(reads, "fetch", broken)
    response = client.get("/api/v1/festivals", headers=factory.api_key_headers())
    assert response.status_code == 500
    assert response.get_json() == {"error": "internal error", "request_id": response.headers["X-Request-ID"]}
    assert "secret detail" not in response.get_data(as_text=True)


def test_etag_and_if_none_match(client, factory):
    headers = factory.api_key_headers()
    factory.create("festival", factory.user("creator"))
    first = client.get("/api/v1/festivals", headers=headers)
    assert first.headers["Cache-Control"] == "no-cache"
    etag = first.headers["ETag"]
    again = client.get("/api/v1/festivals", headers={**headers, "If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""


def test_etag_changes_after_write(client, factory):
    owner = factory.user("creator")
    headers = factory.bearer(owner)
    festival = factory.create("festival", owner)
    etag = client.get("/api/v1/festivals", headers=headers).headers["ETag"]
    client.patch(f"/api/v1/festivals/{festival['festival_id']}", json={"festival_price": "5 Euro"}, headers=headers)
    changed = client.get("/api/v1/festivals", headers={**headers, "If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.get_json()["data"][0]["festival_price"] == "5 Euro"


def test_body_over_one_mib_is_413_envelope(client, factory):
    headers = {**factory.bearer(factory.user("creator")), "Content-Type": "application/json"}
    body = b'{"festival_name": "' + b"x" * (1024 * 1024) + b'"}'
    response = client.post("/api/v1/festivals", data=body, headers=headers)
    assert response.status_code == 413
    assert "error" in response.get_json()


def test_openapi_document_lists_every_route(client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    paths = document["paths"]
    for plural in ("festivals", "events", "artists", "locations", "images", "links", "places", "tags"):
        assert {"get", "post"} <= set(paths[f"/{plural}"])
        assert {"get", "patch", "delete"} <= set(paths[f"/{plural}/{{id}}"])
    assert "post" in paths["/festivals/{id}/events/{rid}"]
    assert "/events/{id}/festival/{rid}" not in paths  # read-only reverse relation
    body = document["components"]["schemas"]["FestivalBody"]
    assert body["properties"]["festival_name"]["maxLength"] == 255
    assert body["additionalProperties"] is False


def test_docs_page_uses_local_assets(client):
    page = client.get("/api/docs").get_data(as_text=True)
    assert "/static/vendor/swagger-ui-dist/swagger-ui-bundle.js" in page
    assert "https://" not in page and "http://" not in page


@pytest.mark.parametrize("path", ["/static/vendor/left-pad/index.js", "/static/vendor/htmx.org/../../package.json"])
def test_vendor_route_serves_only_listed_packages(client, path):
    assert client.get(path).status_code == 404


def test_vendor_route_serves_npm_asset(client):
    response = client.get("/static/vendor/htmx.org/htmx.min.js")
    assert response.status_code == 200
    assert b"htmx" in response.get_data()[:2000]


def test_the_instance_folder_and_sqlite_database_are_owner_only(tmp_path):
    """Issue 13, finding 12: the database, its WAL and the instance folder are not world-readable."""
    import stat

    from app import create_app
    from app.db import close_database, db
    from app.migrations import migrate

    instance = tmp_path / "fresh-instance"
    app = create_app(
        {
            "INSTANCE_PATH": str(instance),
            "TESTING": True,  # SQLite also on the PostgreSQL run
            "DATABASE_URL": f"sqlite:///{instance}/festivals.sqlite3",
        }
    )
    with app.app_context():
        migrate(app.extensions["database"])
        db.connect(reuse_if_open=True)
        db.execute_sql("CREATE TABLE probe (x INTEGER)")
        files = [instance / "festivals.sqlite3", instance / "festivals.sqlite3-wal", instance / "secret_key"]
        modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in files if path.exists()}
        db.close()
    close_database(app.extensions["database"])

    assert stat.S_IMODE(instance.stat().st_mode) == 0o700
    assert modes.get("festivals.sqlite3") == 0o600 and modes.get("festivals.sqlite3-wal") == 0o600, modes
