"""The database: one DatabaseProxy bound from FESTIVALS_DATABASE_URL, connected on a request's first query."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from urllib.parse import urlparse

import orjson
from peewee import SQL, DatabaseProxy, Model, NodeList, OperationalError, SqliteDatabase, Value, fn
from playhouse import db_url
from playhouse.pool import PooledPostgresqlDatabase, PooledSqliteDatabase

from app.data_versions import VersionTracking
from common.metrics import set_pool

db = DatabaseProxy()
log = logging.getLogger("festivals.db")

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    "synchronous": "normal",
    "busy_timeout": 5000,  # replaced by the lock timeout of open_database
    "cache_size": -16000,
}


CONNECT_TIMEOUT_S = 5  # PostgreSQL: a connection attempt gives up after this (libpq waits forever otherwise)


class BaseModel(Model):
    class Meta:
        database = db
        legacy_table_names = False


class DatabaseLocked(OperationalError):
    """A write could not get SQLite's write lock in time (answered 503 like any OperationalError)."""


class WriteGate:
    """A few threads per process at a time in a write; the others wait for their turn, up to the lock timeout.

    When every turn's holder has been waiting for a database lock for more than STUCK_S (another session or
    process holds it: our own writes take milliseconds), the others answer 503 at once instead of piling up
    threads that wait for the same lock: the threads stay free for reads and /health. SQLite: one turn (it has
    one writer anyway), waiting while taking the write lock. PostgreSQL: FESTIVALS_DB_WRITERS turns, waiting
    for the whole transaction (its row and table locks come one statement at a time)."""

    STUCK_S = 0.5

    def __init__(self, timeout_s: float, turns: int = 1):
        self.timeout_s = timeout_s
        self._turns = threading.BoundedSemaphore(turns)
        self._size = turns
        self._waiting: dict[int, float] = {}  # thread -> since when it waits for a lock

    @contextlib.contextmanager
    def enter(self):
        deadline = time.monotonic() + self.timeout_s
        while not self._turns.acquire(timeout=0.05):
            if self.stuck():
                raise DatabaseLocked("database is locked (this process's writers are waiting for it)")
            if time.monotonic() >= deadline:
                raise DatabaseLocked(f"database is locked (no turn to write within {self.timeout_s:g} s)")
        try:
            yield
        finally:
            self._turns.release()

    def stuck(self) -> bool:
        """Whether every turn's holder has been waiting for a lock for longer than STUCK_S."""
        since = list(self._waiting.values())
        return len(since) >= self._size and time.monotonic() - max(since) > self.STUCK_S

    @contextlib.contextmanager
    def waiting_for_lock(self):
        thread = threading.get_ident()
        self._waiting[thread] = time.monotonic()
        try:
            yield
        finally:
            self._waiting.pop(thread, None)


