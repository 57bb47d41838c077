"""A worker killed with SIGKILL in the middle of a burst of creates (issue 13, finding 6), with real processes:
gunicorn serving the app over HTTP, clients retrying with their Idempotency-Keys. Every 201 a client got is
stored, nothing is half-written (each new festival has its key's record and its audit row, in one
transaction), and retrying every request with its key creates nothing new. On SQLite, and on PostgreSQL when
FESTIVALS_DATABASE_URL points there (the fixture's database is this worker's)."""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from pathlib import Path

import pytest
import requests

from app.db import db
from app.models import AuditEntry, Festival
from app.models.idempotency import IdempotencyRecord
from tests.processes import Gunicorn, app_env, child_pids, starts_process, wait_for

REQUESTS = 48
CLIENTS = 6


@pytest.fixture
@starts_process
def server(app, database_url, tmp_path):
    """`gunicorn wsgi:app`, two workers, on the test's database and instance folder (its signing keys)."""
    server = Gunicorn("wsgi:app", tmp_path, app_env(Path(app.instance_path), database_url), threads=2)
    yield server.url, server.process
    server.stop()


def post(base: str, headers: dict, number: int, key: str):
    """(status, body) or (None, error) when the connection died."""
    try:
        response = requests.post(
            f"{base}/api/v1/festivals",
            json={"festival_name": f"Burst {number}", "festival_description": "x" * 2000},
            headers={**headers, "Idempotency-Key": key},
            timeout=30,
        )
    except requests.RequestException as exc:
        return None, exc
    return response.status_code, response.json()


def kill_workers_during(burst: threading.Thread, master: int) -> int:
    """SIGKILL a busy worker every 0.15 s while the burst runs (the master starts new ones); how many."""
    killed = 0
    while burst.is_alive() and killed < 6:
        time.sleep(0.15)
        for pid in child_pids(master)[:1]:
            os.kill(pid, signal.SIGKILL)
            killed += 1
    return killed


def stored(app) -> tuple[set[int], int, int]:
    """(festival ids, idempotency records, create audit rows) as the database has them now."""
    with app.app_context():
        db.connect(reuse_if_open=True)
        ids = {row.id for row in Festival.select(Festival.id)}
        records = IdempotencyRecord.select().count()
        audits = AuditEntry.select().where((AuditEntry.entity == "festival") & (AuditEntry.action == "create")).count()
        db.close()
    return ids, records, audits


def test_a_killed_worker_loses_no_201_and_retries_create_nothing_new(app, factory, server):
    base, process = server
    headers = factory.bearer(factory.user("creator"))
    keys = [str(uuid.uuid4()) for _ in range(REQUESTS)]
    answers: dict[int, tuple] = {}

    def burst():
        lock = threading.Lock()
        numbers = iter(range(REQUESTS))

        def client():
            while True:
                with lock:
                    number = next(numbers, None)
                if number is None:
                    return
                answers[number] = post(base, headers, number, keys[number])

        threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    runner = threading.Thread(target=burst)
    runner.start()
    killed = kill_workers_during(runner, process.pid)
    runner.join()

    lost = [number for number, (status, _) in answers.items() if status is None]
    assert killed > 0 and lost, "no request was cut off by a kill: the test proved nothing"
    assert all(status in (201, None) for status, _ in answers.values()), answers
    created = {body["data"][0]["festival_id"] for status, body in answers.values() if status == 201}

    ids, records, audits = stored(app)
    assert created <= ids  # every 201 the clients saw is stored
    assert len(ids) == records == audits  # each stored create has its key's record and its audit row

    wait_for(f"{base}/health", process, seconds=30, name="gunicorn")
    retried = {number: post(base, headers, number, keys[number]) for number in range(REQUESTS)}
    assert {status for status, _ in retried.values()} == {201}
    for number, (status, body) in answers.items():
        if status == 201:
            assert retried[number][1] == body  # the same answer again
    final, records, _ = stored(app)
    assert len(final) == REQUESTS == records  # one festival per key, whichever request created it
    assert {body["data"][0]["festival_id"] for _, body in retried.values()} == final

    again = {number: post(base, headers, number, keys[number]) for number in range(0, REQUESTS, 7)}
    assert all(body == retried[number][1] for number, (_, body) in again.items())
    assert stored(app)[0] == final
