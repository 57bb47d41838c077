"""A Go deployment to take over: two MariaDB databases per test (uniquely named, the schema from
go_*_schema.sql, written from shared/design/go-deployment.md) and a media folder of originals.

The data has what real deployments have: umlauts and emoji, a festival with 100 events and one with 24 in
another time zone's hours, duplicate relation rows, relations to deleted rows (foreign key checks were off),
an event in two festivals (old schemas lacked the unique key), a festival with two images, an entity with two
owners and one whose owner is gone, a PDF saved as .jpg, and bcrypt passwords (cost 10, as Go wrote them)."""

from __future__ import annotations

import io
import uuid
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

import bcrypt
import pymysql
import pytest
from PIL import Image
from pypdf import PdfWriter

HERE = Path(__file__).parent
MARIADB = {"host": "127.0.0.1", "port": 3306, "user": "root", "password": ""}
PASSWORDS = {1: "Sommer-Bühne-2019", 2: "GörlitzRockt!", 3: "koordination", 4: "neuanmeldung"}
API_KEY = "0c6f1d2e-ios-app-2023-Überschall"
SERVICE_KEY = "svc-loversear-7a1b2c3d"
FESTIVAL_EVENTS = {1: 100, 2: 24}
DAY = 86400
START_1 = 1_784_973_600  # 2026-07-25 10:00 UTC: Görlitz, Europe/Berlin
START_2 = 1_786_291_200  # 2026-08-09 15:00 UTC: the second festival's hours are America/New_York's


def mariadb(database: str | None = None):
    try:
        return pymysql.connect(**MARIADB, database=database, charset="utf8mb4", autocommit=True, connect_timeout=10)
    except pymysql.MySQLError as exc:  # scripts/test starts it; never skip
        pytest.fail(f"MariaDB at 127.0.0.1:3306 is not reachable ({exc}); run the tests with scripts/test")


def load_schema(connection, name: str) -> None:
    with connection.cursor() as cursor:
        for statement in (HERE / name).read_text().split(";\n"):
            if statement.strip():
                cursor.execute(statement)


def insert(cursor, table: str, columns: str, rows: list[tuple]) -> None:
    if rows:
        marks = "(" + ", ".join(["%s"] * len(rows[0])) + ")"
        cursor.execute(f"INSERT INTO `{table}` ({columns}) VALUES " + ", ".join([marks] * len(rows)), sum(rows, ()))


def jpeg(color: tuple, size=(800, 600)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "JPEG", quality=85)
    return out.getvalue()


def png(size=(400, 400)) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", size, (200, 30, 90, 128)).save(out, "PNG")
    return out.getvalue()


def pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


ARTISTS = [
    "Die Ärzte-Coverband Görlitz",
    "Jürgen Höfling & die Nachtschwärmer",
    "Mädchen mit Gitarre 🎸",
    "Björk-Tribute Ensemble",
    "Motörhead Revival Süd",
    "Zoë Straßburger Quartett",
    "Trompeten aus Übersee",
    "Nils Frahm Fanclub",
    "Los Ñandúes",
    "Chœur de l'Île",
    "Søren Kierkegaards Erben",
    "Ümit & Band",
    "Fräulein Wunder",
    "Die Schlümpfe unplugged",
    "Kraftwerk-Schüler",
    "Çok Güzel Ensemble",
    "Łódź Brass",
    "Grüße aus Köln",
    "Ensemble Weißwurst",
    "Kärnten Crew",
    "Die Fantastischen Öfen",
    "Mönchsgesang 2.0",
    "Schnee von gestern ❄️",
    "Blaue Stunde",
    "Nordlicht Trio",
    "Rüdiger und die Rüpel",
    "Zugvögel",
    "Spätschicht",
    "Nachtcafé Orchester",
    "Große Freiheit",
]


