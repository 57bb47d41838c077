"""Reading a Go FestivalsApp deployment's MariaDB/MySQL databases (shared/design/go-deployment.md) through PyMySQL:
connection URLs, the schema check, and rows in chunks (never the whole of a large table at once)."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

import pymysql
import pymysql.cursors

API_TABLES = {
    "festivals": (
        "festival_id festival_version festival_is_valid festival_name festival_start festival_end "
        "festival_description festival_price"
    ),
    "artists": "artist_id artist_version artist_name artist_description",
    "locations": (
        "location_id location_version location_name location_description location_accessible location_openair"
    ),
    "events": (
        "event_id event_version event_name event_description event_type event_start event_end event_is_scheduled "
        "event_has_timeslot"
    ),
    "links": "link_id link_version link_url link_service",
    "places": (
        "place_id place_version place_street place_zip place_town place_street_addition place_country place_lat "
        "place_lon place_description"
    ),
    "tags": "tag_id tag_name",
    "images": "image_id image_hash image_comment image_ref",
}
RELATIONS = (
    "festival_event festival_image festival_link festival_place festival_tag artist_image artist_link artist_tag "
    "location_image location_link location_place event_image event_artist event_location"
).split()
API_TABLES.update({f"map_{p}": "map_id " + " ".join(f"associated_{e}" for e in p.split("_")) for p in RELATIONS})
OWNED = ("festival", "artist", "location", "event", "link", "image", "place", "tag")
IDENTITY_TABLES = {
    "users": "user_id user_email user_password user_createdat user_updatedat user_role",
    "api_keys": "api_key_id api_key api_key_comment",
    "service_keys": "service_key_id service_key service_key_comment",
    **{f"map_{entity}_user": f"map_id associated_{entity} associated_user" for entity in OWNED},
}
CHUNK = 5000  # rows (or ids of the chunking column) read and written at a time


class SourceError(Exception):
    """The Go deployment cannot be read as given (the message says what to fix); nothing was written."""


class GoDatabase:
    """One Go database: `rows` reads a query's answer, in the UTC time zone (timestamps are UTC datetimes)."""

    def __init__(self, url: str, option: str):
        self.option = option
        parts = urlsplit(url)
        if parts.scheme not in ("mysql", "mariadb") or not parts.hostname or not parts.path.strip("/"):
            raise SourceError(f"{option}: expected mysql://USER[:PASSWORD]@HOST[:PORT]/DATABASE, got {url!r}")
        self.name = unquote(parts.path.strip("/"))
        self.where = f"{parts.hostname}:{parts.port or 3306}/{self.name}"
        try:
            self.connection = pymysql.connect(
                host=parts.hostname,
                port=parts.port or 3306,
                user=unquote(parts.username or "root"),
                password=unquote(parts.password or ""),
                database=self.name,
                charset="utf8mb4",
                connect_timeout=10,
                read_timeout=600,
                write_timeout=600,
                init_command="SET time_zone = '+00:00'",
            )
        except pymysql.MySQLError as exc:
            raise SourceError(f"{option}: cannot connect to {self.where}: {exc.args[-1]}") from None

    def rows(self, sql: str, args=()) -> list[tuple]:
        with self.connection.cursor() as cursor:
            cursor.execute(sql, args)
            return list(cursor.fetchall())

    def value(self, sql: str, args=()):
        return self.rows(sql, args)[0][0]

    def check_schema(self, expected: dict[str, str]) -> None:
        """SourceError naming every missing table and column (the wrong database given, or not a Go one)."""
        found: dict[str, set] = {}
        for table, column in self.rows(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = %s", (self.name,)
        ):
            found.setdefault(table, set()).add(column)
        missing = []
        for table, columns in expected.items():
            if table not in found:
                missing.append(f"table {table}")
                continue
            missing += [f"{table}.{column}" for column in columns.split() if column not in found[table]]
        if missing:
            raise SourceError(
                f"{self.option}: {self.where} is not a Go FestivalsApp database as go-deployment.md describes it; "
                f"missing: {', '.join(missing)}"
            )

    def chunks(self, table: str, key: str, columns: str, step: int | None = None):
        """(first, last) id and the rows of `table` ordered by `key`, `step` rows at a time (keyset paging)."""
        after, step = -1, step or CHUNK
        while True:
            sql = f"SELECT {columns} FROM `{table}` WHERE `{key}` > %s ORDER BY `{key}` LIMIT %s"
            rows = self.rows(sql, (after, step))
            if not rows:
                return
            yield rows[0][0], rows[-1][0], rows
            after = rows[-1][0]

    def ranges(self, table: str, column: str, step: int | None = None):
        """[low, high) ranges of `column`'s values, `step` ids wide, skipping gaps."""
        step = step or CHUNK
        low = self.value(f"SELECT MIN(`{column}`) FROM `{table}`")
        while low is not None:
            yield low, low + step
            low = self.value(f"SELECT MIN(`{column}`) FROM `{table}` WHERE `{column}` >= %s", (low + step,))

    def close(self) -> None:
        self.connection.close()
