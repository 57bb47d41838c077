"""Routes of the file server. Handlers parse, call one helper, and answer."""

from __future__ import annotations

import logging
import os
import time
from typing import BinaryIO

from flask import Blueprint, Flask, Response, current_app, request
from werkzeug.routing import BaseConverter
from werkzeug.wsgi import wrap_file

from common.metrics import THUMBNAILS, UPLOADS
from common.ops import ops_blueprint
from fileserver import documents, images, videos
from fileserver.auth import may_delete, require_writer
from fileserver.http import FilesError, data_response
from fileserver.storage import EXTENSIONS, MediaStore, Stored

YEAR = 365 * 24 * 3600
log = logging.getLogger("festivals.files.views")
bp = Blueprint("files", __name__)


class HashConverter(BaseConverter):
    """Only a well-formed content hash reaches a handler: 64 lowercase hex digits, nothing else."""

    regex = "[0-9a-f]{64}"


class LegacyNameConverter(BaseConverter):
    """A Go file server's name (storage.LEGACY_NAME): `upload-123.jpg`."""

    regex = r"upload-[0-9]{1,30}\.[a-z]{2,4}"


def storage() -> MediaStore:
    return current_app.extensions["files_storage"]


def file_url(kind: str, digest: str) -> str:
    base = current_app.config["FILES_URL"] or request.host_url.rstrip("/")
    return f"{base}/{kind}/{digest}"


def uploaded_file(field: str) -> BinaryIO:
    """The upload of a multipart field as a seekable file (werkzeug spools one over 500 kB to a temporary file,
    so a large upload is never in memory whole)."""
    upload = request.files.get(field)
    if upload is None:
        raise FilesError(400, f"send the file as multipart/form-data field '{field}'")
    stream, limit = upload.stream, current_app.config["MAX_UPLOAD_BYTES"]
    size = stream.seek(0, os.SEEK_END)
    if size > limit:
        raise FilesError(413, f"the upload is larger than the limit of {limit} bytes")
    if not size:
        raise FilesError(400, "the file is empty")
    stream.seek(0)
    return stream


def send_stored(stored: Stored | None, mimetype: str, etag: str, name: str):
    """A stored file with long-lived cache headers, ETag/304 and Range/206 (what werkzeug's send_file does for
    a path, for any store's file object); `name` is what a browser saves it as."""
    if stored is None:
        raise FilesError(404, "not found")
    response = Response(wrap_file(request.environ, stored.file), mimetype=mimetype, direct_passthrough=True)
    response.content_length = stored.size
    response.last_modified = int(stored.mtime)
    response.headers["Content-Disposition"] = f"inline; filename={name}"
    response.set_etag(etag)
    response.cache_control.public = True
    response.cache_control.max_age = YEAR
    response.cache_control.immutable = True
    response.expires = int(time.time() + YEAR)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response.make_conditional(request.environ, accept_ranges=True, complete_length=stored.size)


def open_stored(kind: str, digest: str) -> Stored | None:
    try:
        return storage().open(kind, digest)
    except FileNotFoundError:
        return None


def stored_answer(kind: str, prefix: str, digest: str, created: bool, extra: dict | None = None):
    UPLOADS.labels(prefix, "created" if created else "existing").inc()
    stored = {f"{prefix}_hash": digest, f"{prefix}_ref": file_url(kind, digest), **(extra or {})}
    return data_response([stored], 201 if created else 200)


def delete_stored(kind: str, digest: str):
    claims = require_writer()
    meta = storage().read_meta(kind, digest)
    if meta is None and not storage().exists(kind, digest):
        raise FilesError(404, "not found")
    if not may_delete(claims, (meta or {}).get("uploader")):
        raise FilesError(403, "only admins and the uploader may delete this file")
    storage().delete(kind, digest)
    return "", 204


@bp.post("/images/upload")
def upload_image():
    claims = require_writer()
    image = images.normalize_upload(uploaded_file("image").read(), current_app.config["MAX_IMAGE_PIXELS"])
    digest, created = storage().store(
        "images",
        image.data,
        {
            "mimetype": image.mimetype,
            "width": image.width,
            "height": image.height,
            "alpha": image.alpha,
            "uploader": claims["sub"],
            "uploaded_at": int(time.time()),
        },
    )
    return stored_answer("images", "image", digest, created)


@bp.get("/images/<hash:digest>")
def get_image(digest: str):
    meta = storage().read_meta("images", digest)
    if meta is None:  # the original itself may still be missing: send_stored answers 404 then
        raise FilesError(404, "not found")
    variant = images.parse_variant(request.args, request.accept_mimetypes, meta, current_app.config["THUMB_SIZES"])
    if variant is None:
        storage().link_public(digest, meta["mimetype"])
        return send_stored(
            open_stored("images", digest), meta["mimetype"], digest, digest + EXTENSIONS[meta["mimetype"]]
        )
    response = send_stored(
        ensure_variant(digest, variant), variant.mimetype, f"{digest}-{variant.name}", f"{digest}-{variant.name}"
    )
    response.vary.add("Accept")
    return response


