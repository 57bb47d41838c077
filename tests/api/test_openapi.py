"""The OpenAPI document says what the server does (issue 13, finding 10): parameter formats the server
checks, every status code a route can answer, and the headers of conditional and retried writes."""

from __future__ import annotations

import re

import pytest

API = "/api/v1"


@pytest.fixture
def document(client):
    return client.get(f"{API}/openapi.json").get_json()


def parameter(document, path: str, method: str, name: str) -> dict:
    operation = document["paths"][path][method]
    found = [p for p in operation.get("parameters", []) + document["paths"][path].get("parameters", [])]
    return next(p for p in found if p["name"] == name)


@pytest.mark.parametrize(
    ("ids", "accepted"),
    [("1,2,37", True), (" 1 , 2 ", True), ("1,,2", True), ("", True), ("1,x", False), ("²", False), ("1 2", False)],
)
def test_the_ids_pattern_is_what_the_server_accepts(client, writer, document, ids, accepted):
    schema = parameter(document, "/festivals", "get", "ids")["schema"]

    response = client.get(f"{API}/festivals", query_string={"ids": ids}, headers=writer)

    assert schema["type"] == "string"
    assert bool(re.fullmatch(schema["pattern"], ids)) is accepted
    assert response.status_code == (200 if accepted else 400)


@pytest.mark.parametrize(
    ("include", "accepted"),
    [("image,links", True), ("image, link , tag", True), ("", True), ("image,nope", False), ("artist", False)],
)
def test_the_include_pattern_lists_the_relations(client, writer, document, include, accepted):
    schema = parameter(document, "/festivals", "get", "include")["schema"]

    response = client.get(f"{API}/festivals", query_string={"include": include}, headers=writer)

    assert bool(re.fullmatch(schema["pattern"], include)) is accepted
    assert response.status_code == (200 if accepted else 400)


def test_numbers_and_times_have_their_types_and_bounds(document):
    limit = parameter(document, "/events", "get", "limit")["schema"]
    offset = parameter(document, "/events", "get", "offset")["schema"]
    since = parameter(document, "/events", "get", "updated_since")["schema"]

    assert (limit["type"], limit["minimum"], limit["maximum"]) == ("integer", 1, 1000)
    assert (offset["type"], offset["minimum"], offset["maximum"]) == ("integer", 0, 2**31 - 1)
    assert {"type": "integer"}.items() <= since["anyOf"][0].items()
    assert since["anyOf"][1]["format"] == "date-time"


def test_every_answer_a_route_can_give_is_listed(document):
    paths = document["paths"]

    assert {"200", "304", "400", "401", "404", "500"} <= set(paths["/festivals"]["get"]["responses"])
    assert {"201", "400", "401", "403", "405", "409", "413", "422", "500"} <= set(paths["/tags"]["post"]["responses"])
    assert {"200", "404", "405", "409", "412", "413"} <= set(paths["/tags/{id}"]["patch"]["responses"])
    assert {"200", "404", "405", "412"} <= set(paths["/tags/{id}"]["delete"]["responses"])
    assert {"200", "404", "409", "412"} <= set(paths["/festivals/{id}/tags/{rid}"]["post"]["responses"])


def test_conditional_and_retry_headers_are_declared(document):
    paths = document["paths"]

    assert parameter(document, "/tags/{id}", "patch", "If-Match")["in"] == "header"
    assert parameter(document, "/tags/{id}", "delete", "If-Unmodified-Since")["in"] == "header"
    assert parameter(document, "/tags", "post", "Idempotency-Key")["schema"]["maxLength"] == 255
    assert paths["/tags"]["post"]["responses"]["201"]["headers"]["ETag"]["required"] is True
    assert paths["/tags/{id}"]["get"]["responses"]["200"]["headers"]["ETag"]["required"] is True


def test_a_create_body_names_its_required_fields(document):
    paths, schemas = document["paths"], document["components"]["schemas"]
    create = paths["/festivals"]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    change = paths["/festivals/{id}"]["patch"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]

    assert schemas[create.rsplit("/", 1)[1]]["required"] == ["festival_name"]
    assert "required" not in schemas[change.rsplit("/", 1)[1]]


def test_a_whole_number_with_a_zero_fraction_is_an_integer(client, writer):
    """JSON (and JSON Schema) have one number type: 1358.0 is the integer 1358; 1358.5 is not."""
    body = {"event_name": "Talk", "event_start": 1358.0, "event_end": 2000.0, "event_type": 3.0}

    created = client.post(f"{API}/events", json=body, headers=writer)
    fraction = client.post(f"{API}/events", json={"event_start": 1358.5}, headers=writer)

    assert created.status_code == 201
    assert created.get_json()["data"][0]["event_start"] == 1358
    assert fraction.status_code == 400 and "event_start" in fraction.get_json()["fields"]
