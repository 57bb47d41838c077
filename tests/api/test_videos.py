"""Videos in API v1 (issue 25): the `videos` entity and the additive to-one `video` relation of festivals,
artists and events; a client that never asks for `include=video` reads exactly the bytes it read before."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import icalendar
import orjson
import pytest

from app.data_versions import bump
from app.db import db
from app.models.relations import ArtistVideo, EventVideo, FestivalVideo

FILES = "https://files.festivals.example.org"
T0 = int(datetime(2027, 7, 16, 16, 0, tzinfo=UTC).timestamp())
ACTS = [
    "Die Ärzte der Nacht",
    "Jördis Müller-Lüdenscheidt",
    "Männerchor Öhringen",
    "Björn Süßholz & die Überflieger",
    "Kapelle Grünwald",
    "Fräulein Wunder",
    "Schöneberger Blechbläser",
    "Lürßen-Quartett",
    "Die Größenwahnsinnigen",
    "Käthe Übermut",
    "Jürgen Döbeling Trio",
    "Orchester der Tüftler",
    "Hänsel & Grätel",
    "Böhmische Löwen",
    "Straßenmusik Düsseldorf",
    "Günther Fröhlich",
    "Ännchen von Tharau",
    "Die Bürgermeisterinnen",
    "Mühlenhof-Kollektiv",
    "Sören Kühn",
    "Zwölf Fünfzehn",
    "Wölfe vom Mönchsberg",
    "Die Gebrüder Schäfer",
    "Übersee-Ensemble Lübeck",
    "Rüdiger Säger",
]


@pytest.fixture
def festivals(factory, creator):
    """Two festivals in two time zones, 25 acts with events on them, images, links and places."""
    made = []
    for name, zone in (("Sommerklänge am Wörthersee", "Europe/Vienna"), ("Südstadt-Fest Montréal", "America/Toronto")):
        festival = factory.create("festival", creator, name=name, timezone=zone, start=T0, end=T0 + 3 * 86400)
        fid = festival["festival_id"]
        image = factory.create("image", creator, ref=f"{FILES}/images/{'a' * 64}", hash="a" * 64)["image_id"]
        factory.link("festival", fid, "image", image, creator)
        place = factory.create("place", creator, town="Klagenfurt am Wörthersee", street="Süduferstraße 1")
        factory.link("festival", fid, "place", place["place_id"], creator)
        artists, events = [], []
        for number, act in enumerate(ACTS):
            artist = factory.create("artist", creator, name=f"{act} ({name[:6]})")["artist_id"]
            event = factory.create(
                "event", creator, name=f"{act} live", start=T0 + number * 3600, end=T0 + number * 3600 + 2700
            )["event_id"]
            factory.link("festival", fid, "events", event, creator)
            factory.link("event", event, "artist", artist, creator)
            artists.append(artist)
            events.append(event)
        made.append({"festival": fid, "artists": artists, "events": events})
    return made


def _video(client, headers, **fields) -> int:
    body = {
        "video_ref": f"{FILES}/videos/{'b' * 64}",
        "video_hash": "b" * 64,
        "video_duration": 94.5,
        "video_width": 1920,
        "video_height": 1080,
        "video_mime": "video/mp4",
        **fields,
    }
    response = client.post("/api/v1/videos", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["data"][0]["video_id"]


def test_video_create_answers_every_field(client, writer):
    response = client.post(
        "/api/v1/videos",
        json={
            "video_ref": f"{FILES}/videos/{'c' * 64}",
            "video_hash": "c" * 64,
            "video_duration": 12.04,
            "video_width": 1280,
            "video_height": 720,
            "video_mime": "video/webm",
        },
        headers=writer,
    )

    assert response.status_code == 201, response.get_json()
    video = response.get_json()["data"][0]
    assert video == {
        "video_id": video["video_id"],
        "video_hash": "c" * 64,
        "video_ref": f"{FILES}/videos/{'c' * 64}",
        "video_duration": 12.04,
        "video_width": 1280,
        "video_height": 720,
        "video_mime": "video/webm",
    }


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("video_mime", "application/pdf", "must be video/mp4 or video/webm"),
        ("video_duration", -1, "must be at least 0"),
        ("video_width", 1.5, "must be a whole number"),
        ("video_ref", "ftp://files.example.org/v", "must be an absolute URL"),
    ],
)
def test_video_create_with_bad_field_is_refused_with_its_message(client, writer, field, value, message):
    body = {"video_ref": f"{FILES}/videos/{'d' * 64}", field: value}

    response = client.post("/api/v1/videos", json=body, headers=writer)

    assert response.status_code == 400, response.get_json()
    assert message in response.get_json()["error"]


def test_video_ref_on_another_host_is_refused_when_a_file_server_is_configured(make_app, factory):
    app = make_app(FILES_URL=FILES)
    writer = factory.bearer(factory.user("creator"))
    client = app.test_client()

    foreign = client.post("/api/v1/videos", json={"video_ref": "https://evil.example.net/videos/x"}, headers=writer)
    ours = client.post("/api/v1/videos", json={"video_ref": f"{FILES}/videos/{'e' * 64}"}, headers=writer)

    assert foreign.status_code == 400
    assert "video_ref must be a file on the file server" in foreign.get_json()["error"]
    assert ours.status_code == 201


@pytest.mark.parametrize("owner", ["festivals", "artists", "events"])
def test_video_link_is_to_one_and_removable(client, writer, factory, creator, owner):
    entity = owner[:-1]
    owner_id = factory.create(entity, creator)[f"{entity}_id"]
    first, second = _video(client, writer), _video(client, writer, video_mime="video/webm")

    assert client.post(f"/api/v1/{owner}/{owner_id}/video/{first}", headers=writer).status_code == 200
    assert client.post(f"/api/v1/{owner}/{owner_id}/video/{second}", headers=writer).status_code == 200
    linked = client.get(f"/api/v1/{owner}/{owner_id}/video", headers=writer).get_json()["data"]
    included = client.get(f"/api/v1/{owner}/{owner_id}?include=video", headers=writer).get_json()["data"][0]
    removed = client.delete(f"/api/v1/{owner}/{owner_id}/video/{second}", headers=writer)
    after = client.get(f"/api/v1/{owner}/{owner_id}?include=video", headers=writer).get_json()["data"][0]

    assert [video["video_id"] for video in linked] == [second]
    assert [video["video_mime"] for video in included["include"]["video"]] == ["video/webm"]
    assert removed.status_code == 200
    assert after["include"]["video"] == []
    assert client.get(f"/api/v1/videos/{second}", headers=writer).status_code == 200  # the video itself stays


def test_video_link_by_another_creator_is_forbidden(client, writer, factory, creator):
    festival = factory.create("festival", creator)["festival_id"]
    stranger = factory.bearer(factory.user("creator"))
    theirs = _video(client, stranger)

    response = client.post(f"/api/v1/festivals/{festival}/video/{theirs}", headers=stranger)

    assert response.status_code in (403, 404)
    assert client.get(f"/api/v1/festivals/{festival}/video", headers=writer).get_json()["data"] == []


def test_answers_without_include_video_are_byte_identical(app, client, writer, festivals):
    """What the existing apps ask for, with every festival, artist and event holding a video and with the
    same rows holding none: the same bytes. (Linking itself raises the owner's version, as any link does.)"""
    first = festivals[0]
    reads = [
        "/api/v1/festivals",
        "/api/v1/festivals?include=image,link,place,tag",
        f"/api/v1/festivals/{first['festival']}?include=image,links,place,tags,events",
        f"/api/v1/festivals/{first['festival']}/events?include=artist,location,image",
        "/api/v1/events?include=artist,location,image,festival",
        "/api/v1/artists?include=image,links,tags",
        f"/api/v1/artists/{first['artists'][3]}",
        f"/api/v1/events/{first['events'][7]}?include=artist",
        "/api/v1/images",
    ]
    for made in festivals:
        client.post(f"/api/v1/festivals/{made['festival']}/video/{_video(client, writer)}", headers=writer)
        for artist, event in zip(made["artists"], made["events"], strict=True):
            client.post(f"/api/v1/artists/{artist}/video/{_video(client, writer)}", headers=writer)
            client.post(f"/api/v1/events/{event}/video/{_video(client, writer)}", headers=writer)
    with_videos = [client.get(path, headers=writer).get_data() for path in reads]
    linked = client.get(f"/api/v1/festivals/{first['festival']}?include=video", headers=writer).get_json()

    tables = [table._meta.table_name for table in (FestivalVideo, ArtistVideo, EventVideo)]
    with app.app_context(), db.atomic():  # the links gone without touching the owners' versions
        for table in tables:
            db.execute_sql(f'DELETE FROM "{table}"')
        bump(app.extensions["database"], tables)
    without_videos = [client.get(path, headers=writer).get_data() for path in reads]

    assert len(linked["data"][0]["include"]["video"]) == 1
    assert len(orjson.loads(with_videos[4])["data"]) == 2 * len(ACTS)
    for path, old, new in zip(reads, without_videos, with_videos, strict=True):
        assert new == old, path


def test_exports_link_an_events_video(client, writer, factory, creator):
    festival = factory.create("festival", creator, name="Kurzfilmnächte Göttingen", start=T0, end=T0 + 86400)
    fid = festival["festival_id"]
    event = factory.create("event", creator, name="Trailer-Premiere", start=T0 + 3600, end=T0 + 7200)["event_id"]
    factory.link("festival", fid, "events", event, creator)
    ref = f"{FILES}/videos/{'f' * 64}"
    client.post(f"/api/v1/events/{event}/video/{_video(client, writer, video_ref=ref)}", headers=writer)

    frab = client.get(f"/api/v1/festivals/{fid}/schedule.json", headers=writer).get_json()
    xml = ET.fromstring(client.get(f"/api/v1/festivals/{fid}/schedule.xml", headers=writer).get_data())
    ics = icalendar.Calendar.from_ical(client.get(f"/api/v1/festivals/{fid}/schedule.ics", headers=writer).get_data())

    frab_events = [
        item for day in frab["schedule"]["conference"]["days"] for room in day["rooms"].values() for item in room
    ]
    assert [item["links"] for item in frab_events] == [[{"url": ref, "title": "Video"}]]
    assert [(link.get("href"), link.text) for link in xml.iter("link")] == [(ref, "Video")]
    (vevent,) = ics.walk("VEVENT")
    assert str(vevent["ATTACH"]) == ref
    assert vevent["ATTACH"].params["FMTTYPE"] == "video/mp4"
