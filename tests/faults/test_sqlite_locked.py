"""Another process holds SQLite's write lock (a backup, a maintenance script, a stuck writer) while the app
serves under gunicorn: reads keep answering at once, writes answer 503 with the envelope within the lock
timeout instead of piling up threads, and /ready says that writes fail."""

from __future__ import annotations

import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.processes import migrated, seed

LOCK_TIMEOUT_S = 2.0
FAST_S = 1.0  # "at once" on a busy CI machine: a read never waits for the lock (it did for 5-20 s)


@pytest.fixture
def locked_app(tmp_path, serve_app):
    path = tmp_path / "festivals.sqlite3"
    url = migrated(f"sqlite:///{path}")
    seeded = seed(tmp_path / "instance", url)
    server = serve_app(tmp_path, url, FESTIVALS_DB_LOCK_TIMEOUT=str(LOCK_TIMEOUT_S))
    return server, seeded, path


def timed(call) -> tuple[requests.Response, float]:
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def test_reads_stay_fast_and_writes_fail_in_bounded_time_while_locked(locked_app):
    server, seeded, path = locked_app
    url = server.url
    festival = f"{url}/api/v1/festivals/{seeded['festival_id']}"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # the write lock, held by another process's connection
    try:

        def write(n: int):
            return timed(
                lambda: requests.post(
                    f"{url}/api/v1/festivals", json={"festival_name": f"locked {n}"}, headers=seeded["creator"]
                )
            )

        # more writes than the 8 threads of the two workers, all at once
        with ThreadPoolExecutor(12) as pool:
            writes = [pool.submit(write, n) for n in range(12)]
            time.sleep(0.3)
            reads = {
                "Api-Key": timed(lambda: requests.get(festival, headers=seeded["api_key"], timeout=10)),
                "Bearer": timed(lambda: requests.get(f"{festival}/events", headers=seeded["creator"], timeout=10)),
                "health": timed(lambda: requests.get(f"{url}/health", timeout=10)),
                "ready": timed(lambda: requests.get(f"{url}/ready", timeout=10)),
            }
            results = [future.result() for future in writes]

        for name, (response, seconds) in reads.items():
            assert seconds < FAST_S + (0.5 if name == "ready" else 0), (name, seconds)
            if name != "ready":
                assert response.status_code == 200, (name, response.text)
        ready = reads["ready"][0]
        assert ready.status_code == 503
        assert ready.json()["database"] == "ok" and ready.json()["database_write"] == "locked"
        # the gateway keeps balancing over the instances: they all share the lock, and serve reads
        assert requests.get(f"{url}/ready?scope=reads", timeout=5).status_code == 200

        for response, seconds in results:
            assert response.status_code == 503
            assert response.json() == {"error": "the database is unavailable; try again shortly"}
            assert response.headers["Retry-After"]
            assert seconds < LOCK_TIMEOUT_S + 1.5
    finally:
        holder.execute("ROLLBACK")
        holder.close()

    created = requests.post(f"{url}/api/v1/festivals", json={"festival_name": "after"}, headers=seeded["creator"])
    assert created.status_code == 201
    assert requests.get(f"{url}/ready").json()["database_write"] == "ok"
    log = server.log()
    assert "database is locked" in log
    assert "cannot rollback" not in log
