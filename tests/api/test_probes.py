"""Findings of the black-box probe (issue 13) that stay fixed: Unicode digits in numbers, ids past the
32-bit column, bodies past the size limit without Content-Length, and bodies with thousands of unknown keys."""

from __future__ import annotations

import io
import unicodedata

import orjson
import pytest

from tests.identity.test_pages import client_for, log_in

API = "/api/v1"
HUGE = 2**31


@pytest.mark.parametrize("query", ["limit=²", "offset=¹", "ids=¹", "ids=1,²", "updated_since=²", "limit=١٠"])
def test_unicode_digits_in_a_query_are_a_clear_400(client, writer, query):
    response = client.get(f"{API}/festivals?{query}", headers=writer)

    assert response.status_code == 400
    assert response.get_json()["fields"]


@pytest.mark.parametrize("query", ["limit=²", "offset=¹"])
def test_unicode_digits_in_identity_paging_are_a_clear_400(client, admin, query):
    response = client.get(f"/identity/users?{query}", headers=admin)

    assert response.status_code == 400
    assert "whole number" in response.get_json()["error"] and response.get_json()["fields"]


@pytest.mark.parametrize("page", ["²", "١"])
def test_unicode_digits_as_a_portal_page_show_the_first_page(app, factory, page):
    user = factory.user("admin")
    browser = client_for(app)
    log_in(browser, user.email)

    response = browser.get(f"/admin/users?page={page}")

    assert response.status_code == 200
    assert "is not a page number" in response.get_data(as_text=True)


def test_unicode_digits_as_an_audit_user_filter_are_an_email_search(app, factory):
    user = factory.user("admin")
    browser = client_for(app)
    log_in(browser, user.email)

    assert browser.get("/admin/audit?user=²").status_code == 200


def test_a_tel_link_with_superscript_digits_is_rejected(client, writer):
    response = client.post(f"{API}/links", json={"link_url": "tel:²³"}, headers=writer)

    assert response.status_code == 400
    assert "link_url" in response.get_json()["fields"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"/festivals/{HUGE}"),
        ("PATCH", f"/festivals/{HUGE}"),
        ("DELETE", f"/festivals/{HUGE}"),
        ("GET", f"/tags/{10**30}"),
        ("PATCH", f"/tags/{10**30}"),
        ("DELETE", f"/events/{2**63}"),
        ("GET", f"/festivals/{HUGE}/events"),
        ("POST", f"/festivals/1/tags/{HUGE}"),
        ("DELETE", f"/festivals/{HUGE}/tags/1"),
        ("PATCH", "/festivals/" + "9" * 200),
    ],
)
def test_ids_past_the_column_are_not_found_for_every_method(client, admin, method, path):
    response = client.open(f"{API}{path}", method=method, json={"festival_name": "x"}, headers=admin)

    assert response.status_code == 404, response.status_code
    assert response.get_json() == {"error": "not found"}


def chunked(client, path: str, body: bytes, headers: dict):
    """A body without Content-Length, as a server that decodes Transfer-Encoding: chunked hands it on."""
    return client.post(
        path,
        input_stream=io.BytesIO(body),
        headers={**headers, "Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )


@pytest.mark.parametrize("path", [f"{API}/festivals", "/identity/token"])
def test_a_chunked_body_past_the_limit_is_413(client, writer, path):
    body = orjson.dumps({"festival_description": "x" * (3 * 1024 * 1024)})

    response = chunked(client, path, body, writer)

    assert response.status_code == 413
    assert "larger than the limit" in response.get_json()["error"]


def test_a_small_chunked_body_is_read_whole(client, writer):
    response = chunked(client, f"{API}/festivals", orjson.dumps({"festival_name": "Chunked"}), writer)

    assert response.status_code == 201
    assert response.get_json()["data"][0]["festival_name"] == "Chunked"


def test_thousands_of_unknown_keys_get_a_short_error(client, writer, factory, creator):
    festival = factory.create("festival", creator)["festival_id"]
    body = {f"k{i}": 1 for i in range(50_000)}

    response = client.patch(f"{API}/festivals/{festival}", json=body, headers=writer)

    assert response.status_code == 400
    assert len(response.get_data()) < 2000
    error = response.get_json()
    assert len(error["fields"]) == 20
    assert error["error"].endswith("and 49980 more fields")


# --- unique names after NFC + case folding (finding 9) -----------------------------------------------

CAFE_NFD = unicodedata.normalize("NFD", "Café")


@pytest.mark.parametrize("entity", ["festival", "tag"])
@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Café", CAFE_NFD),
        ("Café", "CAFÉ"),
        ("Jazz Days", "Ｊａｚｚ Ｄａｙｓ"),
        ("Jazz Days", "Jazz\u200b Days"),
        ("Jazz Days", "Jazz \u00adDays"),
        ("Straße", "STRASSE"),
        ("Jazz Days", "Jazz \ufeffDays"),
    ],
    ids=["nfd", "case", "fullwidth", "zero-width", "soft-hyphen", "sharp-s", "bom"],
)
def test_unique_names_compare_after_nfc_and_case_folding(client, writer, entity, first, second):
    path = f"{API}/{entity}s"
    assert client.post(path, json={f"{entity}_name": first}, headers=writer).status_code == 201

    response = client.post(path, json={f"{entity}_name": second}, headers=writer)

    assert response.status_code == 409, response.get_json()
    assert f"{entity}_name" in response.get_json()["fields"]


def test_renaming_onto_a_normalized_duplicate_is_a_conflict(client, writer):
    client.post(f"{API}/festivals", json={"festival_name": "Café"}, headers=writer)
    other = client.post(f"{API}/festivals", json={"festival_name": "Tea"}, headers=writer).get_json()["data"][0]

    response = client.patch(f"{API}/festivals/{other['festival_id']}", json={"festival_name": CAFE_NFD}, headers=writer)

    assert response.status_code == 409


@pytest.mark.parametrize("entity", ["festival", "tag"])
def test_a_name_of_invisible_characters_only_is_rejected(client, writer, entity):
    response = client.post(f"{API}/{entity}s", json={f"{entity}_name": "\u200b\u200d"}, headers=writer)

    assert response.status_code == 400
    assert f"{entity}_name" in response.get_json()["fields"]
