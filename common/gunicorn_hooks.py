"""gunicorn config hooks: `gunicorn -c python:common.gunicorn_hooks ... wsgi:app` sends heartbeats from the
master process (one thread per instance, whatever the number of workers), and a last "not available" beat on
a clean stop. Without FESTIVALS_DISCOVERY_URL and FESTIVALS_SERVICE_KEY nothing is sent."""

from __future__ import annotations

from common.heartbeat import from_env

SERVICES = {"app": "app", "files": "files", "identity_app": "identity"}  # wsgi entry point -> service name
_senders = []


def when_ready(server):
    entry = (getattr(server.app, "app_uri", "") or "").rpartition(":")[2]
    port = next(
        (
            listener.sock.getsockname()[1]
            for listener in server.LISTENERS
            if isinstance(listener.sock.getsockname(), tuple)
        ),
        None,
    )
    sender = from_env(SERVICES.get(entry, entry), port) if port else None
    if sender is not None:
        _senders.append(sender.start())
        server.log.info("heartbeats every %ss to %s as %s", sender.interval, sender.url, sender.body["service"])


def on_exit(server):
    for sender in _senders:
        sender.stop()
