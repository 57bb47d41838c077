"""Prometheus metrics of every service (app, identity, file server, registry) and their `GET /metrics`.

Under gunicorn each worker is its own process: `common/gunicorn_hooks.py` points PROMETHEUS_MULTIPROC_DIR at a
folder of the process group before any worker starts, every worker writes its values there, and a scrape of
any worker sums them all (prometheus_client's multiprocess mode). Without it (flask run, tests) the values
are the process's own.

Who may read them: callers on loopback (the real peer address, and no proxy in between: a request the
gateway forwarded carries X-Forwarded-For), a scraper on another host with a client certificate of the role
`metrics` (`flask --app wsgi pki issue prometheus --role metrics`; on a service's mTLS port), and admins (the
service's own `authorize`, which raises its refusal: 401/403 in the service's envelope)."""

from __future__ import annotations

import ipaddress
import os
import time
from collections.abc import Callable
from functools import lru_cache

from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

from common import pki
from common.http import peer_role

METRICS_ROLE = "metrics"  # the certificate role (common/pki.py) of a Prometheus server scraping /metrics
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

REQUESTS = Counter("festivals_http_requests_total", "HTTP requests answered", ["route", "method", "status"])
LATENCY = Histogram(
    "festivals_http_request_duration_seconds",
    "Time from the first request hook to the answer",
    ["route", "method"],
    buckets=LATENCY_BUCKETS,
)
DB_QUERIES = Histogram(
    "festivals_db_queries_per_request",
    "SQL statements run by one request",
    ["route"],
    buckets=(0, 1, 2, 3, 5, 8, 13, 21, 50, 100),
)
DB_SECONDS = Histogram(
    "festivals_db_seconds_per_request",
    "Time one request spent in SQL statements",
    ["route"],
    buckets=LATENCY_BUCKETS,
)
POOL = Gauge(
    "festivals_db_pool_connections",
    "Database connections of the pool: in_use by a request, idle in the pool, max allowed (summed over processes)",
    ["state"],
    multiprocess_mode="livesum",
)
READ_CACHE = Counter("festivals_read_cache_total", "Cached reads by X-Cache answer", ["result"])
UPLOADS = Counter("festivals_uploads_total", "File server uploads", ["kind", "result"])
THUMBNAILS = Counter("festivals_thumbnails_made_total", "Thumbnails made (not served from disk)", ["format"])
HEARTBEATS = Counter("festivals_heartbeats_total", "Heartbeats accepted by the registry", ["service", "available"])
HEARTBEATS_REFUSED = Counter("festivals_heartbeats_refused_total", "Heartbeats the registry refused", ["status"])
IDENTITY_LOOKUPS = Counter("festivals_registry_identity_lookups_total", "Calls of the registry to identity")
# For the alert rules (monitoring/alerts.rules.yml); "mostrecent": the value a worker set last wins
DATABASE_UP = Gauge(
    "festivals_database_up",
    "1 when the database answered the last readiness check, else 0",
    multiprocess_mode="mostrecent",
)
CERTIFICATE_DAYS = Gauge(
    "festivals_certificate_days_left",
    "Days until a certificate the service depends on expires (negative: expired)",
    ["name"],
    multiprocess_mode="mostrecent",
)
INSTANCES = Gauge(
    "festivals_registry_instances",
    "Instances the registry knows, by service and state",
    ["service", "state"],
    multiprocess_mode="mostrecent",
)


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def exposition() -> bytes:
    """The text of a scrape: every worker's values in multiprocess mode, else this process's."""
    if multiprocess_dir():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)


def from_loopback() -> bool:
    """The TCP peer is this machine and no proxy forwarded the request (werkzeug's ProxyFix keeps the peer's
    own address in `werkzeug.proxy_fix.orig`; `request.remote_addr` is then the forwarded one)."""
    environ = request.environ
    if request.headers.get("X-Forwarded-For") or request.headers.get("Forwarded"):
        return False
    peer = environ.get("werkzeug.proxy_fix.orig", {}).get("REMOTE_ADDR") or environ.get("REMOTE_ADDR", "")
    try:
        address = ipaddress.ip_address(peer.split("%", 1)[0])
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return (mapped or address).is_loopback


def route_label() -> str:
    """The route template (`/api/v1/festivals/<id:id>`), never the raw path: one series per route."""
    rule = request.url_rule
    return rule.rule if rule is not None else "<unmatched>"


def query_hook(event) -> None:
    """peewee query hook (`database.query_hooks`): counts and times the statements of the current request."""
    try:
        stats = g._metrics_db
    except (AttributeError, RuntimeError):  # no request (CLI, background thread)
        return
    stats[0] += 1
    stats[1] += event.duration


def set_pool(database) -> None:
    """This process's pool use (peewee's PooledDatabase), set after each request gave its connection back;
    nothing for a database without a pool."""
    in_use = getattr(database, "_in_use", None)
    if in_use is None:
        return
    _pool("in_use").set(len(in_use))
    _pool("idle").set(len(database._connections))
    _pool("max").set(database._max_connections or 0)


# The labelled series, looked up once: `labels()` took longer than answering a cached read below Flask.
@lru_cache(maxsize=4096)
def _requests(route: str, method: str, status: int):
    return REQUESTS.labels(route, method, str(status))


@lru_cache(maxsize=4096)
def _latency(route: str, method: str):
    return LATENCY.labels(route, method)


@lru_cache(maxsize=8)
def _read_cache(result: str):
    return READ_CACHE.labels(result)


@lru_cache(maxsize=4096)
def _db_per_request(route: str):
    return DB_QUERIES.labels(route), DB_SECONDS.labels(route)


@lru_cache(maxsize=8)
def _pool(state: str):
    return POOL.labels(state)


def count_answer(route: str, method: str, status: int, seconds: float, cache: str | None = None) -> None:
    """One answered request: its count, its latency and its X-Cache (also for answers made below Flask)."""
    method = method if method in METHODS else "other"
    _requests(route, method, status).inc()
    _latency(route, method).observe(seconds)
    if cache in ("hit", "miss", "not-modified"):
        _read_cache(cache).inc()


def init_metrics(app: Flask, authorize: Callable[[], None], database=None) -> None:
    """Counts every request of `app`, and `GET /metrics`. `authorize()` is asked for callers off loopback:
    it returns when the caller is an admin and raises the service's 401/403 otherwise. With `database`
    (peewee), its statements per request and its pool use too."""
    if database is not None:
        database.query_hooks.append(query_hook)

    @app.before_request
    def _metrics_start():
        g._metrics_started = time.perf_counter()
        g._metrics_db = [0, 0.0]

    @app.after_request
    def _metrics_count(response: Response):
        route = route_label()
        started = g.get("_metrics_started") or time.perf_counter()
        seconds = time.perf_counter() - started
        count_answer(route, request.method, response.status_code, seconds, response.headers.get("X-Cache"))
        if database is not None:
            queries, seconds = g.get("_metrics_db", (0, 0.0))
            per_request = _db_per_request(route)
            per_request[0].observe(queries)
            per_request[1].observe(seconds)
        return response

    @app.get("/metrics")
    def metrics():
        if not from_loopback() and peer_role() != METRICS_ROLE:
            authorize()
        watch = app.extensions.get("certificates")
        if watch is not None:
            for info in pki.expiring(watch.paths, warn_days=1_000_000):  # every certificate, read at each scrape
                CERTIFICATE_DAYS.labels(info.name).set(round(info.days_left, 2))
        return Response(exposition(), content_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})
