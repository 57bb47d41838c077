"""Videos in the portal through the Flask test client: the form the page's script fills from the file server's
answer is saved for a festival, an artist and an event, shown with its poster, refused when incomplete or not
the owner's, and removed again."""

from __future__ import annotations

import re

import pytest

from tests.identity.test_pages import client_for, log_in, text
from tests.portal.test_creator_pages import add_event, new_festival, token

FILES = "https://files.festivals.example.org"
DIGEST = "ab" * 32


@pytest.fixture
def portal(make_app, creator):
    app = make_app(FILES_URL=FILES)
    client = client_for(app)
    assert log_in(client, creator.email).status_code == 303
    return client


def uploaded(client, page: str, **fields) -> dict:
    """What static/js/videos.js puts into the form after the file server answered."""
    return {
        "csrf_token": token(client, page),
        "next": page,
        "video_hash": DIGEST,
        "video_ref": f"{FILES}/videos/{DIGEST}",
        "video_mime": "video/webm",
        "video_duration": "94.52",
        "video_width": "1920",
        "video_height": "1080",
        **fields,
    }


def owner_pages(client, factory, creator):
    festival = new_festival(client, "Kurzfilmtage Görlitz")
    assert add_event(client, festival, "Trailer-Premiere", "18:00", "19:00").status_code in (200, 303)
    event = int(re.search(r'id="event-(\d+)"', text(client.get(f"/festivals/{festival}/events"))).group(1))
    artist = factory.create("artist", creator, name="Jördis Müller")["artist_id"]
    return {
        "festival": (festival, f"/festivals/{festival}"),
        "artist": (artist, f"/library/artists/{artist}"),
        "event": (event, f"/festivals/{festival}/events/{event}/edit"),
    }


@pytest.mark.parametrize("entity", ["festival", "artist", "event"])
def test_video_saved_shows_its_poster_and_is_removed(portal, factory, creator, entity):
    entity_id, page = owner_pages(portal, factory, creator)[entity]

    saved = portal.post(f"/videos/{entity}/{entity_id}", data=uploaded(portal, page))
    html = text(portal.get(page))

    assert saved.status_code in (302, 303), text(saved)
    assert f'src="{FILES}/videos/{DIGEST}/poster?w=320"' in html
    assert "1:34 · 1920×1080" in html
    video_id = int(re.search(rf"/videos/{entity}/{entity_id}/(\d+)/remove", html).group(1))
    removed = portal.post(
        f"/videos/{entity}/{entity_id}/{video_id}/remove", data={"csrf_token": token(portal, page), "next": page}
    )
    assert removed.status_code in (302, 303)
    assert "/poster?w=320" not in text(portal.get(page))


def test_video_save_without_an_upload_or_from_another_host_is_refused(portal, factory, creator):
    festival, page = owner_pages(portal, factory, creator)["festival"]

    empty = portal.post(f"/videos/festival/{festival}", data=uploaded(portal, page, video_hash="", video_ref=""))
    foreign = portal.post(
        f"/videos/festival/{festival}", data=uploaded(portal, page, video_ref="https://evil.example.net/v.mp4")
    )
    html = text(portal.get(page))

    assert empty.status_code == foreign.status_code == 303
    assert "/poster?w=320" not in html


def test_video_of_another_creators_festival_is_not_saved(portal, factory, creator):
    festival, _ = owner_pages(portal, factory, creator)["festival"]
    stranger = client_for(portal.application)
    assert log_in(stranger, factory.user("creator").email).status_code == 303

    response = stranger.post(f"/videos/festival/{festival}", data=uploaded(stranger, "/festivals/new"))

    assert response.status_code in (403, 404)
    assert "/poster?w=320" not in text(portal.get(f"/festivals/{festival}"))
