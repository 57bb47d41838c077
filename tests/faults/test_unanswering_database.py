"""A database server that accepts connections and never answers (a hung or black-holed host): /health answers
at once (it never touches the database), and requests that need the database answer 503 with the envelope once
the connection attempt times out, instead of hanging for good."""

from __future__ import annotations

import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from app.db import CONNECT_TIMEOUT_S


@pytest.fixture
def silent_server():
    """A TCP port that accepts connections and never says a word."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted = []
    stop = threading.Event()

    def accept():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue
            except OSError:
                return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    for connection in accepted:
        connection.close()
    listener.close()


def test_health_answers_at_once_and_reads_fail_in_bounded_time(make_app, silent_server):
    app = make_app(DATABASE_URL=f"postgresql://postgres@127.0.0.1:{silent_server}/festivals")
    client = app.test_client()
    pool = ThreadPoolExecutor(2)  # a hanging request fails the test instead of hanging it
    try:
        started = time.monotonic()
        health = pool.submit(client.get, "/health").result(timeout=2)
        assert health.status_code == 200 and time.monotonic() - started < 1.0
        started = time.monotonic()
        ready = pool.submit(client.get, "/ready").result(timeout=CONNECT_TIMEOUT_S + 5)
        assert ready.status_code == 503 and ready.get_json()["database"] == "unreachable"
        assert time.monotonic() - started < CONNECT_TIMEOUT_S + 2
    finally:
        pool.shutdown(wait=False)  # a request still hanging ends when the silent server closes
