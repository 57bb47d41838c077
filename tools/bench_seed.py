"""Bulk data for load tests, at any scale (10,000 festivals / 1,000,000 events in minutes on PostgreSQL).

Every festival gets a place, a link, an image, two tags, ten stages (locations with their places) and its share
of the events; every event has one artist (artists play twice) and one stage; artists have a link. One festival
in a hundred stays a draft. Event names come from a word list (`name=` searches match hundreds of rows) and
event versions spread over the last days, newest last (`updated_since` finds the recent ones).

Rows are written with explicit ids: PostgreSQL COPY, SQLite multi-row INSERTs; then the id sequences are moved
past them and every data version is raised once (raw SQL is not seen by the per-write tracking)."""

from __future__ import annotations

import io
import random
from collections.abc import Callable, Iterable
from datetime import timedelta

from peewee import PostgresqlDatabase
from psycopg2.extras import execute_values

from app.data_versions import bump, tracked_tables
from app.db import db
from app.models import Artist, Event, Festival, Image, Link, Location, Place, Tag
from app.models import relations as rel
from app.models.base import utcnow

WORDS = [
    "Aurora",
    "Bass",
    "Cosmic",
    "Dawn",
    "Echo",
    "Fire",
    "Groove",
    "Harbor",
    "Indigo",
    "Jungle",
    "Kinetic",
    "Lunar",
    "Magnetic",
    "Neon",
    "Ocean",
    "Prism",
    "Quartz",
    "River",
    "Solar",
    "Thunder",
    "Velvet",
    "Wild",
    "Zenith",
    "Amber",
    "Breeze",
    "Crystal",
    "Delta",
    "Ember",
    "Forest",
    "Glow",
    "Horizon",
    "Iris",
    "Jade",
    "Kite",
    "Lotus",
    "Mirage",
    "Nova",
    "Orbit",
    "Pulse",
    "Ripple",
]
STAGES = 10
CHUNK = 100  # festivals per batch
# Bumped whenever what bench_seed writes changes: seeded databases kept for reuse (bench/pg_bench.py) carry it.
SEED_VERSION = 2
# Realistic names: words made of syllables (tens of thousands of words), 1-5 to a name, like acts on a line-up.
SYLLABLES = (
    "ka lo mi ber sch ün ter an na ri ta vo gel ma rie len dorf hau sen ax el fri da ko nig bär wal ze "
    "tor ste fan lu ca jo hann es mo ritz ole sö ren gre ta ida ul rich zo e pa ul ine ke wil helm"
).split()
JOINERS = ("&", "und", "the", "die", "de", "von")


def realistic_name(chance: random.Random) -> str:
    """An act's name of 1-5 words (mostly 1-3), e.g. "Kalomi & Wilhelmsen", "Die Grevo Terhau"."""
    words = []
    count = chance.choice((1, 1, 2, 2, 2, 3, 3, 4, 5))
    for position in range(count):
        if 0 < position < count - 1 and words[-1] not in JOINERS and chance.random() < 0.3:
            words.append(chance.choice(JOINERS))
        else:
            words.append("".join(chance.choice(SYLLABLES) for _ in range(chance.randint(2, 3))).capitalize())
    return " ".join(words)


