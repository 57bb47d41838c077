"""GET /metrics of the app (and the identity process, which is the same app): who may read it, and what it
counts. Values are this test process's (no multiprocess folder here), so tests compare before and after."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

OUTSIDE = {"REMOTE_ADDR": "203.0.113.9"}  # a peer that is not this machine


def samples(text: str) -> dict:
    """(sample name, sorted label items) -> value."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def scrape(client) -> dict:
    response = client.get("/metrics")
    assert response.status_code == 200, response.data
    return samples(response.get_data(as_text=True))


def value(scraped: dict, name: str, **labels) -> float:
    return scraped.get((name, tuple(sorted(labels.items()))), 0.0)


def delta(before: dict, after: dict, name: str, **labels) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def test_loopback_callers_read_the_metrics_without_credentials(client):
    response = client.get("/metrics")  # the test client's peer is 127.0.0.1
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert response.headers["Cache-Control"] == "no-store"
    assert "festivals_http_requests_total" in response.get_data(as_text=True)


def test_others_need_an_admins_bearer_token(client, factory):
    creator, admin = factory.user("creator"), factory.user("admin")
    refused = [
        (401, {}),
        (401, factory.api_key_headers()),
        (401, {"Authorization": "Bearer not-a-token"}),
        (403, factory.bearer(creator)),
    ]
    for status, headers in refused:
        response = client.get("/metrics", headers=headers, environ_base=OUTSIDE)
        assert response.status_code == status, headers
        assert set(response.get_json()) == {"error"}
    response = client.get("/metrics", headers=factory.bearer(admin), environ_base=OUTSIDE)
    assert response.status_code == 200
    assert b"festivals_http_requests_total" in response.data


@pytest.mark.parametrize("header", ["X-Forwarded-For", "Forwarded"])
def test_a_forwarded_request_is_not_a_loopback_caller(client, header):
    """The gateway's peer address is loopback too: what it forwards counts as coming from outside."""
    response = client.get("/metrics", headers={header: "127.0.0.1"})
    assert response.status_code == 401
    assert response.get_json()["error"]


def test_behind_the_proxy_the_forwarded_address_does_not_make_a_loopback_caller(make_app):
    app = make_app(BEHIND_PROXY=True)
    response = app.test_client().get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"}, environ_base=OUTSIDE)
    assert response.status_code == 401


def test_requests_are_counted_by_route_template_method_and_status(client, factory):
    headers = factory.api_key_headers()
    template = "/api/v1/<entity:spec>/<id:entity_id>"
    before = scrape(client)
    for festival_id in (987654, 987655):
        assert client.get(f"/api/v1/festivals/{festival_id}", headers=headers).status_code == 404
    assert client.get("/api/v1/no-such-route").status_code == 404
    after = scrape(client)
    requests = "festivals_http_requests_total"
    assert delta(before, after, requests, route=template, method="GET", status="404") == 2
    assert not [key for key in after if any("987654" in str(label) for label in key[1])]
    latency = "festivals_http_request_duration_seconds_count"
    assert delta(before, after, latency, route=template, method="GET") == 2
    assert delta(before, after, requests, route="<unmatched>", method="GET", status="404") == 1


def test_database_statements_and_time_per_request(client, factory):
    headers = factory.api_key_headers()
    route = "/api/v1/<entity:spec>"
    before = scrape(client)
    assert client.get("/api/v1/festivals", headers=headers).status_code == 200
    assert client.get("/health").status_code == 200
    after = scrape(client)
    queries, seconds = "festivals_db_queries_per_request", "festivals_db_seconds_per_request"
    assert delta(before, after, f"{queries}_count", route=route) == 1
    assert delta(before, after, f"{queries}_sum", route=route) >= 2  # the key, the versions, the rows
    assert delta(before, after, f"{seconds}_sum", route=route) > 0
    assert delta(before, after, f"{queries}_count", route="/health") == 1
    assert delta(before, after, f"{queries}_sum", route="/health") == 0  # liveness only


def test_pool_use_after_requests(make_app):
    # Not the `app` fixture: pytest-flask pushes a context around its tests, so a request's app context (whose
    # end gives the connection back and sets the gauge) would never end within the test.
    app = make_app()
    client = app.test_client()
    client.get("/health")
    client.get("/api/v1/festivals")
    assert client.get("/ready").status_code == 200  # readiness asks the database: a connection taken and given back
    scraped = scrape(client)
    assert value(scraped, "festivals_db_pool_connections", state="in_use") == 0
    assert value(scraped, "festivals_db_pool_connections", state="idle") >= 1
    assert value(scraped, "festivals_db_pool_connections", state="max") == app.config["DB_POOL_SIZE"]


def test_read_cache_hits_and_misses(client, factory):
    headers = factory.api_key_headers()
    before = scrape(client)
    first = client.get("/api/v1/festivals?limit=7", headers=headers)
    second = client.get("/api/v1/festivals?limit=7", headers=headers)
    third = client.get("/api/v1/festivals?limit=7", headers={**headers, "If-None-Match": second.headers["ETag"]})
    assert [r.headers["X-Cache"] for r in (first, second, third)] == ["miss", "hit", "not-modified"]
    after = scrape(client)
    for result in ("miss", "hit", "not-modified"):
        assert delta(before, after, "festivals_read_cache_total", result=result) == 1, result
