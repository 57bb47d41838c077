"""Writes PostgreSQL refuses or makes wait, on a private cluster: a row locked by another session (a stuck
transaction, a long migration) answers 503 with the envelope after FESTIVALS_DB_LOCK_TIMEOUT instead of holding
its thread for as long as the lock lives; a read-only database (a standby after a failover, writes turned off)
answers 503 too, and /ready says which part fails. Reads answer at once in both cases."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import psycopg2

from tests.processes import factory_for, migrated

LOCK_TIMEOUT_S = 1.0
UNAVAILABLE = {"error": "the database is unavailable; try again shortly"}


def test_a_write_waiting_for_a_row_lock_answers_503_after_the_lock_timeout(cluster, make_app, tmp_path):
    url = migrated(cluster.create_database("locks"))
    with factory_for(tmp_path / "instance", url) as factory:  # the app's instance folder: its signing keys
        creator = factory.user("creator")
        writer, reader = factory.bearer(creator), factory.api_key_headers()
        festival = factory.create("festival", creator)["festival_id"]
    # built last: the process-wide database handle is then this app's
    app = make_app(DATABASE_URL=url, DB_LOCK_TIMEOUT=LOCK_TIMEOUT_S)
    client = app.test_client()
    holder = psycopg2.connect(url)  # a transaction holding the festival's row lock
    try:
        with holder.cursor() as cursor:
            cursor.execute('SELECT 1 FROM "festival" WHERE "festival_id" = %s FOR UPDATE', [festival])
        started = time.monotonic()
        assert client.get(f"/api/v1/festivals/{festival}", headers=reader).status_code == 200
        assert time.monotonic() - started < 1.0  # at once: no lock to wait for
        started = time.monotonic()
        with ThreadPoolExecutor(1) as pool:  # without a lock timeout it would wait as long as the lock is held
            patch = pool.submit(
                client.patch, f"/api/v1/festivals/{festival}", json={"festival_name": "renamed"}, headers=writer
            )
            try:
                response = patch.result(timeout=LOCK_TIMEOUT_S + 3)
            finally:
                holder.rollback()  # lets a waiting PATCH finish either way
        waited = time.monotonic() - started
        assert response.status_code == 503
        assert response.get_json() == UNAVAILABLE
        assert LOCK_TIMEOUT_S <= waited < LOCK_TIMEOUT_S + 2
    finally:
        holder.rollback()
        holder.close()
    response = client.patch(f"/api/v1/festivals/{festival}", json={"festival_name": "renamed"}, headers=writer)
    assert response.status_code == 200 and response.get_json()["data"][0]["festival_name"] == "renamed"


def test_a_read_only_database_answers_writes_with_503_and_ready_names_it(cluster, make_app, tmp_path):
    url = migrated(cluster.create_database("standby"))
    with factory_for(tmp_path / "instance", url) as factory:
        creator = factory.user("creator")
        writer, reader = factory.bearer(creator), factory.api_key_headers()
        festival = factory.create("festival", creator)["festival_id"]
    admin = psycopg2.connect(cluster.url("postgres"))
    admin.autocommit = True
    with admin.cursor() as cursor:  # every new session of that database is read-only, as on a standby
        cursor.execute('ALTER DATABASE "standby" SET default_transaction_read_only = on')
    admin.close()
    client = make_app(DATABASE_URL=url).test_client()

    assert client.get(f"/api/v1/festivals/{festival}", headers=reader).status_code == 200
    response = client.post("/api/v1/festivals", json={"festival_name": "refused"}, headers=writer)
    assert response.status_code == 503 and response.get_json() == UNAVAILABLE
    ready = client.get("/ready")
    assert ready.status_code == 503
    assert ready.get_json()["database"] == "ok" and ready.get_json()["database_write"] == "read-only"
    assert client.get("/ready?scope=reads").status_code == 200
