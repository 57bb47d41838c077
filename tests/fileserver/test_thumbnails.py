"""Thumbnails: allowed sizes only, cover and contain, webp/jpeg/png by parameter or Accept, made once
(also under a race of many first requests across two worker processes), then served from disk."""

import io
import threading

import pytest
import requests
from PIL import Image

from tests.fileserver.conftest import image_bytes


@pytest.fixture(scope="module")
def photo(files):
    """A 1200x800 JPEG."""
    response = files.upload(image_bytes("JPEG", (1200, 800)))
    assert response.status_code == 201
    return response.json()["data"][0]["image_hash"]


def get(files, digest: str, query: str = "", **headers):
    return requests.get(f"{files.url}/images/{digest}{query}", headers=headers, timeout=30)


def picture(response) -> Image.Image:
    return Image.open(io.BytesIO(response.content))


@pytest.mark.parametrize(
    ("fmt", "mimetype", "pillow"),
    [("webp", "image/webp", "WEBP"), ("jpeg", "image/jpeg", "JPEG"), ("png", "image/png", "PNG")],
)
def test_thumbnail_by_format_parameter(files, photo, fmt, mimetype, pillow):
    response = get(files, photo, f"?w=320&format={fmt}")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == mimetype
    assert picture(response).format == pillow
    assert picture(response).size == (320, 213)
    assert "Accept" in response.headers["Vary"]
    assert "immutable" in response.headers["Cache-Control"]


@pytest.mark.parametrize(
    ("accept", "mimetype"),
    [
        ("image/avif,image/webp,image/apng,image/*,*/*;q=0.8", "image/webp"),  # a browser's img Accept
        ("image/png", "image/png"),
        ("image/jpeg", "image/jpeg"),
        ("*/*", "image/jpeg"),  # no preference: the original's family
    ],
)
def test_thumbnail_format_negotiated_by_accept(files, photo, accept, mimetype):
    response = get(files, photo, "?w=160", Accept=accept)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == mimetype
    assert picture(response).size == (160, 107)
    assert "Accept" in response.headers["Vary"]


def test_thumbnail_of_transparent_png_keeps_alpha(files):
    digest = files.upload(image_bytes("PNG", (400, 400), mode="RGBA"), "a.png", content_type="image/png").json()[
        "data"
    ][0]["image_hash"]
    response = get(files, digest, "?w=64")
    assert response.headers["Content-Type"] == "image/png"
    assert picture(response).mode == "RGBA" and picture(response).size == (64, 64)


def test_thumbnail_cover_crops_and_contain_fits(files, photo):
    cover = get(files, photo, "?w=320&h=320&fit=cover")
    contain = get(files, photo, "?w=320&h=320&fit=contain")
    default = get(files, photo, "?w=320&h=320")
    assert picture(cover).size == (320, 320)
    assert picture(contain).size == (320, 213)
    assert default.content == contain.content
    assert cover.headers["ETag"] != contain.headers["ETag"]


def test_thumbnail_by_height_and_never_enlarged(files, photo):
    assert picture(get(files, photo, "?h=160")).size == (240, 160)
    assert picture(get(files, photo, "?w=1920")).size == (1200, 800)  # not enlarged


def test_thumbnail_width_height_aliases(files, photo):
    alias = get(files, photo, "?width=160&height=160&fit=cover&format=jpeg")
    short = get(files, photo, "?w=160&h=160&fit=cover&format=jpeg")
    assert alias.status_code == 200
    assert alias.content == short.content
    assert picture(alias).size == (160, 160)


def test_thumbnail_of_any_size_in_range_is_the_nearest_allowed(files, photo):
    """The existing apps ask for any width or height from 30 to 3000: they get the nearest allowed size."""
    assert get(files, photo, "?w=300&format=png").content == get(files, photo, "?w=320&format=png").content
    assert picture(get(files, photo, "?width=30&format=png")).size[0] == 64
    assert picture(get(files, photo, "?w=3000&format=png")).size == (1200, 800)  # 1920, not enlarged
    assert picture(get(files, photo, "?h=200&format=png")).size[1] == 160


@pytest.mark.parametrize(
    "query",
    [
        "?w=29",
        "?w=3001",
        "?w=0",
        "?w=abc",
        "?h=10000000",
        "?w=320&fit=stretch",
        "?w=320&format=gif",
        "?w=320&width=640",
        "?w=-320",
    ],
)
def test_thumbnail_with_disallowed_parameters_is_400(files, photo, query):
    response = get(files, photo, query)
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/json"
    assert response.json()["error"]


def test_thumbnail_sizes_come_from_config(small_files):
    digest = small_files.upload(image_bytes("JPEG", (300, 200))).json()["data"][0]["image_hash"]
    assert picture(get(small_files, digest, "?w=32")).size[0] == 32
    assert picture(get(small_files, digest, "?w=320")).size[0] == 64


def test_thumbnail_is_made_once_then_served_from_disk(files, photo):
    first = get(files, photo, "?w=640&format=webp")
    [cached] = [p for p in files.variants(photo) if p.name == "w640-h0-contain.webp"]
    made = files.version(cached)
    again = get(files, photo, "?w=640&format=webp")
    assert again.content == first.content
    assert again.headers["ETag"] == first.headers["ETag"]
    assert files.version(cached) == made
    revalidated = get(files, photo, "?w=640&format=webp", **{"If-None-Match": first.headers["ETag"]})
    assert revalidated.status_code == 304


def test_thumbnail_range_request_is_206(files, photo):
    whole = get(files, photo, "?w=1280&format=png").content
    part = get(files, photo, "?w=1280&format=png", Range="bytes=0-9")
    assert part.status_code == 206 and part.content == whole[:10]


def test_concurrent_first_requests_make_exactly_one_variant(files):
    digest = files.upload(image_bytes("JPEG", (2400, 1600))).json()["data"][0]["image_hash"]
    barrier = threading.Barrier(16)
    results = [None] * 16

    def fetch(index: int) -> None:
        barrier.wait()
        response = get(files, digest, "?w=1280&h=1280&fit=cover&format=webp")
        results[index] = (response.status_code, response.content)

    threads = [threading.Thread(target=fetch, args=(i,)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert {status for status, _ in results} == {200}
    assert len({body for _, body in results}) == 1
    assert [p.name for p in files.variants(digest)] == ["w1280-h1280-cover.webp"]
    assert (files.instance / "files.log").read_text().count(f"made variant w1280-h1280-cover.webp of {digest}") == 1
    if files.store == "local":  # no temporary file left beside it
        folder = files.media / "variants" / digest[:2] / digest
        assert not [p for p in folder.iterdir() if p.name.startswith(".tmp-")]
    assert picture(get(files, digest, "?w=1280&h=1280&fit=cover&format=webp")).size == (1280, 1280)