class TrackedSqliteDatabase(VersionTracking, PooledSqliteDatabase):
    """Pooled SQLite whose writes bump the data-version counters (app/data_versions.py)."""

    def __init__(self, *args, lock_timeout_s: float = 5.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.write_gate = WriteGate(lock_timeout_s)

    def rollback(self):
        """After some errors (a busy COMMIT, a full disk) SQLite has already rolled the transaction back;
        ROLLBACK then fails with "cannot rollback - no transaction is active", which would hide the real
        error: that one is raised instead."""
        try:
            return super().rollback()
        except OperationalError as exc:
            if "no transaction is active" not in str(exc):
                raise
            log.info("rollback: SQLite had already rolled the transaction back")


class TrackedPostgresqlDatabase(VersionTracking, PooledPostgresqlDatabase):
    """Pooled PostgreSQL whose writes bump the data-version counters (app/data_versions.py). A statement
    waits for a lock at most the read lock timeout (the session's lock_timeout), one of a write transaction the
    write lock timeout (SET LOCAL): reads take no locks a normal write holds, so a read that waits at all waits
    behind a table lock (a migration, a stuck script) and gives up quickly."""

    def __init__(self, *args, lock_timeout_s: float = 5.0, writers: int = 2, **kwargs):
        super().__init__(*args, **kwargs)
        self.write_gate = WriteGate(lock_timeout_s, writers)


def open_database(
    url: str,
    pool_size: int = 16,
    lock_timeout_s: float = 5.0,
    *,
    read_lock_timeout_s: float = 0.2,
    statement_timeout_s: float = 30.0,
    writers: int = 2,
):
    """A peewee database for the URL: SQLite with WAL and foreign keys, or pooled PostgreSQL. `lock_timeout_s`:
    how long a write waits for a lock (SQLite: busy_timeout, and a write for its turn; PostgreSQL:
    lock_timeout in a write transaction). PostgreSQL only: `read_lock_timeout_s` the lock_timeout of every other
    statement, `statement_timeout_s` any statement's longest run, `writers` write transactions per process at
    once (WriteGate)."""
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
            path,
            pragmas={**SQLITE_PRAGMAS, "busy_timeout": int(lock_timeout_s * 1000)},
            check_same_thread=False,
            max_connections=pool_size,
            stale_timeout=300,
            lock_timeout_s=lock_timeout_s,
        )
        database.register_function(_fold, "festivals_fold", 1, deterministic=True)
        return database
    if scheme in ("postgres", "postgresql", "postgres+pool", "postgresql+pool"):
        params = db_url.parse(url)
        # Every statement fails (503) instead of holding its thread: after the read lock timeout when it waits
        # for a lock (a write transaction raises it), after the statement timeout when it runs too long.
        timeouts = (
            f"-c lock_timeout={int(read_lock_timeout_s * 1000)} -c statement_timeout={int(statement_timeout_s * 1000)}"
        )
        params["options"] = f"{params['options']} {timeouts}" if params.get("options") else timeouts
        params.setdefault("connect_timeout", CONNECT_TIMEOUT_S)  # a server that does not answer: 503, no hang
        return TrackedPostgresqlDatabase(
            params.pop("database"),
            max_connections=pool_size,
            stale_timeout=300,
            timeout=10,
            lock_timeout_s=lock_timeout_s,
            writers=writers,
            **params,
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


def is_sqlite(database=None) -> bool:
    return isinstance(database if database is not None else db.obj, SqliteDatabase)


@contextlib.contextmanager
def write_transaction():
    """One transaction per write, through the process's write gate, so that a lock held elsewhere costs a
    few waiting threads, not all of them (DatabaseLocked, a 503, within the lock timeout). SQLite takes the
    write lock up front (IMMEDIATE) so that a concurrent writer waits instead of failing on lock upgrade.
    PostgreSQL waits for each lock up to the write lock timeout (SET LOCAL: this transaction only)."""
    database = db.obj
    if database.in_transaction():
        with db.atomic():
            yield
        return
    gate = database.write_gate
    if not is_sqlite():
        with gate.enter(), gate.waiting_for_lock(), db.atomic():
            database.cursor().execute(f"SET LOCAL lock_timeout = {int(gate.timeout_s * 1000)}")
            yield
        return
    with gate.enter(), contextlib.ExitStack() as stack:
        with gate.waiting_for_lock():
            stack.enter_context(db.atomic("IMMEDIATE"))
        yield


def write_check(timeout_s: float = 0.5) -> str:
    """Whether a write would go through now, without writing: "ok", "locked" (SQLite: another writer holds
    the lock longer than `timeout_s`; both: this process's writers all wait for locks), "read-only"
    (PostgreSQL: a standby or read-only transactions), or "failed" (the cause is logged)."""
    database = db.obj
    try:
        if not is_sqlite():
            if database.write_gate.stuck():
                return "locked"
            row = database.execute_sql(
                "SELECT pg_is_in_recovery(), current_setting('transaction_read_only') = 'on'"
            ).fetchone()
            return "read-only" if any(row) else "ok"
        if database.in_transaction():
            return "ok"
        gate = database.write_gate
        if gate.stuck():
            return "locked"
        connection = database.connection()
        connection.execute(f"PRAGMA busy_timeout = {int(timeout_s * 1000)}")
        try:
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("ROLLBACK")
        finally:
            connection.execute(f"PRAGMA busy_timeout = {int(gate.timeout_s * 1000)}")
    except Exception as exc:  # noqa: BLE001 - any failure means "cannot write"; the cause goes to the log
        if "locked" in str(exc) or "busy" in str(exc):
            return "locked"
        log.warning("write check failed: %s", exc)
        return "failed"
    return "ok"


def init_db(app) -> None:
    config = app.config
    database = open_database(
        config["DATABASE_URL"],
        config["DB_POOL_SIZE"],
        config["DB_LOCK_TIMEOUT"],
        read_lock_timeout_s=config["DB_READ_LOCK_TIMEOUT"],
        statement_timeout_s=config["DB_STATEMENT_TIMEOUT"],
        writers=config["DB_WRITERS"],
    )
    db.initialize(database)
    app.extensions["database"] = database

    # No connection before a query needs one: /health and cached answers never touch the database, and a
    # database that is down fails the query, which answers 503 (web/requests.py).
    @app.teardown_appcontext
    def _close(exc):
        if not db.is_closed():
            db.close()
        set_pool(database)
