"""Uploads: who may, what is accepted (decoded, not trusted by name), what is stored (once, re-encoded,
without metadata)."""

import base64
import hashlib
import hmac
import io
import json
import struct
import time
import zlib

import requests
from PIL import ExifTags, Image

from identity.keys import KeyStore
from tests.fileserver.conftest import image_bytes

HEX64 = "[0-9a-f]{64}"


def assert_error(response, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/json"
    assert isinstance(response.json()["error"], str) and response.json()["error"]
    assert "Traceback" not in response.text


def test_upload_by_creator_stores_the_image_once(files):
    data = image_bytes()
    response = files.upload(data)
    assert response.status_code == 201, response.text
    body = response.json()
    assert list(body) == ["data"] and len(body["data"]) == 1
    entry = body["data"][0]
    assert set(entry) == {"image_hash", "image_ref"}
    digest = entry["image_hash"]
    assert entry["image_ref"] == f"{files.url}/images/{digest}"
    stored = [path for path in files.stored() if path.name == digest]
    assert len(stored) == 1
    assert hashlib.sha256(stored[0].read_bytes()).hexdigest() == digest
    assert requests.get(entry["image_ref"], timeout=5).content == stored[0].read_bytes()


def test_upload_same_file_twice_is_stored_once(files):
    data = image_bytes("PNG", (300, 200))
    first = files.upload(data, "a.png", content_type="image/png")
    second = files.upload(data, "b.png", headers=files.bearer("creator", sub="99"), content_type="image/png")
    assert (first.status_code, second.status_code) == (201, 200)
    digest = first.json()["data"][0]["image_hash"]
    assert second.json()["data"][0]["image_hash"] == digest
    assert [p.name for p in files.stored()].count(digest) == 1
    assert b'"uploader":"1"' in files.meta("images", digest)


def test_upload_by_admin_is_accepted(files):
    assert files.upload(image_bytes(), headers=files.bearer("admin", sub="2")).status_code == 201


def test_upload_anonymous_is_401(files):
    response = files.upload(image_bytes(), headers={})
    assert_error(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_upload_by_plain_user_is_403(files):
    assert_error(files.upload(image_bytes(), headers=files.bearer("user", sub="3")), 403)


def test_upload_with_expired_token_is_401(files):
    response = files.upload(image_bytes(), headers=files.bearer("creator", ttl=-60))
    assert_error(response, 401)
    assert "expired" in response.json()["error"]


def test_upload_with_token_of_unknown_key_is_401(files, tmp_path):
    stranger = KeyStore(str(tmp_path / "other-keys"))
    assert_error(files.upload(image_bytes(), headers=files.bearer("admin", keys=stranger)), 401)


def test_upload_with_wrong_audience_or_issuer_is_401(files):
    assert_error(files.upload(image_bytes(), headers=files.bearer("creator", audience="someone-else")), 401)
    assert_error(files.upload(image_bytes(), headers=files.bearer("creator", issuer="evil")), 401)


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def forged_token(alg: str, kid: str, key: bytes | None) -> str:
    claims = {
        "sub": "1",
        "role": "admin",
        "iss": "festivals-identity",
        "aud": "festivals",
        "iat": int(time.time()),
        "exp": int(time.time()) + 600,
        "jti": "x",
    }
    unsigned = (
        f"{b64url(json.dumps({'alg': alg, 'typ': 'JWT', 'kid': kid}).encode())}.{b64url(json.dumps(claims).encode())}"
    )
    signature = hmac.new(key, unsigned.encode(), hashlib.sha256).digest() if key else b""
    return f"{unsigned}.{b64url(signature)}"


def test_upload_with_hs256_token_signed_with_the_public_key_is_401(files):
    public_pem = files.keys.current.public_pem().encode()
    forged = forged_token("HS256", files.keys.current.kid, public_pem)
    assert_error(files.upload(image_bytes(), headers={"Authorization": f"Bearer {forged}"}), 401)


def test_upload_with_unsigned_alg_none_token_is_401(files):
    forged = forged_token("none", files.keys.current.kid, None)
    assert_error(files.upload(image_bytes(), headers={"Authorization": f"Bearer {forged}"}), 401)


def test_upload_without_image_field_is_400(files):
    response = requests.post(
        f"{files.url}/images/upload", files={"file": ("a.jpg", image_bytes())}, headers=files.bearer(), timeout=10
    )
    assert_error(response, 400)


def test_upload_of_non_image_named_jpg_is_400(files):
    before = files.stored()
    assert_error(files.upload(b"<html><script>alert(1)</script></html>" * 20, "photo.jpg"), 400)
    assert files.stored() == before


def test_upload_of_other_image_format_is_400(files):
    assert_error(files.upload(image_bytes("BMP", (64, 64)), "photo.jpg"), 400)


def test_upload_of_truncated_jpeg_is_400(files):
    data = image_bytes()
    assert_error(files.upload(data[: len(data) // 2]), 400)


def png_declaring(width: int, height: int) -> bytes:
    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 4096))
        + chunk(b"IEND", b"")
    )


def test_upload_of_decompression_bomb_is_400(files):
    bomb = png_declaring(100_000, 100_000)  # 10 gigapixels declared in a few hundred bytes
    assert len(bomb) < 1000
    response = files.upload(bomb, "bomb.png", content_type="image/png")
    assert_error(response, 400)
    assert "pixels" in response.json()["error"]


def plain_jpeg(size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(out, "JPEG")
    return out.getvalue()


def test_upload_over_pixel_limit_is_400(small_files):
    response = small_files.upload(plain_jpeg((1200, 1000)))  # 1.2 megapixels, limit 1
    assert_error(response, 400)
    assert "1000000" in response.json()["error"]
    assert small_files.upload(plain_jpeg((1000, 1000))).status_code == 201


def test_upload_over_size_limit_is_413(small_files):
    before = small_files.stored()
    assert_error(small_files.upload(b"\xff\xd8" + b"\0" * 210_000), 413)  # the file over 200 kB
    response = small_files.upload(b"\xff\xd8" + b"\0" * 8_000_000)  # the whole body over the limit
    assert_error(response, 413)
    assert "200000" in response.json()["error"]
    assert small_files.stored() == before


def test_upload_of_polyglot_stores_a_reencoded_copy_without_the_payload(files):
    payload = b"%PDF-1.4\n1 0 obj<<>>endobj\n<html><script>alert(document.domain)</script></html>"
    for fmt, name in (("GIF", "x.gif"), ("JPEG", "x.jpg")):
        original = image_bytes(fmt, (120, 80))
        response = files.upload(original + payload, name)
        assert response.status_code == 201, response.text  # a valid image: accepted ...
        digest = response.json()["data"][0]["image_hash"]
        served = requests.get(f"{files.url}/images/{digest}", timeout=5)
        assert b"<script>" not in served.content and b"%PDF" not in served.content  # ... payload gone
        assert hashlib.sha256(served.content).hexdigest() != hashlib.sha256(original + payload).hexdigest()
        assert served.headers["Content-Type"] == f"image/{fmt.lower()}"
        assert served.headers["X-Content-Type-Options"] == "nosniff"
        assert Image.open(io.BytesIO(served.content)).size == (120, 80)


def gps_tagged_jpeg() -> bytes:
    image = Image.new("RGB", (400, 200), (0, 0, 255))
    image.paste((255, 0, 0), (0, 0, 100, 200))  # red on the left, blue elsewhere
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6  # shown rotated 90° clockwise
    exif[ExifTags.Base.Make] = "TestCam"
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (51.0, 20.0, 0.0),
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: (12.0, 22.0, 0.0),
    }
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=95, comment=b"secret comment")
    return out.getvalue()


def test_upload_strips_gps_and_exif_and_applies_orientation(files):
    original = gps_tagged_jpeg()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the upload has GPS
    response = files.upload(original)
    assert response.status_code == 201
    digest = response.json()["data"][0]["image_hash"]
    stored = next(p for p in files.stored() if p.name == digest).read_bytes()
    image = Image.open(io.BytesIO(stored))
    assert image.size == (200, 400)  # rotated as the orientation said
    assert len(image.getexif()) == 0 and "exif" not in image.info
    assert b"Exif" not in stored and b"TestCam" not in stored and b"secret comment" not in stored
    top, bottom = image.convert("RGB").getpixel((100, 20)), image.convert("RGB").getpixel((100, 380))
    assert top[0] > 200 and top[2] < 60  # the red stripe, once on the left, is now on top
    assert bottom[2] > 200 and bottom[0] < 60


def encoded(image: Image.Image, fmt: str, **save) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **save)
    return out.getvalue()


