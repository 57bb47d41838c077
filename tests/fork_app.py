"""A tiny WSGI app for the worker tests (tests/gateway/test_heartbeat_process.py): each worker hashes once as it
starts (as KeyStore.load does) and on every request, and answers with its pid. `/slow` answers after 2 s (its
headers at once, its body then: a response begun), `/hang` never (a thread stuck for good)."""

import hashlib
import os
import threading
import time

STARTED = hashlib.sha256(f"worker {os.getpid()}".encode()).hexdigest()
NEVER = threading.Event()


def app(environ, start_response):
    body = f"{os.getpid()} {hashlib.sha256(STARTED.encode()).hexdigest()}".encode()
    if environ["PATH_INFO"] == "/hang":
        NEVER.wait()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    if environ["PATH_INFO"] == "/slow":
        return slowly(body)
    return [body]


def slowly(body: bytes):
    yield body[:1]
    time.sleep(2)
    yield body[1:]
