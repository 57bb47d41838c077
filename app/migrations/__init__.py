"""Numbered schema migrations, applied in order and recorded in `schema_migration`.

A migration is `NNNN_name.sqlite.sql` + `NNNN_name.postgresql.sql` (plain SQL per dialect, so a
migration never changes when the models do later). Each runs in its own transaction with its record;
a concurrent run waits for the lock and then finds nothing left to do."""
from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

from peewee import PostgresqlDatabase, SqliteDatabase

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


def _lock(database) -> None:
    if isinstance(database, PostgresqlDatabase):
        database.execute_sql("SELECT pg_advisory_xact_lock(4711)")


def applied(database) -> set[str]:
    if "schema_migration" not in database.get_tables():
        return set()
    return {row[0] for row in database.execute_sql("SELECT name FROM schema_migration")}


def migrate(database) -> list[str]:
    """Apply what is missing; returns the names applied now (empty when up to date)."""
    dialect = dialect_of(database)
    with database.connection_context():
        lock = database.atomic("IMMEDIATE") if dialect == "sqlite" else database.atomic()
        with lock:
            _lock(database)
            database.execute_sql(
                "CREATE TABLE IF NOT EXISTS schema_migration "
                "(name VARCHAR(255) NOT NULL PRIMARY KEY, applied_at VARCHAR(32) NOT NULL)"
            )
        done = []
        for name, path in available(dialect):
            lock = database.atomic("IMMEDIATE") if dialect == "sqlite" else database.atomic()
            with lock:
                _lock(database)
                if name in applied(database):
                    continue
                for statement in statements(path.read_text()):
                    database.execute_sql(statement)
                database.execute_sql(
                    "INSERT INTO schema_migration (name, applied_at) VALUES (%s, %s)"
                    if dialect == "postgresql"
                    else "INSERT INTO schema_migration (name, applied_at) VALUES (?, ?)",
                    (name, datetime.now(timezone.utc).isoformat(timespec="seconds")),
                )
            done.append(name)
        return done
