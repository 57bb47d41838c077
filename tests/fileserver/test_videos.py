"""Videos on the file server (issue 25), against the real gunicorn process: uploads checked by probing the
container and streams (never the name or declared type), stored once without metadata, limits on size (413,
also cut off mid-stream) and duration (422) with nothing stored, downloads with ETag/304/Range, posters."""

from __future__ import annotations

import hashlib
import http.client
import io
import os
import socket

import av
import pytest
import requests
from PIL import Image

from tests.fileserver.conftest import start_server, store_of
from tests.fileserver.test_delete_and_documents import pdf_bytes
from tests.fileserver.test_upload import assert_error
from tests.processes import starts_process
from tests.videos import POSTER_COLOUR, TRAILER_METADATA, samples

HEX64 = "0123456789abcdef"


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    return samples(tmp_path_factory.mktemp("clips"))


@pytest.fixture(scope="module", params=["local", "s3"])
@starts_process
def small_videos(tmp_path_factory, request):
    """Videos up to 120,000 bytes and 3 seconds, on each media store."""
    server = start_server(
        tmp_path_factory,
        "small-videos",
        store_of(request),
        FESTIVALS_MAX_VIDEO_BYTES="120000",
        FESTIVALS_MAX_VIDEO_SECONDS="3",
    )
    yield server
    server.stop()


def upload(files, path, name="clip.bin", content_type="application/octet-stream", headers=None):
    """Named and typed as nothing in particular: the probe decides."""
    data = path.read_bytes() if hasattr(path, "read_bytes") else path
    return files.upload(data, name, headers, field="video", path="/videos/upload", content_type=content_type)


def stored_videos(files):
    """Stored videos (not their sidecars, not their `<hash>.<ext>` links)."""
    return [stored for stored in files.stored("videos") if "." not in stored.name]


def probe(data: bytes):
    with av.open(io.BytesIO(data)) as container:
        return (
            container.format.name,
            dict(container.metadata),
            [(stream.type, stream.codec_context.name) for stream in container.streams],
        )


def test_video_upload_mp4_is_probed_and_stored_once_without_metadata(files, clips):
    first = upload(files, clips["mp4"])
    second = upload(files, clips["mp4"], "anders.mp4", "video/mp4", files.bearer("creator", sub="77"))

    assert (first.status_code, second.status_code) == (201, 200), first.text
    video = first.json()["data"][0]
    digest = video["video_hash"]
    assert video == {
        "video_hash": digest,
        "video_ref": f"{files.url}/videos/{digest}",
        "video_duration": 3.008,
        "video_width": 320,
        "video_height": 180,
        "video_mime": "video/mp4",
    }
    assert second.json()["data"][0] == video
    (stored,) = [path for path in stored_videos(files) if path.name == digest]
    data = stored.read_bytes()
    assert hashlib.sha256(data).hexdigest() == digest
    container, metadata, streams = probe(data)
    assert streams == [("video", "h264"), ("audio", "aac")]
    for key, value in TRAILER_METADATA.items():
        assert key not in metadata and value not in str(metadata)
        assert value.encode() not in data
    assert data[4:8] == b"ftyp" and data.index(b"moov") < data.index(b"mdat")  # the index first: plays while loading
    assert b'"uploader":"1"' in files.meta("videos", digest)


@pytest.mark.parametrize(
    ("clip", "codecs", "size"),
    [("webm", ("vp9", "opus"), (320, 180)), ("vp8", ("vp8", "opus"), (160, 90)), ("silent", ("vp9",), (320, 180))],
)
def test_video_upload_webm_is_accepted(files, clips, clip, codecs, size):
    response = upload(files, clips[clip], "trailer.mp4", "video/mp4")  # name and type say MP4: the probe decides

    assert response.status_code == 201, response.text
    video = response.json()["data"][0]
    assert video["video_mime"] == "video/webm"
    assert (video["video_width"], video["video_height"]) == size
    download = requests.get(video["video_ref"], timeout=30)
    assert download.headers["Content-Type"] == "video/webm"
    assert [codec for _, codec in probe(download.content)[2]] == list(codecs)


