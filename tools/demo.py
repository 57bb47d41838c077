"""Demo data, made through the services like a real organizer would (bulk benchmark data: tools/bench_seed.py)."""

from __future__ import annotations

import random
import secrets
from datetime import UTC, datetime

from app.models import Event, Festival, User
from app.permissions import Actor
from app.services import relations, writes
from app.services.users import create_user

DEMO_OWNER = "organizer@festivals.local"

FESTIVALS = [
    # name, town, zip, street, lat, lon, first day (UTC), days, published, price, tags
    (
        "Sonnenklang Open Air 2027",
        "Leipzig",
        "04109",
        "Am Elsterflutbett 1",
        51.3397,
        12.3731,
        (2027, 7, 16),
        3,
        True,
        "Ab 59 Euro",
        ["Open Air", "Pop", "Camping"],
    ),
    (
        "Nordlicht Jazz Days 2027",
        "Hamburg",
        "20457",
        "Große Elbstraße 14",
        53.5453,
        9.9665,
        (2027, 9, 3),
        3,
        True,
        "Ab 35 Euro",
        ["Jazz", "Indoor"],
    ),
    (
        "Waldbühne Folk Festival 2027",
        "Dresden",
        "01099",
        "Waldschlößchenstraße 8",
        51.0683,
        13.7699,
        (2027, 8, 20),
        2,
        True,
        "Free entry",
        ["Folk", "Open Air", "Family friendly"],
    ),
    (
        "Hafenfest Kiel 2027",
        "Kiel",
        "24103",
        "Kaistraße 50",
        54.3154,
        10.1323,
        (2027, 6, 11),
        2,
        False,
        "Ab 20 Euro",
        ["Electronic", "Open Air"],
    ),
]
STAGES = ["Main Stage", "Forest Stage", "Harbour Tent", "Club Hall"]
WORDS_A = [
    "Velvet",
    "Electric",
    "Silent",
    "Golden",
    "Northern",
    "Wild",
    "Paper",
    "Neon",
    "Hollow",
    "Blue",
    "Crimson",
    "Lunar",
    "Rusty",
    "Gentle",
    "Atomic",
]
WORDS_B = [
    "Foxes",
    "Harbour",
    "Pilots",
    "Orchard",
    "Lanterns",
    "Tides",
    "Echoes",
    "Wolves",
    "Gardens",
    "Rivers",
    "Satellites",
    "Owls",
    "Engines",
    "Violets",
    "Comets",
]
EVENT_TYPES = [0, 0, 0, 2, 3, 6, 7]  # mostly music; performances, theatre, talks, workshops
EVENTS_PER_DAY = 6
SLOT_SECONDS = 90 * 60


def _ts(day: tuple[int, int, int], hour: int = 0) -> int:
    return int(datetime(*day, hour, tzinfo=UTC).timestamp())


def _demo_owner() -> Actor:
    user = User.get_or_none(User.email == DEMO_OWNER)
    if user is None:
        user = create_user(DEMO_OWNER, secrets.token_urlsafe(16), "creator")
    return Actor("user", user_id=user.id, role=user.role)


def load_demo_data(echo=print, progress=None) -> None:
    if Festival.select().where(Festival.name == FESTIVALS[0][0]).exists():
        echo("demo data already present")
        return
    actor = _demo_owner()
    rng = random.Random(2027)
    names = [f"The {a} {b}" for a in WORDS_A for b in WORDS_B]
    rng.shuffle(names)
    artists = [
        writes.create(
            "artist", actor, {"artist_name": name, "artist_description": f"{name} play their first tour in years."}
        )["artist_id"]
        for name in names[:60]
    ]
    tags = {}
    work = [(spec, day) for spec in FESTIVALS for day in range(spec[7])]
    bar = progress(work, label="demo data") if progress else _NullBar(work)
    with bar as steps:
        made: dict[str, tuple[int, list[int]]] = {}
        for spec, day in steps:
            if spec[0] not in made:
                made[spec[0]] = _festival(actor, spec, tags)
            festival_id, locations = made[spec[0]]
            _festival_day(actor, festival_id, locations, spec, day, artists, rng)
    echo(f"demo data: {len(FESTIVALS)} festivals, {Event.select().count()} events, {len(artists)} artists")


class _NullBar:
    def __init__(self, items):
        self.items = items

    def __enter__(self):
        return self.items

    def __exit__(self, *exc):
        return False


def _festival(actor: Actor, spec, tags: dict[str, int]) -> tuple[int, list[int]]:
    """The festival with its place, links, tags and two stages; returns (festival id, location ids)."""
    name, town, zip_code, street, lat, lon, first, days, published, price, tag_names = spec
    start = _ts(first, 12)
    festival_id = writes.create(
        "festival",
        actor,
        {
            "festival_name": name,
            "festival_is_valid": published,
            "festival_price": price,
            "festival_start": start,
            "festival_end": start + days * 86400,
            "festival_description": f"{name.rsplit(' ', 1)[0]}: {days} days of music and more in {town}.",
        },
    )["festival_id"]
    place_id = writes.create(
        "place",
        actor,
        {
            "place_street": street,
            "place_zip": zip_code,
            "place_town": town,
            "place_country": "Germany",
            "place_lat": lat,
            "place_lon": lon,
        },
    )["place_id"]
    relations.link("festival", festival_id, "place", place_id, actor)
    slug = name.lower().replace(" ", "-")
    for url, service in ((f"https://{slug}.example.org/", 0), (f"https://instagram.com/{slug}", 3)):
        link_id = writes.create("link", actor, {"link_url": url, "link_service": service})["link_id"]
        relations.link("festival", festival_id, "links", link_id, actor)
    for tag_name in tag_names:
        if tag_name not in tags:
            tags[tag_name] = writes.create("tag", actor, {"tag_name": tag_name})["tag_id"]
        relations.link("festival", festival_id, "tags", tags[tag_name], actor)
    locations = []
    for index, stage in enumerate(STAGES[:2] if published else STAGES[2:]):
        location_id = writes.create(
            "location",
            actor,
            {
                "location_name": f"{stage} · {town}",
                "location_openair": stage != "Club Hall",
                "location_accessible": index == 0,
                "location_description": f"{stage} of {name}.",
            },
        )["location_id"]
        relations.link("location", location_id, "place", place_id, actor)
        locations.append(location_id)
    return festival_id, locations


def _festival_day(
    actor: Actor, festival_id: int, locations: list[int], spec, day: int, artists: list[int], rng
) -> None:
    first = spec[6]
    day_start = _ts(first, 14) + day * 86400
    for slot in range(EVENTS_PER_DAY * len(locations)):
        stage = slot % len(locations)
        start = day_start + (slot // len(locations)) * SLOT_SECONDS
        artist_id = rng.choice(artists)
        event_id = writes.create(
            "event",
            actor,
            {
                "event_name": f"Day {day + 1}, set {slot // len(locations) + 1}",
                "event_type": rng.choice(EVENT_TYPES),
                "event_start": start,
                "event_end": start + SLOT_SECONDS - 15 * 60,
                "event_description": "Doors open 15 minutes before.",
            },
        )["event_id"]
        relations.link("festival", festival_id, "events", event_id, actor)
        relations.link("event", event_id, "artist", artist_id, actor)
        relations.link("event", event_id, "location", locations[stage], actor)
