"""A PostgreSQL table locked by another session (`LOCK TABLE ... IN ACCESS EXCLUSIVE MODE`: a migration, a
VACUUM FULL, a stuck script) while a crowd of reads and writes of it arrives at the app under gunicorn (2 workers,
4 threads each): /health answers at once, reads of other tables are not stalled, and the requests that need the
locked table give up quickly with 503, Retry-After and the envelope instead of holding every thread. On a
private throwaway cluster, whatever FESTIVALS_DATABASE_URL says."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import psycopg2
import requests

from tests.processes import factory_for, migrated, seed, timed

ENVELOPE = {"error": "the database is unavailable; try again shortly"}
WRITE_LOCK_TIMEOUT_S = 2.0
CROWD = 24  # three times the server's threads


def test_a_locked_table_leaves_health_and_other_reads_answering(cluster, tmp_path, serve_app):
    url = migrated(cluster.create_database("festivals"))
    seeded = seed(tmp_path / "instance", url)
    with factory_for(tmp_path / "instance", url) as factory:
        owner = factory.user("creator")
        for number in range(24):
            factory.create("artist", owner, name=f"Künstlerkollektiv Größenwahn Nr. {number}")
    server = serve_app(tmp_path, url, FESTIVALS_DB_LOCK_TIMEOUT=str(WRITE_LOCK_TIMEOUT_S))
    base, creator = server.url, seeded["creator"]
    festival, artists = f"{base}/api/v1/festivals/{seeded['festival_id']}", f"{base}/api/v1/artists"

    def read():
        return requests.get(festival, headers=creator, timeout=60)

    def write():
        return requests.patch(festival, json={"festival_name": "Sommerfestspiele"}, headers=creator, timeout=60)

    for call in (read, write, lambda: requests.get(artists, headers=creator, timeout=10)):
        assert call().ok  # every worker's pool holds live connections now

    holder = psycopg2.connect(url)
    try:
        with holder.cursor() as cursor:
            cursor.execute('LOCK TABLE "festival" IN ACCESS EXCLUSIVE MODE')
        with ThreadPoolExecutor(CROWD) as pool:
            crowd = [pool.submit(timed, read if number % 2 else write) for number in range(CROWD)]
            time.sleep(1.0)  # the crowd is at the server
            health, seconds = timed(lambda: requests.get(f"{base}/health", timeout=30))
            assert health.status_code == 200 and seconds < 1.0, seconds
            other, seconds = timed(lambda: requests.get(artists, headers=creator, timeout=30))
            assert other.status_code == 200 and len(other.json()["data"]) == 24
            assert seconds < 2.0, seconds
            for future in crowd:
                response, seconds = future.result(timeout=120)
                assert response.status_code == 503, response.text
                assert response.json() == ENVELOPE and response.headers["Retry-After"]
                assert seconds < WRITE_LOCK_TIMEOUT_S + 3, seconds
    finally:
        holder.rollback()
        holder.close()
    assert read().ok
    renamed = write()
    assert renamed.status_code == 200 and renamed.json()["data"][0]["festival_name"] == "Sommerfestspiele"