@bp.get("/images/<legacy:name>")
@bp.get("/pdf/<legacy:name>")
def get_legacy(name: str):
    """A Go file server's name (imported by tools/import_go.py) answers as an alias of the stored file: the same
    bytes, thumbnails (?width=, ?height=) and cache headers as its own URL, in one request (no redirect), under
    /images/ or /pdf/ whatever it turned out to be (a PDF saved as upload-5.jpg)."""
    alias = storage().read_alias(name)
    if alias is None:
        raise FilesError(404, "not found")
    return get_pdf(alias["hash"]) if alias["kind"] == "pdf" else get_image(alias["hash"])


def ensure_variant(digest: str, variant: images.Variant) -> Stored | None:
    """An image's thumbnail, made once from the stored original."""

    def make() -> bytes:
        with storage().local_copy("images", digest) as original:
            return images.make_variant(original, variant)

    return ensure_made(digest, variant.name, variant.mimetype, make)


def ensure_made(digest: str, name: str, mimetype: str, make) -> Stored | None:
    """The variant `name` of a stored file, made once by `make()` (its bytes): the first request (of any
    worker) makes it under a per-variant lock; everyone else waits for the lock and then finds it stored."""
    stored = storage().open_variant(digest, name)
    if stored is not None:
        return stored
    with storage().variant_lock(digest, name):
        stored = storage().open_variant(digest, name)
        if stored is None:
            try:
                data = make()
            except FileNotFoundError:  # deleted meanwhile
                raise FilesError(404, "not found") from None
            storage().put_variant(digest, name, data, mimetype)
            THUMBNAILS.labels(mimetype.rpartition("/")[2]).inc()
            log.info("made variant %s of %s", name, digest)
            stored = storage().open_variant(digest, name)
    return stored


@bp.delete("/images/<hash:digest>")
def delete_image(digest: str):
    return delete_stored("images", digest)


@bp.post("/pdf/upload")
def upload_pdf():
    claims = require_writer()
    upload = uploaded_file("pdf")
    pages = documents.check_pdf(upload)
    digest, created = storage().put_file(
        "pdf",
        upload,
        {
            "mimetype": documents.PDF_MIMETYPE,
            "pages": pages,
            "uploader": claims["sub"],
            "uploaded_at": int(time.time()),
        },
    )
    return stored_answer("pdf", "pdf", digest, created)


@bp.get("/pdf/<hash:digest>")
def get_pdf(digest: str):
    return send_stored(open_stored("pdf", digest), documents.PDF_MIMETYPE, digest, f"{digest}.pdf")


@bp.delete("/pdf/<hash:digest>")
def delete_pdf(digest: str):
    return delete_stored("pdf", digest)


def _ready() -> tuple[bool, dict]:
    if not storage().writable():
        return False, {"storage": "not writable"}
    return True, {"storage": "ok"}


def _info() -> dict:
    config = current_app.config
    return {
        "service": "festivals-files",
        "version": config["VERSION"],
        "max_upload_bytes": config["MAX_UPLOAD_BYTES"],
        "max_image_pixels": config["MAX_IMAGE_PIXELS"],
        "thumb_sizes": list(config["THUMB_SIZES"]),
        "image_formats": sorted(images.MIMETYPES.values()),
        "max_video_bytes": config["MAX_VIDEO_BYTES"],
        "max_video_seconds": config["MAX_VIDEO_SECONDS"],
        "video_formats": sorted(videos.MUXERS),
        "thumb_formats": sorted(images.OUTPUTS),
        "token_keys": "jwks" if config["IDENTITY_URL"] else "instance folder",
        "media_store": config["MEDIA_STORE"],
    }


UPLOAD_PREFIXES = ("image", "pdf", "video")  # the `kind` label of UPLOADS: stored_answer's prefixes


def count_from_zero() -> None:
    """Every upload and thumbnail series at 0 from the start: a fresh server's scrape shows them (a rate or an
    alert works before the first upload), the same whatever ran before."""
    for prefix in UPLOAD_PREFIXES:
        for result in ("created", "existing"):
            UPLOADS.labels(prefix, result)
    for fmt in images.OUTPUTS:
        THUMBNAILS.labels(fmt)


def init_views(files: Flask) -> None:
    count_from_zero()
    files.url_map.converters["hash"] = HashConverter
    files.url_map.converters["legacy"] = LegacyNameConverter
    import fileserver.video_views  # noqa: F401 - its routes join this blueprint

    files.register_blueprint(bp)
    files.register_blueprint(ops_blueprint(_ready, _info))  # /health /ready /version /info
