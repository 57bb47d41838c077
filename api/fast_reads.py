"""The fast read path: cache hits and 304s of API reads answered below Flask, at the WSGI level.

A cache hit through Flask spent far more time in routing, request and response objects and hooks than in
finding the answer. So, for `GET /api/v1/...` with an `Api-Key` (no `Authorization`, no cookie), this
middleware answers from the read cache (api/read_cache.py) after ONE query: the key's row and the data-version
counters the read depends on. Anything it cannot answer exactly as Flask would goes to Flask unchanged:

- which counters a read depends on and the fixed part of its key come from Flask's own answer to the same
  path and query (`cached_read(..., plain=True)` leaves them in the environ); so do the headers (security
  headers, Vary, Cache-Control, API-Version, ...), learned from that answer in their order. Reads whose
  headers could depend on the data never opt in. Until Flask has answered a path once, the path goes to Flask;
- the key is checked by app/services/api_keys.py's own rules; an unknown, revoked or malformed key goes to
  Flask (which answers 401); a use due to be recorded is noted as Flask notes it (written in the background);
- a miss (or any answer, without a response cache) of a read that hands `cached_read` its `read` (the plain
  reads of api/resources.py, the schedule exports of api/exports.py) is made here by that very callable: the
  services, app/permissions.py's rules, the same bytes (and stored as Flask stores them). Whatever it raises
  (404, a hidden draft, a database error) is left to Flask, which makes that read again and answers as always;
  so is `If-None-Match: *`. Reads without `read` go to Flask on a miss.

What it answers carries the same headers as Flask's (ETag, X-Cache, X-Request-ID, ...), and gets the same
access log line. `observers` (callables of route, method, status, seconds, X-Cache) see each answer, e.g.
for metrics."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from cachetools import LRUCache
from peewee import PeeweeException
from werkzeug.http import parse_etags
from werkzeug.utils import get_content_type

from api.read_cache import FAST_READ, HIT, MISS, NOT_MODIFIED, Stored, answer_without_reading, etag_of, key_of
from app.db import db, is_sqlite
from app.permissions import Actor
from app.services import api_keys
from common.http import log_access, request_id
from web.requests import log as access_log

PREFIX = "/api/v1/"
# Headers set per answer (the rest of a learned answer's headers are the same for every answer of its path).
PER_ANSWER = {"content-type", "content-length", "etag", "x-cache", "x-request-id"}


@dataclass(frozen=True)
class Route:
    fixed: str  # the fixed part of the read's key (api/read_cache.py)
    kinds: tuple[str, ...]
    sql: str  # the key's row and the kinds' counters, in one query
    headers: tuple[tuple[str, str | None], ...]  # in Flask's order; None: X-Request-ID goes there
    rule: str  # the route's template, for observers
    read: Callable | None  # a plain read's `read` (api/read_cache.py's cached_read): misses are answered too


class FastReads:
    def __init__(self, app, wsgi_app, routes: int = 4096):
        self.app = app
        self.wsgi_app = wsgi_app
        self.routes: LRUCache = LRUCache(maxsize=routes)
        self.lock = threading.Lock()
        self.observers: list[Callable[[str, str, int, float, str], None]] = []

    def __call__(self, environ, start_response):
        if (
            environ.get("REQUEST_METHOD") != "GET"
            or not environ.get("PATH_INFO", "").startswith(PREFIX)
            or "HTTP_API_KEY" not in environ
            or "HTTP_AUTHORIZATION" in environ
            or "HTTP_COOKIE" in environ
        ):
            return self.wsgi_app(environ, start_response)
        started = time.perf_counter()
        where = (
            environ.get("wsgi.url_scheme"),
            environ.get("HTTP_HOST"),  # a read may name this server's address (read_cache's `by_host`)
            environ["PATH_INFO"],
            environ.get("QUERY_STRING", ""),
        )
        route = self.routes.get(where)
        # Without a response cache and `read`, only a 304 can be answered here.
        if route is not None and (
            route.read is not None
            or self.app.extensions.get("read_cache") is not None
            or "HTTP_IF_NONE_MATCH" in environ
        ):
            answer = self._answer(route, environ)
            if answer is not None:
                status, headers, body, cache = answer
                start_response(status, headers)
                self._done(environ, route.rule, int(status[:3]), started, cache)
                return [body]
        return self._learn(where, environ, start_response)

    # --- answering ---------------------------------------------------------------------------------------

    def _answer(self, route: Route, environ):
        """(status, headers, body, X-Cache) of a hit, a 304 or a made miss; None: Flask answers."""
        key = environ["HTTP_API_KEY"]
        prefix = api_keys.key_prefix(key)
        if prefix is None:
            return None
        try:
            opened = db.connect(reuse_if_open=True)
            try:
                return self._answer_connected(route, environ, key, prefix)
            finally:
                if opened:
                    db.close()
        except PeeweeException:  # the database is down or locked: Flask answers (503 with the envelope)
            return None

    def _answer_connected(self, route: Route, environ, key: str, prefix: str):
        row = db.execute_sql(route.sql, [*route.kinds, prefix]).fetchone()
        key_id = api_keys.live_key(key, "api", prefix, row, record_use=not self.app.config["READ_ONLY"])
        if key_id is None:
            return None  # unknown, revoked, not an API key
        versions = api_keys.versions_of(row)
        digest = key_of(route.fixed, route.kinds, versions)
        etags = parse_etags(environ.get("HTTP_IF_NONE_MATCH"))
        store = self.app.extensions.get("read_cache")
        answer = answer_without_reading(store, digest, etags)
        if answer is None:
            if route.read is None or etags.star_tag:  # `*` answers 304 after the read: Flask's
                return None
            return self._made(route, environ, Actor("api_key", key_id=key_id), store, digest)
        if answer.stored is None:
            headers = [("ETag", f'"{answer.etag}"'), ("X-Cache", NOT_MODIFIED)] + self._rest(route, environ)
            return "304 NOT MODIFIED", headers, b"", NOT_MODIFIED
        return self._ok(route, environ, answer.stored, answer.etag, HIT)

    def _made(self, route: Route, environ, actor: Actor, store, digest: str):
        """A miss made by the read's own `read`, stored as cached_read stores it; None: Flask answers."""
        try:
            rendered = route.read(actor)
        except Exception:  # noqa: BLE001  a 404, a hidden draft, a database error: Flask makes the read again
            return None
        stored = Stored(etag_of(rendered.tag, digest), rendered.mimetype, rendered.body, rendered.headers)
        if store is not None:
            store.set(digest, stored)
        return self._ok(route, environ, stored, stored.etag, MISS)

    def _ok(self, route: Route, environ, stored: Stored, etag: str, cache: str):
        first = [
            *stored.headers,  # first, as Flask's Response(body, mimetype=..., headers=...) puts them
            ("Content-Type", get_content_type(stored.mimetype, "utf-8")),
            ("Content-Length", str(len(stored.body))),
            ("ETag", f'"{etag}"'),
            ("X-Cache", cache),
        ]
        return "200 OK", first + self._rest(route, environ), stored.body, cache

    @staticmethod
    def _rest(route: Route, environ) -> list[tuple[str, str]]:
        rid = environ["festivals.request_id"] = request_id(environ.get("HTTP_X_REQUEST_ID", ""))
        return [(name, rid if value is None else value) for name, value in route.headers]

    def _done(self, environ, rule: str, status: int, started: float, cache: str) -> None:
        seconds = time.perf_counter() - started
        path = environ["PATH_INFO"].encode("latin-1").decode("utf-8", "replace")
        rid = environ["festivals.request_id"]
        log_access(access_log, "GET", path, status, seconds * 1000, environ.get("REMOTE_ADDR"), rid)
        for observe in self.observers:
            observe(rule, "GET", status, seconds, cache)

    # --- learning from Flask's answers -------------------------------------------------------------------

    def _learn(self, where, environ, start_response):
        def learning_start_response(status, headers, exc_info=None):
            scope = environ.get(FAST_READ)
            if scope is not None and status[:3] in ("200", "304") and self._learnable(headers):
                fixed, kinds, rule, kept, read = scope
                per_answer = PER_ANSWER | {name.lower() for name in kept}  # kept: stored with each answer
                rest = tuple(
                    (name, None if name.lower() == "x-request-id" else value)
                    for name, value in headers
                    if name.lower() not in per_answer or name.lower() == "x-request-id"
                )
                sql = api_keys.key_and_versions_sql(not is_sqlite(), len(kinds))
                route = Route(fixed, kinds, sql, rest, rule, read)
                with self.lock:
                    self.routes[where] = route
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, learning_start_response)

    @staticmethod
    def _learnable(headers) -> bool:
        names = {name.lower() for name, _ in headers}
        return "set-cookie" not in names and "x-cache" in names


def init_fast_reads(app) -> FastReads:
    fast = FastReads(app, app.wsgi_app)
    app.wsgi_app = fast
    app.extensions["fast_reads"] = fast
    return fast