@pytest.mark.parametrize(
    ("clip", "words"),
    [
        ("truncated", "truncated"),
        ("truncated_mp4", "truncated"),
        ("audio", "no video stream"),
        ("pdf", "not a video"),
        ("text", "not a video"),
    ],
)
def test_video_upload_of_what_is_not_a_whole_video_is_400_and_nothing_stored(files, clips, clip, words):
    before = stored_videos(files)
    data = {"pdf": pdf_bytes(), "text": b"Ein Trailer? Nein." * 500}.get(clip) or clips[clip].read_bytes()

    response = upload(files, data, "trailer.mp4", "video/mp4")

    assert_error(response, 400)
    assert words in response.json()["error"]
    assert stored_videos(files) == before
    assert requests.get(f"{files.url}/health", timeout=10).status_code == 200


def test_video_upload_needs_a_writer(files, clips):
    assert_error(upload(files, clips["mp4"], headers={}), 401)
    assert_error(upload(files, clips["mp4"], headers=files.bearer("user", sub="5")), 403)
    assert_error(files.upload(b"", field="other", path="/videos/upload"), 400)


def test_video_longer_than_the_limit_is_422_and_nothing_stored(small_videos, clips):
    response = upload(small_videos, clips["mp4"])  # 3.008 s; the limit is 3 s

    assert_error(response, 422)
    assert "limit is 3 seconds" in response.json()["error"]
    assert stored_videos(small_videos) == []


