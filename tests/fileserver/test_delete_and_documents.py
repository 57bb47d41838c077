"""Deleting (admins and the uploader only; cached variants go too) and PDF documents."""

import hashlib
import io
import os

import requests
from pypdf import PdfWriter

from tests.fileserver.conftest import image_bytes


def test_delete_by_uploader_removes_file_and_variants(files):
    digest = files.upload(image_bytes(), headers=files.bearer("creator", sub="10")).json()["data"][0]["image_hash"]
    assert requests.get(f"{files.url}/images/{digest}?w=160", timeout=10).status_code == 200
    assert files.variants(digest)
    response = requests.delete(f"{files.url}/images/{digest}", headers=files.bearer("creator", sub="10"), timeout=5)
    assert response.status_code == 204
    assert response.content == b""
    assert files.variants(digest) == []
    assert files.store == "s3" or not (files.media / "variants" / digest[:2] / digest).exists()
    assert digest not in [p.name for p in files.stored()]
    assert requests.get(f"{files.url}/images/{digest}", timeout=5).status_code == 404
    assert requests.get(f"{files.url}/images/{digest}?w=160", timeout=5).status_code == 404


def test_delete_by_admin_of_someone_elses_image(files):
    digest = files.upload(image_bytes(), headers=files.bearer("creator", sub="20")).json()["data"][0]["image_hash"]
    response = requests.delete(f"{files.url}/images/{digest}", headers=files.bearer("admin", sub="1"), timeout=5)
    assert response.status_code == 204
    assert requests.get(f"{files.url}/images/{digest}", timeout=5).status_code == 404


def test_delete_by_other_creator_user_or_anonymous_is_refused(files):
    digest = files.upload(image_bytes(), headers=files.bearer("creator", sub="30")).json()["data"][0]["image_hash"]
    url = f"{files.url}/images/{digest}"
    other = requests.delete(url, headers=files.bearer("creator", sub="31"), timeout=5)
    assert other.status_code == 403 and other.json()["error"]
    assert requests.delete(url, headers=files.bearer("user", sub="30"), timeout=5).status_code == 403
    assert requests.delete(url, timeout=5).status_code == 401
    assert requests.get(url, timeout=5).status_code == 200


def test_delete_of_unknown_image_is_404(files):
    response = requests.delete(f"{files.url}/images/{'a' * 64}", headers=files.bearer("admin"), timeout=5)
    assert response.status_code == 404 and response.json() == {"error": "not found"}


def pdf_bytes(pages: int = 2) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def upload_pdf(files, data: bytes, headers: dict | None = None, name: str = "programme.pdf"):
    return files.upload(data, name, headers=headers, field="pdf", path="/pdf/upload", content_type="application/pdf")


def test_pdf_upload_and_download(files):
    data = pdf_bytes()
    response = upload_pdf(files, data)
    assert response.status_code == 201, response.text
    [entry] = response.json()["data"]
    assert set(entry) == {"pdf_hash", "pdf_ref"}
    assert entry["pdf_hash"] == hashlib.sha256(data).hexdigest()
    assert entry["pdf_ref"] == f"{files.url}/pdf/{entry['pdf_hash']}"
    download = requests.get(entry["pdf_ref"], timeout=5)
    assert download.status_code == 200
    assert download.content == data
    assert download.headers["Content-Type"] == "application/pdf"
    assert "immutable" in download.headers["Cache-Control"]
    assert (
        requests.get(entry["pdf_ref"], headers={"If-None-Match": download.headers["ETag"]}, timeout=5).status_code
        == 304
    )
    assert upload_pdf(files, data).status_code == 200  # stored once
    assert [p.name for p in files.stored("pdf")].count(entry["pdf_hash"]) == 1


def test_fake_or_broken_pdf_is_400(files):
    fake = b"%PDF-1.7\nthis is not really a pdf, just its first line\n%%EOF\n"
    for data in (fake, image_bytes(size=(50, 50)), pdf_bytes()[:300]):
        response = upload_pdf(files, data)
        assert response.status_code == 400, response.text
        assert response.json()["error"]


def test_pdf_upload_needs_a_creator_and_delete_the_uploader(files):
    data = pdf_bytes(3)
    assert upload_pdf(files, data, headers={}).status_code == 401
    assert upload_pdf(files, data, headers=files.bearer("user", sub="40")).status_code == 403
    digest = upload_pdf(files, data, headers=files.bearer("creator", sub="41")).json()["data"][0]["pdf_hash"]
    url = f"{files.url}/pdf/{digest}"
    assert requests.delete(url, headers=files.bearer("creator", sub="42"), timeout=5).status_code == 403
    assert requests.delete(url, headers=files.bearer("creator", sub="41"), timeout=5).status_code == 204
    assert requests.get(url, timeout=5).status_code == 404
    assert requests.get(f"{files.url}/pdf/{digest.upper()}", timeout=5).status_code == 404


def test_large_pdf_is_stored_whole_and_served_byte_for_byte(files):
    """A 12 MB programme (an embedded file): spooled, hashed and stored in parts (S3 multipart over 8 MiB)."""
    writer, out = PdfWriter(), io.BytesIO()
    writer.add_blank_page(595, 842)
    writer.add_attachment("Lageplan Bühnen Müggelsee.bin", os.urandom(12 * 1024 * 1024))
    writer.write(out)
    data = out.getvalue()
    response = upload_pdf(files, data)
    assert response.status_code == 201, response.text
    [entry] = response.json()["data"]
    assert entry["pdf_hash"] == hashlib.sha256(data).hexdigest()
    download = requests.get(entry["pdf_ref"], timeout=60)
    assert download.status_code == 200 and download.content == data
    tail = requests.get(entry["pdf_ref"], headers={"Range": f"bytes={len(data) - 100}-"}, timeout=30)
    assert (tail.status_code, tail.content) == (206, data[-100:])
    if files.store == "s3":  # sent in parts: a multipart object's ETag ends in -<parts>
        digest = entry["pdf_hash"]
        head = files.moto.client.head_object(Bucket=files.bucket, Key=f"pdf/{digest[:2]}/{digest}")
        assert head["ETag"].strip('"').endswith("-2")
