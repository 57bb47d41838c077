"""The file server's GET /metrics: uploads and thumbnails made, summed over its two workers; loopback callers
read it, a forwarded request needs an admin's token."""

from __future__ import annotations

import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.fileserver.conftest import image_bytes

FORWARDED = {"X-Forwarded-For": "203.0.113.9"}  # came through a proxy: not a loopback caller


def scrape(files) -> dict:
    response = requests.get(f"{files.url}/metrics", timeout=10)
    assert response.status_code == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def test_uploads_and_thumbnails_made_are_counted(files):
    photo = image_bytes()
    first, again = files.upload(photo), files.upload(photo)
    assert (first.status_code, again.status_code) == (201, 200)
    image = first.json()["data"][0]["image_ref"]
    for _ in range(3):  # made once, then served from disk
        assert requests.get(f"{image}?w=64&format=webp", timeout=10).status_code == 200
    scraped = scrape(files)
    assert scraped[("festivals_uploads_total", (("kind", "image"), ("result", "created")))] == 1
    assert scraped[("festivals_uploads_total", (("kind", "image"), ("result", "existing")))] == 1
    assert scraped[("festivals_thumbnails_made_total", (("format", "webp"),))] == 1
    route = (("method", "POST"), ("route", "/images/upload"), ("status", "201"))
    assert scraped[("festivals_http_requests_total", route)] == 1


def test_forwarded_requests_need_an_admins_token(files):
    for status, headers in ((401, {}), (403, files.bearer("creator"))):
        response = requests.get(f"{files.url}/metrics", headers={**FORWARDED, **headers}, timeout=10)
        assert response.status_code == status
        assert set(response.json()) == {"error"}
    response = requests.get(f"{files.url}/metrics", headers={**FORWARDED, **files.bearer("admin")}, timeout=10)
    assert response.status_code == 200 and "festivals_uploads_total" in response.text