class BulkWriter:
    """Rows with explicit column lists into tables, by COPY (PostgreSQL) or multi-row INSERT (SQLite)."""

    def __init__(self, database):
        self.database = database
        self.postgres = isinstance(database, PostgresqlDatabase)
        self.written = 0

    def next_id(self, model) -> int:
        column = model._meta.primary_key.column_name
        table = model._meta.table_name
        return (self.database.execute_sql(f'SELECT MAX("{column}") FROM "{table}"').fetchone()[0] or 0) + 1

    def write(self, model, columns: list[str], rows: list[tuple]) -> None:
        if not rows:
            return
        table = model._meta.table_name
        names = ", ".join(f'"{name}"' for name in columns)
        if self.postgres:
            buffer = io.StringIO()
            for row in rows:
                buffer.write("\t".join(_copy_text(value) for value in row))
                buffer.write("\n")
            buffer.seek(0)
            self.database.cursor().copy_expert(f'COPY "{table}" ({names}) FROM STDIN', buffer)
        else:
            marks = "(" + ", ".join("?" * len(columns)) + ")"
            per = max(1, 900 // len(columns))  # SQLite's limit of bound parameters per statement
            for start in range(0, len(rows), per):
                part = rows[start : start + per]
                self.database.execute_sql(
                    f'INSERT INTO "{table}" ({names}) VALUES ' + ", ".join([marks] * len(part)),
                    [_sqlite_value(value) for row in part for value in row],
                )
        self.written += len(rows)

    def upsert(self, model, columns: list[str], rows: list[tuple], conflict: list[str], update: list[str]) -> None:
        """Rows that may be there already (tools/import_go.py): INSERT ... ON CONFLICT (`conflict`) DO UPDATE SET
        `update` (DO NOTHING without), a page of rows per statement; the table's data version is raised."""
        if not rows:
            return
        table = model._meta.table_name
        names = ", ".join(f'"{name}"' for name in columns)
        action = "DO UPDATE SET " + ", ".join(f'"{c}" = excluded."{c}"' for c in update) if update else "DO NOTHING"
        target = ", ".join(f'"{name}"' for name in conflict)
        tail = f"ON CONFLICT ({target}) {action}"
        if self.postgres:
            sql = f'INSERT INTO "{table}" ({names}) VALUES %s {tail}'
            execute_values(self.database.cursor(), sql, rows, page_size=1000)
        else:
            marks = ", ".join("?" * len(columns))
            self.database.cursor().executemany(
                f'INSERT INTO "{table}" ({names}) VALUES ({marks}) {tail}',
                [tuple(_sqlite_value(value) for value in row) for row in rows],
            )
        bump(self.database, [table])
        self.written += len(rows)

    def finish(self, models: Iterable) -> None:
        if self.postgres:
            for model in models:
                column = model._meta.primary_key.column_name
                table = model._meta.table_name
                self.database.execute_sql(
                    f"SELECT setval(pg_get_serial_sequence('\"{table}\"', '{column}'), "
                    f'(SELECT COALESCE(MAX("{column}"), 1) FROM "{table}"))'
                )
            self.database.execute_sql("ANALYZE")
        bump(self.database, tracked_tables())


def start_bulk_load(database, models: Iterable) -> list[str]:
    """PostgreSQL, inside the load's transaction: the tables' secondary indexes are dropped until
    end_bulk_load builds them again (returned: their definitions), and foreign keys are not checked row by row.
    Building an index once is many times cheaper than keeping it up to date per row (a trigram index above all:
    it was most of the 1M-event seed), and every reference the seed writes is to a row it wrote."""
    if not isinstance(database, PostgresqlDatabase):
        return []
    indexes = database.execute_sql(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = ANY(%s) "
        "AND indexname NOT IN (SELECT conname FROM pg_constraint)",
        [[model._meta.table_name for model in models]],
    ).fetchall()
    for name, _ in indexes:
        database.execute_sql(f'DROP INDEX "{name}"')
    if database.execute_sql("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()[0]:
        database.execute_sql("SET LOCAL session_replication_role = replica")  # no per-row foreign key triggers
    return [definition for _, definition in indexes]


def end_bulk_load(database, definitions: list[str]) -> None:
    if not isinstance(database, PostgresqlDatabase):
        return
    database.execute_sql("SET LOCAL session_replication_role = DEFAULT")
    database.execute_sql("SET LOCAL maintenance_work_mem = '256MB'")
    for definition in definitions:
        database.execute_sql(definition)


def _copy_text(value) -> str:
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    return str(value)


def _sqlite_value(value):
    return str(value) if hasattr(value, "isoformat") else value


ENTITY = ["version", "created", "owner"]


def _cols(model, *names: str) -> list[str]:
    fields = model._meta.fields
    return [model._meta.primary_key.column_name] + [fields[name].column_name for name in (*ENTITY, *names)]


def _pair_cols(table) -> list[str]:
    return [table.owner.column_name, table.related.column_name]


def _bench_place(place_id: int, now, festival_number: int, addition: str, lat: float, lon: float) -> tuple:
    """A place row in the column order written below: id, version, created, owner, street, zip, town, street_addition,
    country, lat, lon, description."""
    return (
        place_id,
        now,
        now,
        None,
        f"Bench street {festival_number}",
        "12345",
        "Benchtown",
        addition,
        "Germany",
        lat,
        lon,
        "",
    )


def bench_seed(
    festivals: int, events: int, progress: Callable | None = None, realistic: bool = False
) -> dict[str, int]:
    """Load `festivals` festivals with `events` events in all; `progress(n)` is called with the festivals done.
    `realistic`: event and artist names like a line-up's (realistic_name), else from WORDS (every `name=` search
    matches a 1,600th of the events, and each of its trigrams a 40th: the worst case for a trigram index)."""
    chance = random.Random(SEED_VERSION)  # the same names on every run
    writer = BulkWriter(db.obj)
    now = utcnow()
    per_festival, extra = divmod(events, max(festivals, 1))
    written = [Festival, Event, Artist, Location, Place, Link, Image, Tag, *rel.RELATION_TABLES]
    with db.atomic():
        dropped = start_bulk_load(db.obj, written)
        ids = {model: writer.next_id(model) for model in (Festival, Event, Artist, Location, Place, Link, Image, Tag)}
        tag_ids = list(range(ids[Tag], ids[Tag] + 20))
        first_tag = ids[Tag]
        writer.write(
            Tag,
            _cols(Tag, "name", "name_key"),
            [
                (tid, now, now, None, f"bench {first_tag}-{n}", f"bench {first_tag}-{n}")
                for n, tid in enumerate(tag_ids)
            ],
        )
        event_number = 0
        for start in range(0, festivals, CHUNK):
            batch = range(start, min(start + CHUNK, festivals))
            rows: dict = {model: [] for model in (Festival, Event, Artist, Location, Place, Link, Image)}
            pairs: dict = {table: [] for table in rel.RELATION_TABLES}
            for f in batch:
                fid = ids[Festival]
                ids[Festival] += 1
                day = 1_800_000_000 + f * 86400
                rows[Festival].append(
                    (
                        fid,
                        now,
                        now,
                        None,
                        f % 100 != 99,
                        f"Bench festival {fid}",
                        day,
                        day + 3 * 86400,
                        "A festival for load tests.",
                        "49 Euro",
                    )
                )
                place, link, image = _take(ids, Place), _take(ids, Link), _take(ids, Image)
                rows[Place].append(_bench_place(place, now, f, "", 50.0 + f % 100 / 100, 10.0 + f % 50 / 100))
                rows[Link].append((link, now, now, None, f"https://bench.example.org/festival/{fid}", 0))
                rows[Image].append(
                    (image, now, now, None, f"hash{fid}", "poster", f"https://files.example.org/images/hash{fid}")
                )
                pairs[rel.FestivalPlace].append((fid, place))
                pairs[rel.FestivalLink].append((fid, link))
                pairs[rel.FestivalImage].append((fid, image))
                pairs[rel.FestivalTag] += [(fid, tag_ids[f % 20]), (fid, tag_ids[(f + 7) % 20])]
                stages = []
                for s in range(STAGES):
                    location, stage_place = _take(ids, Location), _take(ids, Place)
                    stages.append(location)
                    rows[Location].append(
                        (location, now, now, None, f"Stage {s + 1} of {fid}", "A stage.", s % 2 == 0, s % 3 != 0)
                    )
                    rows[Place].append(_bench_place(stage_place, now, f, f"Area {s + 1}", 50.0, 10.0))
                    pairs[rel.LocationPlace].append((location, stage_place))
                count = per_festival + (1 if f < extra else 0)
                artists = []
                for _ in range(max(1, (count + 1) // 2)):
                    artist, artist_link = _take(ids, Artist), _take(ids, Link)
                    artists.append(artist)
                    rows[Artist].append(
                        (
                            artist,
                            now,
                            now,
                            None,
                            realistic_name(chance)
                            if realistic
                            else f"{WORDS[artist % 40]} {WORDS[artist // 40 % 40]} Band {artist}",
                            "An artist for load tests.",
                        )
                    )
                    rows[Link].append((artist_link, now, now, None, f"https://bench.example.org/artist/{artist}", 1))
                    pairs[rel.ArtistLink].append((artist, artist_link))
                for e in range(count):
                    event = _take(ids, Event)
                    event_number += 1
                    version = now - timedelta(seconds=events - event_number)
                    begin = day + e * 900
                    rows[Event].append(
                        (
                            event,
                            version,
                            version,
                            None,
                            realistic_name(chance)
                            if realistic
                            else f"{WORDS[event % 40]} {WORDS[event // 40 % 40]} set {event}",
                            "An event for load tests.",
                            e % 4,
                            begin,
                            begin + 3600,
                            True,
                            True,
                        )
                    )
                    pairs[rel.FestivalEvent].append((fid, event))
                    pairs[rel.EventArtist].append((event, artists[e // 2 % len(artists)]))
                    pairs[rel.EventLocation].append((event, stages[e % STAGES]))
            writer.write(
                Festival, _cols(Festival, "is_valid", "name", "start", "end", "description", "price"), rows[Festival]
            )
            writer.write(
                Place,
                _cols(Place, "street", "zip", "town", "street_addition", "country", "lat", "lon", "description"),
                rows[Place],
            )
            writer.write(Link, _cols(Link, "url", "service"), rows[Link])
            writer.write(Image, _cols(Image, "hash", "comment", "ref"), rows[Image])
            writer.write(Location, _cols(Location, "name", "description", "accessible", "openair"), rows[Location])
            writer.write(Artist, _cols(Artist, "name", "description"), rows[Artist])
            writer.write(
                Event,
                _cols(Event, "name", "description", "type", "start", "end", "is_scheduled", "has_timeslot"),
                rows[Event],
            )
            for table, linked in pairs.items():
                writer.write(table, _pair_cols(table), linked)
            if progress is not None:
                progress(len(batch))
        end_bulk_load(db.obj, dropped)
        writer.finish(written)
    return {"rows": writer.written}


def _take(ids: dict, model) -> int:
    value = ids[model]
    ids[model] += 1
    return value