def test_upload_of_camera_mpo_is_stored_as_a_single_jpeg(files):
    frame = Image.open(io.BytesIO(image_bytes(size=(300, 200))))
    mpo = encoded(frame, "MPO", save_all=True, append_images=[frame.rotate(180)])
    assert Image.open(io.BytesIO(mpo)).format == "MPO"
    response = files.upload(mpo)
    assert response.status_code == 201, response.text
    served = requests.get(response.json()["data"][0]["image_ref"], timeout=5)
    assert served.headers["Content-Type"] == "image/jpeg"
    stored = Image.open(io.BytesIO(served.content))
    assert (stored.format, stored.size, getattr(stored, "n_frames", 1)) == ("JPEG", (300, 200), 1)


def test_upload_of_animated_gif_keeps_the_first_frame(files):
    first = Image.new("RGB", (90, 60), (255, 0, 0))
    second = Image.new("RGB", (90, 60), (0, 0, 255))
    gif = encoded(first, "GIF", save_all=True, append_images=[second], duration=100, loop=0)
    assert Image.open(io.BytesIO(gif)).n_frames == 2
    response = files.upload(gif, "anim.gif", content_type="image/gif")
    assert response.status_code == 201, response.text
    served = requests.get(response.json()["data"][0]["image_ref"], timeout=5)
    stored = Image.open(io.BytesIO(served.content))
    assert (served.headers["Content-Type"], stored.n_frames, stored.size) == ("image/gif", 1, (90, 60))


def test_media_and_its_folders_are_owner_only(local_files):
    """Issue 13, finding 12: media is not world-readable on disk (visitors get it over HTTP)."""
    import stat

    uploaded = local_files.upload(image_bytes(size=(64, 48)))
    assert uploaded.status_code in (200, 201)
    digest = uploaded.json()["data"][0]["image_hash"]
    assert requests.get(f"{local_files.url}/images/{digest}?w=64", timeout=10).status_code == 200

    assert stat.S_IMODE(local_files.media.stat().st_mode) == 0o700
    mine = [path for path in local_files.media.rglob("*") if path.is_file() and digest in str(path)]
    assert len(mine) >= 3  # the original, its sidecar, a thumbnail
    assert all(stat.S_IMODE(path.stat().st_mode) & 0o077 == 0 for path in mine), [
        (str(path), oct(path.stat().st_mode)) for path in mine
    ]
