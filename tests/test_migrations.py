"""Migrations: idempotent, and the migrated schema is exactly what the models describe."""
import threading

import pytest

from app.db import close_database, open_database
from app.migrations import available, dialect_of, migrate
from app.models import MODELS
from tests.conftest import USE_POSTGRES, _worker, create_postgres_database


@pytest.fixture
def empty_database(tmp_path):
    if USE_POSTGRES:
        url = create_postgres_database(f"festivals_migrations_{_worker()}")
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


def test_concurrent_migrate_applies_once(empty_database):
    results, errors = [], []

    def run():
        try:
            results.append(migrate(empty_database))
        except Exception as exc:  # the test reports any failure of either runner
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(results) == [[], _all_names(empty_database)]