def go_data(api, identity) -> SimpleNamespace:
    """Fills both databases; returns what the tests compare with."""
    when = datetime(2026, 5, 4, 12, 30, 15)
    hashed = {n: bcrypt.hashpw(p.encode(), bcrypt.gensalt(10 if n == 2 else 4)).decode() for n, p in PASSWORDS.items()}
    with identity.cursor() as cursor:
        insert(
            cursor,
            "users",
            "user_id, user_email, user_password, user_createdat, user_updatedat, user_role",
            [
                (1, "Anna.Mueller@festivals-goerlitz.example", hashed[1], when, when, 42),
                (2, "joerg.schaefer@ueberschall.example", hashed[2], when, when, 1),
                (3, "koordination@ueberschall.example", hashed[3], when, when, 2),
                (4, "neu@besucher.example", hashed[4], when, when, 0),
            ],
        )
        insert(cursor, "api_keys", "api_key, api_key_comment", [(API_KEY, "iOS-App 2.3 (App Store)")])
        insert(cursor, "service_keys", "service_key, service_key_comment", [(SERVICE_KEY, "loversear heartbeats")])

    events = []
    festival_event, event_artist, event_location = [], [], []
    event_id = 0
    for festival, count in FESTIVAL_EVENTS.items():
        start = START_1 if festival == 1 else START_2
        for n in range(count):
            event_id += 1
            begin = start + (n // 4) * 3600 + (n // 40) * DAY
            name = f"Auftritt {n + 1}: {ARTISTS[event_id % 30]}" if n % 10 else f"Eröffnung Tag {n // 40 + 1} 🎉"
            events.append((event_id, when, name, "Mit Überraschungsgästen.", n % 3, begin, begin + 3300, 1, 1))
            festival_event.append((festival, event_id))
            event_artist.append((event_id, event_id % 30 + 1))
            event_location.append((event_id, (n % 4) + 1 + (0 if festival == 1 else 4)))
    event_artist.append((5, 6))  # the same pair twice: collapsed
    event_artist.append((7, 999))  # artist 999 was deleted with foreign key checks off
    stray_event = event_id + 1
    events.append((stray_event, when, "Gemeinsames Finale", "", 0, START_2, START_2 + 3600, 1, 1))
    festival_event += [(2, stray_event), (3, stray_event)]  # in two festivals: reported, linked to neither

    with api.cursor() as cursor:
        cursor.execute("SET FOREIGN_KEY_CHECKS = 0")
        cursor.execute("ALTER TABLE map_festival_event DROP INDEX associated_event")  # as older deployments
        insert(
            cursor,
            "festivals",
            "festival_id, festival_version, festival_is_valid, festival_name, festival_start, festival_end, "
            "festival_description, festival_price",
            [
                (1, when, 1, "Überschall Festival Görlitz 🎸", START_1, START_1 + 3 * DAY, "Drei Tage Musik.", "59 €"),
                (2, when, 1, "Jazz an der Ruhr – Sommernächte", START_2, START_2 + DAY, "Bis spät.", "Eintritt frei"),
                (3, when, 0, "Müllerstraßen-Fest (Entwurf)", 0, 0, "", ""),
            ],
        )
        insert(
            cursor,
            "artists",
            "artist_id, artist_version, artist_name, artist_description",
            [(n + 1, when, name, f"Biografie von {name}.") for n, name in enumerate(ARTISTS)],
        )
        stages = ["Hauptbühne am Fluss", "Zeltbühne Ölmühle", "Waldbühne", "Kellerclub Übergang"]
        insert(
            cursor,
            "locations",
            "location_id, location_version, location_name, location_description, location_accessible, location_openair",
            [(n + 1, when, f"{stages[n % 4]}{' (Ruhr)' if n >= 4 else ''}", "", n % 2, 1) for n in range(8)],
        )
        insert(
            cursor,
            "events",
            "event_id, event_version, event_name, event_description, event_type, event_start, event_end, "
            "event_is_scheduled, event_has_timeslot",
            events,
        )
        insert(
            cursor,
            "places",
            "place_id, place_version, place_street, place_zip, place_town, place_street_addition, place_country, "
            "place_lat, place_lon, place_description",
            [
                (1, when, "Uferstraße 12", "02826", "Görlitz", "Hinterhof", "Deutschland", 51.152, 14.987, "Am Fluss"),
                (2, when, "Königstraße 5", "45127", "Essen", "", "Deutschland", 51.455, 7.011, ""),
            ],
        )
        insert(
            cursor,
            "links",
            "link_id, link_version, link_url, link_service",
            [(1, when, "https://ueberschall.example/programm", 0), (2, when, "https://instagram.com/ueberschall", 3)],
        )
        insert(cursor, "tags", "tag_id, tag_name", [(1, "Rock"), (2, "Jazz"), (3, "Open Air 🌞")])
        insert(
            cursor,
            "images",
            "image_id, image_hash, image_comment, image_ref",
            [
                (1, "a" * 32, "Plakat 2026", "https://files.ueberschall.example/images/upload-1001.jpg"),
                (2, "b" * 32, "Logo", "https://files.ueberschall.example/images/upload-1002.jpg"),
                (3, "c" * 32, "Lageplan (PDF)", "https://files.ueberschall.example/images/upload-1003.jpg"),
                (4, "d" * 32, "Altes Plakat", "https://files.ueberschall.example/images/upload-9999.jpg"),
            ],
        )
        pairs = {
            "map_festival_event": festival_event,
            "map_event_artist": event_artist,
            "map_event_location": event_location,
            "map_festival_image": [(1, 1), (2, 2), (2, 4)],  # festival 2 has two images: linked to none
            "map_festival_place": [(1, 1), (2, 2)],
            "map_festival_link": [(1, 1), (1, 1)],  # twice: collapsed
            "map_festival_tag": [(1, 1), (1, 3), (1, 3), (2, 2), (2, 777)],  # tag 777 is gone
            "map_artist_link": [(1, 2)],
            "map_artist_image": [(1, 1)],
            "map_location_place": [(1, 1), (5, 2)],
        }
        for table, rows in pairs.items():
            a, b = table.split("_")[1:]
            insert(cursor, table, f"associated_{a}, associated_{b}", rows)
        cursor.execute("SET FOREIGN_KEY_CHECKS = 1")

    with identity.cursor() as cursor:
        cursor.execute("SET FOREIGN_KEY_CHECKS = 0")
        insert(
            cursor,
            "map_festival_user",
            "associated_festival, associated_user",
            [(1, 2), (2, 2), (3, 55)],  # user 55 is gone
        )
        insert(cursor, "map_artist_user", "associated_artist, associated_user", [(1, 2), (1, 1), (2, 2)])
        insert(
            cursor, "map_event_user", "associated_event, associated_user", [(e, 2) for e in range(1, 101)] + [(5000, 2)]
        )
        insert(cursor, "map_tag_user", "associated_tag, associated_user", [(3, 2)])
        cursor.execute("SET FOREIGN_KEY_CHECKS = 1")
    return SimpleNamespace(events=event_id + 1, stray_event=stray_event, when=when)


@pytest.fixture
def go(tmp_path):
    """The Go deployment: api_url, identity_url, media (folder), data (what it holds)."""
    suffix = uuid.uuid4().hex[:12]
    names = {"api": f"go_api_{suffix}", "identity": f"go_identity_{suffix}"}
    server = mariadb()
    with server.cursor() as cursor:
        for name in names.values():
            cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    api, identity = mariadb(names["api"]), mariadb(names["identity"])
    try:
        load_schema(api, "go_api_schema.sql")
        load_schema(identity, "go_identity_schema.sql")
        data = go_data(api, identity)
        media = tmp_path / "go-media"
        (media / "resized").mkdir(parents=True)
        (media / "upload-1001.jpg").write_bytes(jpeg((180, 40, 40)))
        (media / "upload-1002.jpg").write_bytes(png())  # an image saved as .jpg, whatever it was
        (media / "upload-1003.jpg").write_bytes(pdf())  # a PDF saved as .jpg
        (media / "upload-1004.pdf").write_bytes(pdf())
        (media / "resized" / "w300_upload-1001.jpg").write_bytes(jpeg((180, 40, 40), (300, 225)))
        yield SimpleNamespace(
            api_url=f"mysql://root@127.0.0.1:3306/{names['api']}",
            identity_url=f"mysql://root@127.0.0.1:3306/{names['identity']}",
            media=media,
            data=data,
            names=names,
        )
    finally:
        api.close()
        identity.close()
        with server.cursor() as cursor:
            for name in names.values():
                cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        server.close()
