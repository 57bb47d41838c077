"""Numbered schema migrations, applied in order and recorded in `schema_migration`.

A migration is `NNNN_name.sqlite.sql` + `NNNN_name.postgresql.sql` (plain SQL per dialect, so a
migration never changes when the models do later). Each runs in its own transaction with its record.

Concurrent runs (several instances starting at once): the whole run holds one lock, so one runner applies
everything that is missing and any other waits for it to finish and then finds nothing left to do.
PostgreSQL: a session advisory lock; SQLite: an exclusive `flock` on `<database file>.migrate-lock`."""

from __future__ import annotations

import fcntl
import re
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from peewee import PostgresqlDatabase, SqliteDatabase

from app.migrations.data import STEPS

MIGRATIONS_DIR = Path(__file__).parent
FILE_PATTERN = re.compile(r"^(\d{4}_[a-z0-9_]+)\.(sqlite|postgresql)\.sql$")


def dialect_of(database) -> str:
    if isinstance(database, SqliteDatabase):
        return "sqlite"
    if isinstance(database, PostgresqlDatabase):
        return "postgresql"
    raise RuntimeError(f"no migrations for {type(database).__name__}")


def available(dialect: str) -> list[tuple[str, Path]]:
    found = []
    for path in MIGRATIONS_DIR.iterdir():
        match = FILE_PATTERN.match(path.name)
        if match and match.group(2) == dialect:
            found.append((match.group(1), path))
    return sorted(found)


def statements(sql: str) -> list[str]:
    body = "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--"))
    return [part.strip() for part in body.split(";\n") if part.strip().rstrip(";")]


LOCK_KEY = 4711  # PostgreSQL advisory lock id of `migrate`


@contextmanager
def _run_lock(database):
    """Held for the whole run (see the module docstring); waits as long as the other runner needs."""
    if isinstance(database, PostgresqlDatabase):
        # No lock or statement timeout of the app's reads (app/db.py) for this session while it migrates.
        database.execute_sql("SET lock_timeout = 0")
        database.execute_sql("SET statement_timeout = 0")
        database.execute_sql("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
        try:
            yield
        finally:  # a pooled connection outlives the run: the session lock and settings must not stay with it
            database.execute_sql("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
            database.execute_sql("RESET lock_timeout")
            database.execute_sql("RESET statement_timeout")
        return
    if database.database == ":memory:":  # private to this connection: nobody to wait for
        yield
        return
    with open(f"{database.database}.migrate-lock", "a") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)  # released when the file is closed
        yield


def applied(database) -> set[str]:
    if "schema_migration" not in database.get_tables():
        return set()
    return {row[0] for row in database.execute_sql("SELECT name FROM schema_migration")}


def migrate(database) -> list[str]:
    """Apply what is missing; returns the names applied now (empty when up to date)."""
    dialect = dialect_of(database)
    with database.connection_context(), _run_lock(database):
        with _transaction(database, dialect):
            database.execute_sql(
                "CREATE TABLE IF NOT EXISTS schema_migration "
                "(name VARCHAR(255) NOT NULL PRIMARY KEY, applied_at VARCHAR(32) NOT NULL)"
            )
        missing = [(name, path) for name, path in available(dialect) if name not in applied(database)]
        for name, path in missing:
            with _transaction(database, dialect):
                for statement in statements(path.read_text()):
                    database.execute_sql(statement)
                if name in STEPS:
                    STEPS[name](database)
                database.execute_sql(
                    "INSERT INTO schema_migration (name, applied_at) VALUES (%s, %s)"
                    if dialect == "postgresql"
                    else "INSERT INTO schema_migration (name, applied_at) VALUES (?, ?)",
                    (name, datetime.now(UTC).isoformat(timespec="seconds")),
                )
        return [name for name, _ in missing]


@contextmanager
def _transaction(database, dialect: str):
    if dialect == "sqlite":
        with database.atomic("IMMEDIATE"):
            yield
        return
    with database.atomic():
        # A migration waits for the app's table locks as long as a write does (then it fails, and is run again).
        gate = getattr(database, "write_gate", None)
        database.execute_sql(f"SET LOCAL lock_timeout = {int(gate.timeout_s * 1000) if gate else 0}")
        yield
