"""How long `flask --app wsgi import-go` takes at scale.

    .venv/bin/python bench/go_import_bench.py --festivals 10000 --events 1000000 [--pg-url postgresql://.../db]

Generates a Go deployment in MariaDB (127.0.0.1:3306, root; the schema of tests/takeover/go_*_schema.sql) with
multi-row INSERTs: N festivals, each with a place, a link, an image and two tags, 10 stages and its share of M
events (each with an artist and a stage; artists play twice), 200 users owning it all. Then times, on a new
database (SQLite in a temporary folder, or the PostgreSQL database given, which is emptied first): the dry run,
the import, and the second import (which must write nothing). The MariaDB databases are dropped at the end
unless --keep. Prints a table; also written to bench/out/go_import.txt."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pymysql

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ROOT / "tests" / "takeover"
ROWS_PER_INSERT = 5000
STAGES = 10
USERS = 200
EPOCH = 1_800_000_000


def connect(database=None):
    return pymysql.connect(
        host="127.0.0.1", user="root", password="", database=database, charset="utf8mb4", autocommit=False
    )


def insert(cursor, table: str, columns: str, rows) -> int:
    """Multi-row INSERTs of ROWS_PER_INSERT rows each; rows may be a generator."""
    batch, written = [], 0

    def flush():
        marks = "(" + ", ".join(["%s"] * len(batch[0])) + ")"
        cursor.execute(
            f"INSERT INTO `{table}` ({columns}) VALUES " + ", ".join([marks] * len(batch)),
            [value for row in batch for value in row],
        )

    for row in rows:
        batch.append(row)
        if len(batch) == ROWS_PER_INSERT:
            flush()
            written += len(batch)
            batch = []
    if batch:
        flush()
        written += len(batch)
    return written


def generate(api, identity, festivals: int, events: int) -> int:
    """Fills the two Go databases; returns the number of rows written."""
    per, extra = divmod(events, festivals)
    counts = [per + (1 if f < extra else 0) for f in range(festivals)]
    artists_of = [max(1, (count + 1) // 2) for count in counts]
    artist_start = [0]
    for n in artists_of:
        artist_start.append(artist_start[-1] + n)
    event_start = [0]
    for n in counts:
        event_start.append(event_start[-1] + n)
    rows = 0
    with api.cursor() as c:
        c.execute("SET unique_checks = 0, foreign_key_checks = 0")
        rows += insert(
            c,
            "festivals",
            "festival_id, festival_is_valid, festival_name, festival_start, festival_end, festival_description, "
            "festival_price",
            (
                (
                    f + 1,
                    f % 100 != 99,
                    f"Festival Nummer {f + 1} – Sommer in Görlitz",
                    EPOCH + f * 86400,
                    EPOCH + f * 86400 + 3 * 86400,
                    "Drei Tage Musik.",
                    "59 €",
                )
                for f in range(festivals)
            ),
        )
        rows += insert(c, "tags", "tag_id, tag_name", ((t + 1, f"Genre {t + 1}") for t in range(20)))
        rows += insert(
            c,
            "places",
            "place_id, place_street, place_zip, place_town, place_country, place_lat, place_lon, place_description",
            (
                (p + 1, f"Uferstraße {p + 1}", "02826", "Görlitz", "Deutschland", 51.15, 14.98, "")
                for p in range(festivals * (STAGES + 1))
            ),
        )
        rows += insert(
            c,
            "links",
            "link_id, link_url, link_service",
            ((f + 1, f"https://festival-{f + 1}.example/programm", 0) for f in range(festivals)),
        )
        rows += insert(
            c,
            "images",
            "image_id, image_hash, image_comment, image_ref",
            (
                (f + 1, "0" * 32, "Plakat", f"https://files.example.org/images/plakat-{f + 1}.jpg")
                for f in range(festivals)
            ),
        )
        rows += insert(
            c,
            "locations",
            "location_id, location_name, location_description, location_accessible, location_openair",
            (
                (s + 1, f"Bühne {s % STAGES + 1} von Festival {s // STAGES + 1}", "", s % 2, 1)
                for s in range(festivals * STAGES)
            ),
        )
        rows += insert(
            c,
            "artists",
            "artist_id, artist_name, artist_description",
            ((a + 1, f"Künstlerin {a + 1} & Band", "") for a in range(artist_start[-1])),
        )
        rows += insert(
            c,
            "events",
            "event_id, event_name, event_description, event_type, event_start, event_end",
            ((e + 1, f"Auftritt {e + 1}", "", e % 4, EPOCH + e * 900, EPOCH + e * 900 + 3600) for e in range(events)),
        )
        for table, columns, pairs in (
            ("map_festival_place", "associated_festival, associated_place", ((f + 1, f + 1) for f in range(festivals))),
            ("map_festival_link", "associated_festival, associated_link", ((f + 1, f + 1) for f in range(festivals))),
            ("map_festival_image", "associated_festival, associated_image", ((f + 1, f + 1) for f in range(festivals))),
            (
                "map_festival_tag",
                "associated_festival, associated_tag",
                ((f + 1, t) for f in range(festivals) for t in (f % 20 + 1, (f + 7) % 20 + 1)),
            ),
            (
                "map_location_place",
                "associated_location, associated_place",
                ((s + 1, festivals + s + 1) for s in range(festivals * STAGES)),
            ),
            (
                "map_festival_event",
                "associated_festival, associated_event",
                ((f + 1, e + 1) for f in range(festivals) for e in range(event_start[f], event_start[f + 1])),
            ),
            (
                "map_event_artist",
                "associated_event, associated_artist",
                (
                    (e + 1, artist_start[f] + (e - event_start[f]) // 2 % artists_of[f] + 1)
                    for f in range(festivals)
                    for e in range(event_start[f], event_start[f + 1])
                ),
            ),
            (
                "map_event_location",
                "associated_event, associated_location",
                (
                    (e + 1, f * STAGES + (e - event_start[f]) % STAGES + 1)
                    for f in range(festivals)
                    for e in range(event_start[f], event_start[f + 1])
                ),
            ),
        ):
            rows += insert(c, table, columns, pairs)
    api.commit()
    with identity.cursor() as c:
        c.execute("SET unique_checks = 0, foreign_key_checks = 0")
        hashed = "$2a$10$" + "N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"  # a bcrypt hash
        rows += insert(
            c,
            "users",
            "user_id, user_email, user_password, user_role",
            ((u + 1, f"veranstalter{u + 1}@festivals.example", hashed, 42 if u == 0 else 1) for u in range(USERS)),
        )
        rows += insert(c, "api_keys", "api_key, api_key_comment", [("bench-app-key", "bench")])
        for entity, count in (("festival", festivals), ("event", events), ("artist", artist_start[-1])):
            rows += insert(
                c,
                f"map_{entity}_user",
                f"associated_{entity}, associated_user",
                ((n + 1, n % USERS + 1) for n in range(count)),
            )
    identity.commit()
    return rows


def load_schema(connection, name: str) -> None:
    with connection.cursor() as cursor:
        for statement in (SCHEMAS / name).read_text().split(";\n"):
            if statement.strip():
                cursor.execute(statement)


def flask(env: dict, *args: str) -> tuple[float, str]:
    started = time.monotonic()
    done = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "flask"), "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=24 * 3600,
    )
    if done.returncode:
        sys.exit(f"flask {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return time.monotonic() - started, done.stdout


def empty_postgres(url: str) -> None:
    import psycopg2

    connection = psycopg2.connect(url)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--festivals", type=int, default=1000)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--pg-url", help="import into this PostgreSQL database (emptied first) instead of SQLite")
    parser.add_argument("--keep", action="store_true", help="keep the generated MariaDB databases")
    parser.add_argument("--reuse", metavar="SUFFIX", help="time the import of go_bench_*_SUFFIX kept by --keep")
    parser.add_argument("--out", default=str(ROOT / "bench" / "out"))
    options = parser.parse_args()

    suffix = options.reuse or uuid.uuid4().hex[:8]
    names = {"api": f"go_bench_api_{suffix}", "identity": f"go_bench_identity_{suffix}"}
    server = connect()
    lines = []
    try:
        if options.reuse:
            generated, rows = 0.0, 0
            for name in names.values():
                with connect(name).cursor() as cursor:
                    cursor.execute("SHOW TABLES")
                    for (table,) in cursor.fetchall():
                        cursor.execute(f"SELECT COUNT(*) FROM `{table}`")
                        rows += cursor.fetchone()[0]
        else:
            with server.cursor() as cursor:
                for name in names.values():
                    cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
            api, identity = connect(names["api"]), connect(names["identity"])
            load_schema(api, "go_api_schema.sql")
            load_schema(identity, "go_identity_schema.sql")
            started = time.monotonic()
            rows = generate(api, identity, options.festivals, options.events)
            generated = time.monotonic() - started
        with tempfile.TemporaryDirectory(prefix="go-import-bench-") as folder:
            media = Path(folder) / "go-media"
            media.mkdir()
            if options.pg_url:
                empty_postgres(options.pg_url)
            url = options.pg_url or f"sqlite:///{folder}/festivals.sqlite3"
            env = {
                **os.environ,
                "FESTIVALS_DATABASE_URL": url,
                "FESTIVALS_INSTANCE_PATH": str(Path(folder) / "instance"),
                "FESTIVALS_MEDIA_DIR": str(Path(folder) / "media"),
            }
            flask(env, "migrate")
            source = [
                "--api-db",
                f"mysql://root@127.0.0.1:3306/{names['api']}",
                "--identity-db",
                f"mysql://root@127.0.0.1:3306/{names['identity']}",
                "--media",
                str(media),
            ]
            dry, _ = flask(env, "import-go", *source, "--dry-run")
            first, summary = flask(env, "import-go", *source)
            second, again = flask(env, "import-go", *source)
        target = "PostgreSQL" if options.pg_url else "SQLite"
        lines = [
            f"Go import: {options.festivals} festivals, {options.events} events ({rows} rows in MariaDB) into {target}",
            f"  generate in MariaDB (multi-row INSERTs) {generated:8.1f} s",
            f"  import-go --dry-run                     {dry:8.1f} s",
            f"  import-go                               {first:8.1f} s  ({rows / first:,.0f} source rows/s)",
            f"  import-go again (writes nothing)        {second:8.1f} s",
            "",
            "first import:",
            *summary.splitlines(),
            "",
            "second import:",
            *again.splitlines(),
        ]
    finally:
        with server.cursor() as cursor:
            for name in names.values() if not (options.keep or options.reuse) else ():
                cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        server.close()
    print("\n".join(lines))
    os.makedirs(options.out, exist_ok=True)
    Path(options.out, "go_import.txt").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
