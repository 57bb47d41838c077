"""Migrations: idempotent, and the migrated schema is exactly what the models describe."""

import threading

import pytest

from app.db import close_database, open_database
from app.migrations import available, dialect_of, migrate
from app.models import MODELS
from tests.conftest import USE_POSTGRES, create_postgres_database, worker_database_name


@pytest.fixture
def empty_database(tmp_path):
    if USE_POSTGRES:
        url = create_postgres_database(worker_database_name("migrations"))
    else:
        url = f"sqlite:///{tmp_path}/empty.sqlite3"
    database = open_database(url)
    yield database
    close_database(database)


def _all_names(database):
    return [name for name, _ in available(dialect_of(database))]


def test_migrate_applies_once(empty_database):
    names = _all_names(empty_database)
    assert names[:2] == ["0001_initial", "0002_sessions"]
    assert migrate(empty_database) == names
    assert migrate(empty_database) == []


def test_migrate_applies_only_missing(empty_database):
    from app.migrations import applied

    migrate(empty_database)
    with empty_database.connection_context():
        empty_database.execute_sql("DELETE FROM schema_migration WHERE name = '0002_sessions'")
        empty_database.execute_sql("DROP TABLE password_reset")
        empty_database.execute_sql("DROP TABLE refresh_token")
    assert migrate(empty_database) == ["0002_sessions"]
    with empty_database.connection_context():
        assert "0002_sessions" in applied(empty_database)


def test_migrated_schema_matches_models(empty_database):
    migrate(empty_database)
    with empty_database.connection_context():
        tables = set(empty_database.get_tables())
        for model in MODELS:
            table = model._meta.table_name
            assert table in tables
            stored = {column.name for column in empty_database.get_columns(table)}
            assert stored == {field.column_name for field in model._meta.sorted_fields}, table
            unique = {tuple(index.columns) for index in empty_database.get_indexes(table) if index.unique}
            for field in model._meta.sorted_fields:
                if field.unique:
                    assert (field.column_name,) in unique, (table, field.column_name)


def test_concurrent_migrate_one_runner_applies_everything(empty_database):
    """Instances starting at once: the whole run holds one lock, so exactly one runner applies every
    migration and the others wait for it and find nothing left (never a split of the list)."""
    runners = 4
    start = threading.Barrier(runners)
    results, errors = [], []

    def run():
        try:
            start.wait()
            results.append(migrate(empty_database))
        except Exception as exc:  # the test reports any failure of any runner
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(runners)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(results) == [[]] * (runners - 1) + [_all_names(empty_database)]


def test_migrate_waits_for_a_run_in_progress(empty_database):
    """A runner that finds the lock taken applies nothing until the holder's run is over."""
    from app.migrations import _run_lock

    results = []
    with empty_database.connection_context(), _run_lock(empty_database):
        waiting = threading.Thread(target=lambda: results.append(migrate(empty_database)))
        waiting.start()
        waiting.join(timeout=1.0)
        assert waiting.is_alive() and results == []  # still waiting for the lock
        assert "schema_migration" not in empty_database.get_tables()
    waiting.join(timeout=30)
    assert results == [_all_names(empty_database)]


def test_0005_fills_name_keys_of_existing_names_without_losing_any(empty_database):
    """Names stored before 0005 get their NFC + case-folded key; two that now share a key both stay."""
    import unicodedata

    from app.migrations.data import security_0005

    migrate(empty_database)
    nfd = unicodedata.normalize("NFD", "CAFÉ")
    with empty_database.connection_context():
        mark = "%s" if USE_POSTGRES else "?"
        for name in ("Café", nfd, "Ｊａｚｚ"):
            empty_database.execute_sql(
                "INSERT INTO festival (festival_version, festival_created, festival_is_valid, festival_name, "
                "festival_start, festival_end, festival_description, festival_price) "
                f"VALUES ('2026-01-01 00:00:00', '2026-01-01 00:00:00', {'false' if USE_POSTGRES else 0}, "
                f"{mark}, 0, 0, '', '')",
                (name,),
            )
            empty_database.execute_sql(
                "INSERT INTO tag (tag_version, tag_created, tag_name, tag_name_key) "
                f"VALUES ('2026-01-01 00:00:00', '2026-01-01 00:00:00', {mark}, {mark})",
                (name, name),
            )
        security_0005(empty_database)
        for table in ("festival", "tag"):
            keys = [
                row[0]
                for row in empty_database.execute_sql(f"SELECT {table}_name_key FROM {table} ORDER BY {table}_id")
            ]
            assert keys[0] == "café" and keys[1].startswith("café#") and keys[2] == "jazz", keys


def test_name_search_indexes_keep_no_pending_list(empty_database):
    """PostgreSQL's trigram indexes merge new rows at once (0009): a name= search never scans a pending list."""
    assert "0009_trigram_reads" in migrate(empty_database)
    if USE_POSTGRES:  # SQLite has no trigram indexes
        with empty_database.connection_context():
            options = dict(
                empty_database.execute_sql(
                    "SELECT relname, array_to_string(reloptions, ',') FROM pg_class WHERE relname LIKE '%%_name_trgm'"
                ).fetchall()
            )
        assert options == {
            f"{table}_name_trgm": "fastupdate=off" for table in ("festival", "event", "artist", "location", "tag")
        }
