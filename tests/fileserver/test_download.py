"""Downloads: public, cacheable, conditional and ranged; only well-formed hashes reach the disk."""

import hashlib
import http.client

import pytest
import requests

from fileserver import create_files_app
from tests.fileserver.conftest import image_bytes


@pytest.fixture(scope="module")
def stored(files):
    response = files.upload(image_bytes())
    assert response.status_code == 201
    return response.json()["data"][0]["image_hash"]


def raw_get(files, path: str, method: str = "GET") -> tuple[int, dict, bytes]:
    """A request line sent exactly as written (no client-side normalisation of dots or escapes)."""
    connection = http.client.HTTPConnection("127.0.0.1", files.port, timeout=5)
    connection.putrequest(method, path, skip_accept_encoding=True)
    connection.endheaders()
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, dict(response.getheaders()), body


def test_download_original_is_public_and_long_cached(files, stored):
    response = requests.get(f"{files.url}/images/{stored}", timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/jpeg"
    assert hashlib.sha256(response.content).hexdigest() == stored
    assert response.headers["ETag"] == f'"{stored}"'
    assert response.headers["Last-Modified"]
    cache = {part.strip() for part in response.headers["Cache-Control"].split(",")}
    assert {"public", "max-age=31536000", "immutable"} <= cache
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_download_with_if_none_match_is_304(files, stored):
    first = requests.get(f"{files.url}/images/{stored}", timeout=5)
    again = requests.get(f"{files.url}/images/{stored}", headers={"If-None-Match": first.headers["ETag"]}, timeout=5)
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["ETag"] == first.headers["ETag"]


def test_download_with_range_is_206(files, stored):
    whole = requests.get(f"{files.url}/images/{stored}", timeout=5).content
    response = requests.get(f"{files.url}/images/{stored}", headers={"Range": "bytes=100-199"}, timeout=5)
    assert response.status_code == 206
    assert response.content == whole[100:200]
    assert response.headers["Content-Range"] == f"bytes 100-199/{len(whole)}"


def test_head_answers_headers_without_body(files, stored):
    response = requests.head(f"{files.url}/images/{stored}", timeout=5)
    assert response.status_code == 200
    assert response.content == b""
    assert int(response.headers["Content-Length"]) > 1000
    assert response.headers["ETag"] == f'"{stored}"'


@pytest.mark.parametrize(
    "path",
    [
        "/images/../../../etc/passwd",
        "/images/..%2f..%2f..%2fetc%2fpasswd",
        "/images/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/images/%2E%2E/%2E%2E/etc/passwd",
        "/images/{upper}",
        "/images/{short}",
        "/images/{digest}0",
        "/images/{digest}.json",
        "/images/{digest}%00",
        "/images/{digest}/../{digest}.json",
        "/pdf/../images/{digest}.json",
        "/images/abc",
    ],
)
def test_download_of_malformed_hash_is_404(files, stored, path):
    path = path.format(upper=stored.upper(), short=stored[:-1], digest=stored)
    status, headers, body = raw_get(files, path)
    assert status == 404, body
    assert headers["Content-Type"] == "application/json"
    assert b'"error"' in body and b"root:" not in body


def test_download_of_unknown_hash_is_404(files):
    response = requests.get(f"{files.url}/images/{'0' * 64}", timeout=5)
    assert response.status_code == 404
    assert response.json() == {"error": "not found"}
    assert requests.get(f"{files.url}/images/{'0' * 64}?w=320", timeout=5).status_code == 404


def test_unknown_path_and_wrong_method_answer_the_envelope(files, stored):
    missing = requests.get(f"{files.url}/nothing/here", timeout=5)
    assert missing.status_code == 404 and missing.json() == {"error": "not found"}
    wrong = requests.put(f"{files.url}/images/{stored}", data=b"x", timeout=5)
    assert wrong.status_code == 405 and wrong.json() == {"error": "method not allowed"}
    assert "DELETE" in wrong.headers["Allow"] and "GET" in wrong.headers["Allow"]
    upload_get = requests.get(f"{files.url}/images/upload", timeout=5)
    assert upload_get.status_code == 405 and "error" in upload_get.json()


def test_request_id_is_echoed_when_sane_and_generated_otherwise(files):
    sane = requests.get(f"{files.url}/version", headers={"X-Request-ID": "abc-123"}, timeout=5)
    assert sane.headers["X-Request-ID"] == "abc-123"
    insane = requests.get(f"{files.url}/health", headers={"X-Request-ID": "no spaces <allowed>"}, timeout=5)
    assert insane.headers["X-Request-ID"] != "no spaces <allowed>"
    assert len(insane.headers["X-Request-ID"]) == 32
    assert "abc-123" in (files.instance / "files.log").read_text()


def test_health_ready_version_info(files):
    assert requests.get(f"{files.url}/health", timeout=5).json() == {"status": "ok"}
    assert requests.get(f"{files.url}/ready", timeout=5).json() == {
        "status": "ready",
        "storage": "ok",
        "certificates": {"expiring": []},
    }
    assert requests.get(f"{files.url}/version", timeout=5).json()["version"]
    info = requests.get(f"{files.url}/info", timeout=5).json()
    assert info["service"] == "festivals-files"
    assert info["thumb_sizes"] == [64, 160, 320, 640, 1280, 1920]
    assert info["max_upload_bytes"] == 20 * 1024 * 1024


def test_cors_preflight_allows_the_portal_origin_only(files):
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"}
    allowed = requests.options(
        f"{files.url}/images/upload", headers={"Origin": "http://portal.test", **preflight}, timeout=5
    )
    assert allowed.status_code == 204
    assert allowed.headers["Access-Control-Allow-Origin"] == "http://portal.test"
    assert "authorization" in allowed.headers["Access-Control-Allow-Headers"].lower()
    assert "POST" in allowed.headers["Access-Control-Allow-Methods"]
    other = requests.options(
        f"{files.url}/images/upload", headers={"Origin": "https://evil.test", **preflight}, timeout=5
    )
    assert "Access-Control-Allow-Origin" not in other.headers
    upload = files.upload(image_bytes(size=(64, 64)), headers={**files.bearer(), "Origin": "http://portal.test"})
    assert upload.status_code == 201
    assert upload.headers["Access-Control-Allow-Origin"] == "http://portal.test"


def test_ready_is_503_when_storage_is_not_writable(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    files_app = create_files_app({"INSTANCE_PATH": str(tmp_path), "MEDIA_DIR": str(blocker / "media")})
    response = files_app.test_client().get("/ready")
    assert response.status_code == 503
    assert response.get_json()["status"] == "unavailable"


def test_unexpected_error_answers_the_envelope_without_traceback(tmp_path):
    files_app = create_files_app({"INSTANCE_PATH": str(tmp_path)})

    def boom():
        raise RuntimeError("secret detail")

    files_app.add_url_rule("/boom", view_func=boom)
    response = files_app.test_client().get("/boom", headers={"X-Request-ID": "req-42"})
    assert response.status_code == 500
    assert response.get_json() == {"error": "internal error", "request_id": "req-42"}
    assert b"secret detail" not in response.data and b"Traceback" not in response.data
