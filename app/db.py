"""The database: one DatabaseProxy bound from FESTIVALS_DATABASE_URL, connected per request."""

from __future__ import annotations

import logging
import os
from urllib.parse import urlparse

import orjson
from peewee import SQL, DatabaseProxy, Model, NodeList, OperationalError, SqliteDatabase, Value, fn
from playhouse import db_url
from playhouse.pool import PooledPostgresqlDatabase, PooledSqliteDatabase

from app.data_versions import VersionTracking

db = DatabaseProxy()
log = logging.getLogger("festivals.db")

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    "synchronous": "normal",
    "busy_timeout": 10000,
    "cache_size": -16000,
}


class BaseModel(Model):
    class Meta:
        database = db
        legacy_table_names = False


class TrackedSqliteDatabase(VersionTracking, PooledSqliteDatabase):
    """Pooled SQLite whose writes bump the data-version counters (app/data_versions.py)."""


class TrackedPostgresqlDatabase(VersionTracking, PooledPostgresqlDatabase):
    """Pooled PostgreSQL whose writes bump the data-version counters (app/data_versions.py)."""


def open_database(url: str, pool_size: int = 16):
    """A peewee database for the URL: SQLite with WAL and foreign keys, or pooled PostgreSQL."""
    scheme = urlparse(url).scheme
    if scheme.startswith("sqlite"):
        path = url.split(":///", 1)[1] if ":///" in url else ":memory:"
        if path != ":memory:" and not path.startswith("file:"):
            # Owner-only before SQLite creates it (its -wal and -shm files take the same mode).
            try:
                os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
            except OSError:  # e.g. a missing folder: connecting fails the same way, /ready says so
                pass
        # Pooled so that the per-request close keeps the connection (and its pragmas) for the next one.
        database = TrackedSqliteDatabase(
            path, pragmas=SQLITE_PRAGMAS, check_same_thread=False, max_connections=pool_size, stale_timeout=300
        )
        database.register_function(_fold, "festivals_fold", 1, deterministic=True)
        return database
    if scheme in ("postgres", "postgresql", "postgres+pool", "postgresql+pool"):
        params = db_url.parse(url)
        return TrackedPostgresqlDatabase(
            params.pop("database"), max_connections=pool_size, stale_timeout=300, timeout=10, **params
        )
    return db_url.connect(url)


def _fold(value):
    return value.casefold() if isinstance(value, str) else value


def like_pattern(text: str) -> str:
    """The LIKE pattern of `contains_text` (wildcards in `text` escaped with a backslash)."""
    folded = text.casefold() if is_sqlite() else text
    return "%" + folded.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def contains_text(column, text: str):
    """Case-insensitive substring match, Unicode-aware on both databases (`%` and `_` are literal).
    SQLite's own LIKE folds ASCII only, so both sides are case-folded in Python there. Always written with
    ESCAPE, so the SQL does not depend on the text (see app/sql_shapes.py)."""
    lhs, operator = (fn.festivals_fold(column), "LIKE") if is_sqlite() else (column, "ILIKE")
    return NodeList(
        (lhs, SQL(operator), Value(like_pattern(text), converter=False), SQL("ESCAPE"), Value("\\", converter=False))
    )


def ids_param(ids) -> object:
    """A list of ids as the one bound parameter of `in_ids`."""
    return orjson.dumps(list(ids)).decode() if is_sqlite() else list(ids)


def in_ids(column, ids):
    """`column IN ids` with the whole list as one bound parameter (an array on PostgreSQL, a JSON array on
    SQLite): a page of 1,000 ids costs one parameter instead of 1,000 nodes to build and bind."""
    if is_sqlite():
        return NodeList((column, SQL("IN (SELECT value FROM json_each(?))", [ids_param(ids)])))
    return NodeList((column, SQL("= ANY(%s)", [ids_param(ids)])))


def close_database(database) -> None:
    """Really close every connection (a pool otherwise keeps them; SQLite checkpoints its WAL on the last close)."""
    if hasattr(database, "close_all"):
        database.close_all()
    elif not database.is_closed():
        database.close()


def is_sqlite() -> bool:
    return isinstance(db.obj, SqliteDatabase)


def write_transaction():
    """One transaction per write. SQLite takes the write lock up front (IMMEDIATE) so that a
    concurrent writer waits for busy_timeout instead of failing on lock upgrade."""
    if is_sqlite():
        return db.atomic("IMMEDIATE")
    return db.atomic()


def init_db(app) -> None:
    database = open_database(app.config["DATABASE_URL"], app.config["DB_POOL_SIZE"])
    db.initialize(database)
    app.extensions["database"] = database

    @app.before_request
    def _connect():
        try:
            db.connect(reuse_if_open=True)
        except OperationalError:
            # Leave it to the request: /ready reports 503, other routes answer "database unavailable".
            log.warning("database connection failed", exc_info=True)

    @app.teardown_appcontext
    def _close(exc):
        if not db.is_closed():
            db.close()