def _raw_upload(server, declared: int, sent: int, chunked: bool = False) -> tuple[int | None, str]:
    """A multipart upload written by hand: `declared` bytes announced (or chunked), `sent` bytes of file sent
    and then the connection closed. (status, body) when the server answered, (None, "") when it hung up."""
    boundary = "festivals-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="video"; filename="gross.mp4"\r\n'
        "Content-Type: video/mp4\r\n\r\n"
    ).encode()
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        connection.putrequest("POST", "/videos/upload")
        for key, value in server.bearer().items():
            connection.putheader(key, value)
        connection.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
        if chunked:
            connection.putheader("Transfer-Encoding", "chunked")
        else:
            connection.putheader("Content-Length", str(len(head) + declared))
        connection.endheaders()
        chunk = b"\0\0\0\x20ftypisom" + os.urandom(64 * 1024 - 12)
        pieces = [head] + [chunk] * (sent // len(chunk))
        try:
            for piece in pieces:
                connection.send(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
            if chunked:
                connection.send(b"0\r\n\r\n")
            elif sent < declared:
                connection.sock.shutdown(socket.SHUT_WR)  # hang up mid-stream; still read the answer
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server stopped reading at the limit
        try:
            response = connection.getresponse()
            return response.status, response.read().decode()
        except (TimeoutError, http.client.HTTPException, ConnectionError):
            return None, ""
    finally:
        connection.close()


def test_video_larger_than_the_limit_is_413_and_nothing_stored(small_videos, clips):
    declared = _raw_upload(small_videos, declared=50_000_000, sent=0)  # refused on the announced size alone
    streamed = _raw_upload(small_videos, declared=0, sent=3_000_000, chunked=True)  # no size announced: cut off
    hung_up = _raw_upload(small_videos, declared=100_000, sent=64 * 1024)  # the client stops mid-stream

    assert declared[0] == 413 and "limit of 120000 bytes" in declared[1]
    assert streamed[0] in (413, None), streamed  # answered, or the connection closed while we still sent
    assert hung_up[0] in (400, None), hung_up
    assert stored_videos(small_videos) == []
    assert requests.get(f"{small_videos.url}/health", timeout=10).status_code == 200
    assert upload(small_videos, clips["vp8"]).status_code == 201  # still takes the next upload (2 s)


def test_video_download_has_cache_headers_304_and_range_seeks(files, clips):
    video = upload(files, clips["webm"]).json()["data"][0]
    url = video["video_ref"]
    whole = requests.get(url, timeout=30)
    data = whole.content

    assert whole.status_code == 200
    assert whole.headers["Content-Type"] == "video/webm"
    assert whole.headers["Accept-Ranges"] == "bytes"
    assert "immutable" in whole.headers["Cache-Control"] and "max-age=31536000" in whole.headers["Cache-Control"]
    etag = whole.headers["ETag"]
    assert video["video_hash"] in etag
    assert requests.get(url, headers={"If-None-Match": etag}, timeout=10).status_code == 304
    for start, end in ((0, 99), (len(data) // 2, len(data) // 2 + 4095), (len(data) - 10, len(data) - 1), (1000, 1000)):
        part = requests.get(url, headers={"Range": f"bytes={start}-{end}"}, timeout=10)
        assert part.status_code == 206
        assert part.headers["Content-Range"] == f"bytes {start}-{end}/{len(data)}"
        assert part.content == data[start : end + 1]
    suffix = requests.get(url, headers={"Range": "bytes=-500"}, timeout=10)
    assert (suffix.status_code, suffix.content) == (206, data[-500:])
    assert requests.get(url, headers={"Range": f"bytes={len(data) + 10}-"}, timeout=10).status_code == 416
    assert_error(requests.get(f"{files.url}/videos/{'0' * 64}", timeout=10), 404)


def test_video_poster_is_a_frame_in_image_sizes_and_formats_made_once(files, clips):
    video = upload(files, clips["mp4"]).json()["data"][0]
    poster = f"{video['video_ref']}/poster"

    webp = requests.get(f"{poster}?w=160", headers={"Accept": "image/webp,*/*"}, timeout=60)
    made = {stored.name: files.version(stored) for stored in files.variants(video["video_hash"])}
    again = requests.get(f"{poster}?w=160", headers={"Accept": "image/webp,*/*"}, timeout=60)
    kept = {stored.name: files.version(stored) for stored in files.variants(video["video_hash"])}
    jpeg = requests.get(f"{poster}?w=150&format=jpeg", timeout=60)  # 150: the nearest allowed size, 160
    full = requests.get(poster, timeout=60)

    assert webp.status_code == 200, webp.text
    assert webp.headers["Content-Type"] == "image/webp"
    assert "immutable" in webp.headers["Cache-Control"] and "Accept" in webp.headers["Vary"]
    image = Image.open(io.BytesIO(webp.content))
    assert image.size == (160, 90)
    red, green, blue = image.convert("RGB").getpixel((40, 45))  # not black: past the fade-in
    assert abs(red - POSTER_COLOUR[0]) < 40 and abs(blue - POSTER_COLOUR[2]) < 40 and red > 100
    assert again.content == webp.content
    assert kept == made and set(made) == {"poster-frame.png", "poster-w160-h0-contain.webp"}
    assert (jpeg.headers["Content-Type"], Image.open(io.BytesIO(jpeg.content)).size) == ("image/jpeg", (160, 90))
    assert Image.open(io.BytesIO(full.content)).size == (320, 180)  # never enlarged
    assert (
        requests.get(
            f"{poster}?w=160", headers={"If-None-Match": webp.headers["ETag"], "Accept": "image/webp"}, timeout=10
        ).status_code
        == 304
    )
    assert_error(requests.get(f"{poster}?w=7", timeout=10), 400)
    assert_error(requests.get(f"{files.url}/videos/{'1' * 64}/poster?w=160", timeout=10), 404)


def test_video_delete_by_uploader_only_removes_file_and_posters(files, clips):
    owner = files.bearer("creator", sub="31")
    video = upload(files, clips["silent"], headers=owner).json()["data"][0]
    digest = video["video_hash"]
    requests.get(f"{video['video_ref']}/poster?w=64", timeout=60)

    stranger = requests.delete(video["video_ref"], headers=files.bearer("creator", sub="32"), timeout=10)
    deleted = requests.delete(video["video_ref"], headers=owner, timeout=10)

    assert_error(stranger, 403)
    assert deleted.status_code == 204
    assert_error(requests.get(video["video_ref"], timeout=10), 404)
    assert digest not in [path.name for path in stored_videos(files)]
    assert files.variants(digest) == []
