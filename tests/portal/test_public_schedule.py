"""The public schedule page on the portal host: a published festival by id or by the slug of its name, its
days, a stage filter and a search, what is on now and next, the calendar subscription; drafts are never
shown; the page is cacheable (no session, an ETag, a minute's max-age)."""

from __future__ import annotations

import time

from app.models import Festival
from app.services import timetable

DAY = 1814090400  # Sun 2027-06-27 10:00 UTC, 12:00 in Berlin


def _festival(factory, creator, name: str, published: bool) -> int:
    festival = factory.create(
        "festival", creator, name=name, timezone="Europe/Berlin", start=DAY - 3600, end=DAY + 86400 + 36000
    )
    if published:
        Festival.update(is_valid=True).where(Festival.id == festival["festival_id"]).execute()
    else:
        Festival.update(is_valid=False).where(Festival.id == festival["festival_id"]).execute()
    return festival["festival_id"]


def _act(festival_id, factory, creator, name, start, stage, artist):
    timetable.save_event(
        festival_id,
        None,
        factory.actor(creator),
        {"event_name": name, "event_start": start, "event_end": start + 3600},
        [artist],
        stage,
    )


def test_public_schedule_by_id_and_slug_with_filters_and_subscribe_link(app, factory, creator):
    festival = _festival(factory, creator, "Elbhangfest Dresden", True)
    _act(festival, factory, creator, "Eröffnung", DAY, "Hauptbühne", "Kreuzchor Dresden")
    _act(festival, factory, creator, "Lesung am Fluss", DAY + 3600, "Zelt", "Jördis Müller")
    _act(festival, factory, creator, "Frühschoppen", DAY + 86400, "Zelt", "Blechbläser Görlitz")
    client = app.test_client()
    for path in (f"/{festival}", "/elbhangfest-dresden"):
        page = client.get(path)
        assert page.status_code == 200, path
        text = page.get_data(as_text=True)
        assert "Sunday, 27 June" in text and "Monday, 28 June" in text
        assert "12:00–13:00" in text  # Berlin time
        assert f"/api/v1/festivals/{festival}/schedule.ics" in text
        assert "csrf" not in text.lower()
        assert page.headers["Cache-Control"] == "public, max-age=60"
        assert "Set-Cookie" not in page.headers
    etag = client.get(f"/{festival}").headers["ETag"]
    assert client.get(f"/{festival}", headers={"If-None-Match": etag}).status_code == 304

    zelt = client.get(f"/{festival}?stage=Zelt").get_data(as_text=True)
    assert "Lesung am Fluss" in zelt and "Frühschoppen" in zelt and "Eröffnung" not in zelt
    found = client.get(f"/{festival}?q=jördis").get_data(as_text=True)
    assert "Lesung am Fluss" in found and "Frühschoppen" not in found
    assert "Nothing matches" in client.get(f"/{festival}?q=tango").get_data(as_text=True)


def test_public_schedule_shows_now_and_next_during_the_festival(app, factory, creator):
    festival = _festival(factory, creator, "Jetzt oder nie", True)
    now = int(time.time())
    Festival.update(start=now - 3600, end=now + 86400).where(Festival.id == festival).execute()  # on today
    _act(festival, factory, creator, "Läuft gerade", now - 600, "Hauptbühne", "Ada")
    _act(festival, factory, creator, "Gleich danach", now + 3000, "Hauptbühne", "Bo")
    text = app.test_client().get(f"/{festival}").get_data(as_text=True)
    assert "Now and next" in text
    assert text.index("Läuft gerade") < text.index("Gleich danach")


def test_drafts_and_unknown_names_are_not_found(app, factory, creator):
    draft = _festival(factory, creator, "Geheimes Festival", False)
    client = app.test_client()
    assert client.get(f"/{draft}").status_code == 404
    assert client.get("/geheimes-festival").status_code == 404
    assert client.get("/no-such-festival").status_code == 404
    assert client.get("/login").status_code == 200  # the portal's own pages win over a festival's name
