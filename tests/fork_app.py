"""A tiny WSGI app for the fork test (tests/gateway/test_heartbeat_process.py): each worker hashes once as it
starts (as KeyStore.load does) and on every request, and answers with its pid."""

import hashlib
import os

STARTED = hashlib.sha256(f"worker {os.getpid()}".encode()).hexdigest()


def app(environ, start_response):
    body = f"{os.getpid()} {hashlib.sha256(STARTED.encode()).hexdigest()}".encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
