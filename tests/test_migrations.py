"""Migrations: idempotent, and the migrated schema is exactly what the models describe."""
import threading

import pytest

from app.db import close_database, open_database
from app.migrations import migrate
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


def test_migrate_applies_once(empty_database):
    assert migrate(empty_database) == ["0001_initial"]
    assert migrate(empty_database) == []


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
    assert sorted(results) == [[], ["0001_initial"]]
