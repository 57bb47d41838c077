"""The S3 media store's failures and the copy of a media folder into a bucket, against real processes: the file
server under gunicorn and moto's S3 server (tests/s3.py)."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import time

import orjson
import pytest
import requests
from pypdf import PdfWriter

from app import ROOT
from common.launch import process_env
from fileserver.storage import LocalStore
from tests.fileserver.conftest import image_bytes, server_env, start_server
from tests.processes import free_port
from tests.s3 import MotoServer

pytestmark = pytest.mark.processes  # every test starts a process itself

BOUND_S = 45  # a failing store answers within this (timeouts and retries are bounded), on a loaded CI machine too


def refused_start(tmp_path_factory, **settings) -> str:
    """Starting a file server with these settings fails; its output."""
    with pytest.raises(RuntimeError, match="exited") as refused:
        start_server(tmp_path_factory, "refused", **settings)
    return str(refused.value)


def test_start_without_the_bucket_names_the_bucket_setting(tmp_path_factory, moto):
    output = refused_start(tmp_path_factory, **moto.settings("no-such-festival-bucket"))
    assert "FESTIVALS_S3_BUCKET" in output and "no-such-festival-bucket" in output


def test_start_without_a_bucket_name_names_the_setting(tmp_path_factory, moto):
    output = refused_start(tmp_path_factory, **{**moto.settings(""), "FESTIVALS_S3_BUCKET": ""})
    assert "needs FESTIVALS_S3_BUCKET" in output


def test_start_with_an_unreachable_endpoint_names_the_endpoint_setting(tmp_path_factory, moto):
    started = time.monotonic()
    output = refused_start(
        tmp_path_factory,
        **{**moto.settings("festival-media"), "FESTIVALS_S3_ENDPOINT": f"http://127.0.0.1:{free_port()}"},
    )
    assert "FESTIVALS_S3_ENDPOINT" in output and "cannot be reached" in output
    assert time.monotonic() - started < BOUND_S


def test_start_with_wrong_credentials_names_the_credential_variables(tmp_path_factory):
    checking = MotoServer(tmp_path_factory.mktemp("moto-auth"), INITIAL_NO_AUTH_ACTION_COUNT="0")
    try:
        output = refused_start(tmp_path_factory, **checking.settings("festival-media"))
        assert "refused the credentials" in output and "AWS_ACCESS_KEY_ID" in output
    finally:
        checking.stop()


def test_unknown_media_store_is_refused_at_start(tmp_path_factory):
    assert "FESTIVALS_MEDIA_STORE must be local or s3" in refused_start(tmp_path_factory, FESTIVALS_MEDIA_STORE="nfs")


def assert_503(response: requests.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["Content-Type"] == "application/json"
    assert "media store" in response.json()["error"]


def test_a_store_gone_at_request_time_is_503_with_the_envelope(tmp_path_factory):
    own = MotoServer(tmp_path_factory.mktemp("moto-gone"))
    files = start_server(tmp_path_factory, "files-gone", own)
    try:
        digest = files.upload(image_bytes(size=(640, 480))).json()["data"][0]["image_hash"]
        assert requests.get(f"{files.url}/images/{digest}", timeout=10).status_code == 200
        own.stop()  # the endpoint is unreachable from now on
        for answer in (
            lambda: requests.get(f"{files.url}/images/{digest}", timeout=BOUND_S),
            lambda: requests.get(f"{files.url}/images/{digest}?w=160", timeout=BOUND_S),
            lambda: files.upload(image_bytes(size=(320, 240))),
            lambda: requests.delete(f"{files.url}/images/{digest}", headers=files.bearer(), timeout=BOUND_S),
        ):
            started = time.monotonic()
            assert_503(answer())
            assert time.monotonic() - started < BOUND_S
        ready = requests.get(f"{files.url}/ready", timeout=BOUND_S)
        assert ready.status_code == 503
    finally:
        files.stop()
        own.stop()


def test_a_bucket_deleted_at_request_time_is_503_naming_the_bucket(tmp_path_factory, moto):
    files = start_server(tmp_path_factory, "files-no-bucket", moto)
    try:
        digest = files.upload(image_bytes(size=(320, 240))).json()["data"][0]["image_hash"]
        for key in moto.keys(files.bucket):
            moto.client.delete_object(Bucket=files.bucket, Key=key)
        moto.client.delete_bucket(Bucket=files.bucket)
        response = requests.get(f"{files.url}/images/{digest}", timeout=BOUND_S)
        assert_503(response)
        assert files.bucket in response.json()["error"] and "FESTIVALS_S3_BUCKET" in response.json()["error"]
        assert_503(files.upload(image_bytes(size=(320, 240))))
    finally:
        files.stop()


# --- media-to-s3 ------------------------------------------------------------------------------------------


def local_media(folder) -> dict:
    """A media folder as the local store writes it: 24 festival pictures and a programme PDF."""
    store = LocalStore(str(folder))
    digests = {}
    for number in range(24):
        data = image_bytes(size=(320 + number, 240))
        digests[("images", store.store("images", data, {"mimetype": "image/jpeg", "uploader": str(number)})[0])] = data
    pdf = minimal_pdf()
    digests[("pdf", store.store("pdf", pdf, {"mimetype": "application/pdf", "pages": 1, "uploader": "1"})[0])] = pdf
    first = next(digest for kind, digest in digests if kind == "images")
    store.write_alias("upload-7.jpg", {"kind": "images", "hash": first})  # a Go file server's name (import-go)
    return digests


def minimal_pdf() -> bytes:
    writer, out = PdfWriter(), io.BytesIO()
    writer.add_blank_page(595, 842)
    writer.add_metadata({"/Title": "Programm Sommerfestival Müggelsee – Bühnen und Zeiten"})
    writer.write(out)
    return out.getvalue()


def copy_command(folder, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "flask"), "--app", "wsgi:files", "media-to-s3", str(folder)],
        cwd=ROOT,
        env=process_env(env),
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_media_to_s3_copies_verifies_resumes_and_the_bucket_serves_the_same_bytes(tmp_path, tmp_path_factory, moto):
    media = tmp_path / "media"
    digests = local_media(media)
    damaged = next(digest for kind, digest in digests if kind == "images")
    bucket = moto.new_bucket()
    env = server_env(tmp_path / "instance", **moto.settings(bucket))

    first = copy_command(media, env)
    assert first.returncode == 0, first.stdout + first.stderr
    assert f"25 originals in {media} -> bucket {bucket}" in first.stdout
    assert "25 copied" in first.stdout and "1 old names (aliases) in the bucket" in first.stdout
    for kind, digest in digests:
        body = moto.read(bucket, f"{kind}/{digest[:2]}/{digest}")
        assert hashlib.sha256(body).hexdigest() == digest
    record = orjson.loads(moto.read(bucket, f"meta/images/{damaged[:2]}/{damaged}.json"))
    assert record["mimetype"] == "image/jpeg" and record["uploader"] and record["size"]

    # resumable: the second run sends nothing; a wrong object in the bucket is sent again
    moto.client.put_object(Bucket=bucket, Key=f"images/{damaged[:2]}/{damaged}", Body=b"half an upload")
    again = copy_command(media, env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "24 already in the bucket" in again.stdout and "1 copied again" in again.stdout
    assert hashlib.sha256(moto.read(bucket, f"images/{damaged[:2]}/{damaged}")).hexdigest() == damaged

    # a damaged file in the folder is reported and not copied; the run says it failed
    (media / "images" / damaged[:2] / damaged).write_bytes(b"bit rot")
    broken = copy_command(media, env)
    assert broken.returncode == 1
    assert f"images/{damaged}: damaged in the folder" in broken.stderr

    files = start_server(tmp_path_factory, "files-copied", **moto.settings(bucket))
    try:
        for (kind, digest), data in digests.items():
            served = requests.get(f"{files.url}/{kind}/{digest}", timeout=10)
            assert served.status_code == 200 and served.content == data
        assert requests.get(f"{files.url}/images/{damaged}?w=160", timeout=30).status_code == 200
        old_name = requests.get(f"{files.url}/images/upload-7.jpg", timeout=10)
        assert old_name.status_code == 200 and old_name.content == digests[("images", damaged)]
    finally:
        files.stop()


def test_media_to_s3_needs_the_s3_store(tmp_path):
    (tmp_path / "media").mkdir()
    result = copy_command(tmp_path / "media", server_env(tmp_path / "instance"))
    assert result.returncode == 2 and "FESTIVALS_MEDIA_STORE=s3" in result.stderr
