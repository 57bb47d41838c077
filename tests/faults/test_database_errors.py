"""How the app meets database errors in-process: a read with an Api-Key never writes (its last use is written
in the background, and that tolerates a locked database), and a failed ROLLBACK never hides the error that
made it necessary."""

from __future__ import annotations

import logging
import sqlite3
from datetime import timedelta

import pytest
from peewee import OperationalError

from app.db import db, write_transaction
from app.models import ApiKey
from app.models.base import utcnow
from app.services.api_keys import KEY_USE
from tests.processes import migrated

WRITES = ("INSERT", "UPDATE", "DELETE")


@pytest.fixture
def statements():
    """The SQL statements peewee runs while the test runs."""
    seen: list[str] = []

    class Handler(logging.Handler):
        def emit(self, record):
            seen.append(str(record.msg[0] if isinstance(record.msg, tuple) else record.getMessage()))

    logger = logging.getLogger("peewee")
    handler, level = Handler(logging.DEBUG), logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    yield seen
    logger.removeHandler(handler)
    logger.setLevel(level)


def age_keys() -> None:
    ApiKey.update(last_used=utcnow() - timedelta(minutes=5)).execute()


def test_a_read_with_an_api_key_never_writes(client, factory, statements):
    headers = factory.api_key_headers()
    age_keys()
    statements.clear()
    assert client.get("/api/v1/festivals", headers=headers).status_code == 200
    assert statements and not [sql for sql in statements if sql.lstrip().upper().startswith(WRITES)]
    assert KEY_USE.flush() == 1  # the background writer's work, done now
    assert utcnow() - ApiKey.get().last_used < timedelta(seconds=30)
    statements.clear()
    assert client.get("/api/v1/festivals", headers=headers).status_code == 200
    assert KEY_USE.flush() == 0  # used again within the minute: nothing to write


@pytest.fixture
def sqlite_app(make_app, tmp_path):
    """The app on a SQLite file of its own (whatever FESTIVALS_DATABASE_URL says), with a short lock timeout."""
    path = tmp_path / "own.sqlite3"
    return make_app(DATABASE_URL=migrated(f"sqlite:///{path}"), DB_LOCK_TIMEOUT=0.3), path


def test_last_uses_wait_for_a_locked_database_and_are_written_after(sqlite_app, factory, caplog):
    app, path = sqlite_app
    client = app.test_client()
    with app.app_context():
        from app.services import api_keys

        key, _ = api_keys.create_key("locked")
        age_keys()
    # uses an earlier test in this process could not write (its database is gone) stay queued: not ours
    left_over = KEY_USE.pending()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        assert client.get("/api/v1/festivals", headers={"Api-Key": key}).status_code == 200
        assert KEY_USE.flush() == 0 and KEY_USE.pending() == left_over + 1
        assert "not written yet: database is locked" in caplog.text
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert KEY_USE.flush() == 1
    with app.app_context(), db.connection_context():
        assert utcnow() - ApiKey.get().last_used < timedelta(seconds=30)


def test_the_error_is_raised_when_sqlite_already_rolled_back(sqlite_app):
    """After some errors SQLite ends the transaction itself; the ROLLBACK that follows must not replace the
    error (the log said "cannot rollback - no transaction is active" instead of the cause)."""
    app, _ = sqlite_app
    with app.app_context(), db.connection_context():
        with pytest.raises(OperationalError, match="disk I/O error"), write_transaction():
            ApiKey.update(comment="x").execute()
            db.connection().execute("ROLLBACK")  # what SQLite does on its own after such an error
            raise OperationalError("disk I/O error")
