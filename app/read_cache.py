"""Conditional and cached reads, validated by data versions (app/data_versions.py).

A read names the tables its answer depends on and the caller's visibility class ("public", "admin",
"user:<id>": who sees which drafts). Its key is a hash of those tables' counters, the path, the normalised
query and the class. Then:

- `If-None-Match` with the key's ETag answers 304 after one query (the counters): no row query, no JSON;
- a key found in the response cache answers the stored bytes; otherwise the read runs and its 200 answer is
  stored under the key. A write raises the counters in its own transaction, so every key built before it is
  unreachable at once: there is no TTL to wait for (Redis entries get one only to free memory).

The cache is in-process (bounded by bytes, least recently used first out, one per worker) by default, and Redis
when FESTIVALS_REDIS_URL is set (shared by every instance). Any read can use it, JSON or not:

    return cached_read(kinds, visibility, lambda: make_the_response())
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Iterable

from cachetools import LRUCache
from flask import Response, current_app, request

from app.data_versions import read_versions
from app.db import db

log = logging.getLogger("festivals.cache")
FORMAT = "1"  # raise when the serialized shape of reads changes: entries of the old shape become unreachable


class MemoryStore:
    """Bytes under keys, at most `max_bytes` in all (least recently used out first)."""

    def __init__(self, max_bytes: int):
        self._entries = LRUCache(maxsize=max_bytes, getsizeof=len)
        self._largest = max_bytes // 8  # one huge answer must not flush everything else
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            return self._entries.get(key)

    def set(self, key: str, value: bytes) -> None:
        if len(value) <= self._largest:
            with self._lock:
                self._entries[key] = value


class RedisStore:
    """Bytes in Redis, shared by every instance. Redis being down costs speed, never an answer."""

    def __init__(self, url: str, prefix: str, ttl: int):
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._errors = (redis.RedisError, OSError)
        self._prefix = prefix
        self._ttl = ttl

    def get(self, key: str) -> bytes | None:
        try:
            return self._redis.get(self._prefix + key)
        except self._errors as exc:
            log.warning("read cache: redis get failed: %s", exc)
            return None

    def set(self, key: str, value: bytes) -> None:
        try:
            self._redis.set(self._prefix + key, value, ex=self._ttl)
        except self._errors as exc:
            log.warning("read cache: redis set failed: %s", exc)


def init_read_cache(app) -> None:
    config = app.config
    if config["READ_CACHE_BYTES"] <= 0:  # no response cache; ETags and 304s still come from the counters
        store = None
    elif config["REDIS_URL"]:
        store = RedisStore(config["REDIS_URL"], config["READ_CACHE_PREFIX"], config["READ_CACHE_TTL"])
    else:
        store = MemoryStore(config["READ_CACHE_BYTES"])
    app.extensions["read_cache"] = store


def read_key(kinds: Iterable[str], visibility: str) -> str:
    """The key of this request's read: what it depends on, as of now."""
    versions = read_versions(db)
    parts = [FORMAT, current_app.config["VERSION"], request.path, visibility]
    parts += [f"{name}={value}" for name, value in sorted(request.args.items(multi=True))]
    parts += [f"{kind}:{versions.get(kind, 0)}" for kind in sorted(set(kinds))]
    return hashlib.blake2b("\n".join(parts).encode(), digest_size=20).hexdigest()


def _pack(etag: str, mimetype: str, body: bytes) -> bytes:
    return f"{etag}\n{mimetype}\n".encode() + body


def _unpack(value: bytes) -> tuple[str, str, bytes]:
    etag, mimetype, body = value.split(b"\n", 2)
    return etag.decode(), mimetype.decode(), body


def _not_modified(etag: str, how: str) -> Response:
    response = Response(status=304)
    response.set_etag(etag)
    response.headers["X-Cache"] = how
    return response


def cached_read(kinds: Iterable[str], visibility: str, render: Callable[[], Response]) -> Response:
    """The answer of `render()` (a 200 is stored), or the stored one, or 304; see the module's docstring.
    Call it after authentication and after checking the query (errors are never stored). `render` may set
    its own ETag (e.g. an object's version); it is stored and compared with the answer."""
    key = read_key(kinds, visibility)
    default_etag = key[:32]
    if request.if_none_match.contains_weak(default_etag):
        return _not_modified(default_etag, "not-modified")
    store = current_app.extensions.get("read_cache")
    stored = store.get(key) if store is not None else None
    if stored is not None:
        etag, mimetype, body = _unpack(stored)
        if request.if_none_match.contains_weak(etag):
            return _not_modified(etag, "not-modified")
        response = Response(body, mimetype=mimetype)
        response.set_etag(etag)
        response.headers["X-Cache"] = "hit"
        return response
    response = render()
    if response.status_code == 200:
        etag, _ = response.get_etag()
        if etag is None:
            etag = default_etag
            response.set_etag(etag)
        if store is not None and not response.is_streamed:
            store.set(key, _pack(etag, response.mimetype or "", response.get_data()))
    response.headers["X-Cache"] = "miss"
    return response
