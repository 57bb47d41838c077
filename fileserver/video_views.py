"""The file server's video routes (same blueprint, authentication and ownership rules as images):
upload (probe, remux without metadata, store once by content hash), download with Range, poster frames."""

from __future__ import annotations

import os
import tempfile
import time

from flask import current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

from fileserver import images, videos
from fileserver.auth import require_writer
from fileserver.config import MULTIPART_ALLOWANCE
from fileserver.http import FilesError
from fileserver.storage import EXTENSIONS
from fileserver.views import bp, delete_stored, ensure_made, open_stored, send_stored, storage, stored_answer

POSTER_FRAME = "poster-frame.png"  # the decoded frame, kept so that each poster size is one resize, not a decode


def _too_large(limit: int) -> FilesError:
    return FilesError(413, f"the video is larger than the limit of {limit} bytes")


def uploaded_video():
    """The upload's file object: werkzeug spooled it to a temporary file as it arrived (never whole in memory)
    and stops reading at the limit. FilesError 413 over the limit, 400 without a file."""
    limit = current_app.config["MAX_VIDEO_BYTES"]
    request.max_content_length = limit + MULTIPART_ALLOWANCE
    try:
        upload = request.files.get("video")
    except RequestEntityTooLarge:
        raise _too_large(limit) from None
    if upload is None:
        raise FilesError(400, "send the file as multipart/form-data field 'video'")
    size = upload.stream.seek(0, os.SEEK_END)
    upload.stream.seek(0)
    if size > limit:
        raise _too_large(limit)
    if not size:
        raise FilesError(400, "the file is empty")
    return upload.stream


@bp.post("/videos/upload")
def upload_video():
    claims = require_writer()
    source = uploaded_video()
    with tempfile.TemporaryDirectory(prefix="festivals-video-") as work:  # removed whatever happens
        target = os.path.join(work, "remuxed")
        probe = videos.remux(source, target, current_app.config["MAX_VIDEO_SECONDS"])
        with open(target, "rb") as remuxed:
            digest, created = storage().put_file(
                "videos",
                remuxed,
                {
                    "mimetype": probe.mimetype,
                    "duration": probe.duration,
                    "width": probe.width,
                    "height": probe.height,
                    "video_codec": probe.video_codec,
                    "audio_codec": probe.audio_codec,
                    "uploader": claims["sub"],
                    "uploaded_at": int(time.time()),
                },
            )
    # the probe's findings named as the API's video fields, ready to be sent to POST /api/v1/videos
    found = {
        "video_duration": probe.duration,
        "video_width": probe.width,
        "video_height": probe.height,
        "video_mime": probe.mimetype,
    }
    return stored_answer("videos", "video", digest, created, found)


def _video_meta(digest: str) -> dict:
    meta = storage().read_meta("videos", digest)
    if meta is None:
        raise FilesError(404, "not found")
    return meta


@bp.get("/videos/<hash:digest>")
def get_video(digest: str):
    meta = _video_meta(digest)
    mimetype = meta["mimetype"]
    storage().link_public(digest, mimetype, "videos")
    return send_stored(open_stored("videos", digest), mimetype, digest, digest + EXTENSIONS[mimetype])


@bp.get("/videos/<hash:digest>/poster")
def get_poster(digest: str):
    """A frame at about 10% of the duration in the sizes and formats of image thumbnails (?w= ?h= ?fit=
    ?format=, webp when Accept names it); without a size the largest allowed. Made once, then served stored."""
    meta = _video_meta(digest)
    sizes = current_app.config["THUMB_SIZES"]
    variant = images.parse_variant(request.args, request.accept_mimetypes, {"mimetype": "image/jpeg"}, sizes)
    if variant is None or (variant.width is None and variant.height is None):
        fmt = variant.format if variant else images.negotiate(request.accept_mimetypes, "image/jpeg", False)
        variant = images.Variant(sizes[-1], None, "contain", fmt)

    def make_frame() -> bytes:
        with storage().local_copy("videos", digest) as video:
            return videos.poster_frame(video, float(meta.get("duration") or 0))

    def make_poster() -> bytes:
        frame = ensure_made(digest, POSTER_FRAME, "image/png", make_frame)
        try:
            return images.make_variant(frame.file, variant)
        finally:
            frame.file.close()

    name = f"poster-{variant.name}"
    response = send_stored(
        ensure_made(digest, name, variant.mimetype, make_poster), variant.mimetype, f"{digest}-{name}", name
    )
    response.vary.add("Accept")
    return response


@bp.delete("/videos/<hash:digest>")
def delete_video(digest: str):
    return delete_stored("videos", digest)
