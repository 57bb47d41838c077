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

    return cached_read(kinds, visibility, lambda: make_the_response(), params=("limit", "offset"))
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Iterable
from typing import NamedTuple

import orjson
from cachetools import LRUCache
from flask import Response, current_app, request
from werkzeug.datastructures import ETags

from app.data_versions import request_versions
from app.db import db
from app.registry import ENTITIES

log = logging.getLogger("festivals.cache")
# Part of every key: raise it when the serialized shape of reads changes, and entries of the old shape become
# unreachable. The entities' fields and relations are in it already: adding a field needs no change here.
FORMAT = (
    "2."
    + hashlib.blake2b(
        repr([(spec.name, spec.fields, sorted(spec.relations)) for spec in ENTITIES.values()]).encode(), digest_size=6
    ).hexdigest()
)
# environ: (fixed key part, kinds, route, kept headers, read) of a plain read, for api/fast_reads.py
FAST_READ = "festivals.fast_read"
NOT_MODIFIED, HIT = "not-modified", "hit"  # X-Cache of the answers made without running the read
MISS = "miss"  # X-Cache of an answer the read made


Headers = tuple[tuple[str, str], ...]


class Rendered(NamedTuple):
    """What a plain read makes of its data (api/resources.py): one rule for both paths, Flask's (`response_of`)
    and api/fast_reads.py's, which answers a miss below Flask with the same bytes."""

    body: bytes
    mimetype: str
    tag: str | None = None  # the version tag of the one object answered (the ETag's start), else None
    headers: Headers = ()  # those of `cached_read(keep=...)`, stored with the answer (an export's file name)


def response_of(rendered: Rendered) -> Response:
    response = Response(rendered.body, mimetype=rendered.mimetype, headers=list(rendered.headers))
    if rendered.tag is not None:
        response.set_etag(rendered.tag)
    return response


def etag_of(tag: str | None, key: str) -> str:
    """A rendered answer's ETag: the read's digest (the key's start), after the object's version tag if any."""
    return key[:32] if tag is None else f"{tag}.{key[:32]}"


class Stored(NamedTuple):
    """A stored answer: what a hit sends (headers: those of `cached_read(keep=...)`, which may depend on data)."""

    etag: str
    mimetype: str
    body: bytes
    headers: Headers = ()


MAX_TTL = 6 * 3600  # Redis: an entry lives at most this long (only to free memory; it is unreachable after a write)


def largest_answer(max_bytes: int) -> int:
    """The largest body a store keeps: one huge answer must not flush everything else (or fill Redis)."""
    return max_bytes // 8


class MemoryStore:
    """Answers under keys, bodies of at most `max_bytes` in all (least recently used out first). Kept as they
    are, not packed: a hit hands out the very body stored (copying 180 KB per hit cost a fifth of its speed)."""

    def __init__(self, max_bytes: int):
        self._entries = LRUCache(maxsize=max_bytes, getsizeof=lambda stored: len(stored.body) + 64)
        self._largest = largest_answer(max_bytes)
        self._lock = threading.Lock()

    def get(self, key: str) -> Stored | None:
        with self._lock:
            return self._entries.get(key)

    def set(self, key: str, stored: Stored) -> None:
        if len(stored.body) <= self._largest:
            with self._lock:
                self._entries[key] = stored


class RedisStore:
    """Answers in Redis (packed as one value), shared by every instance. Redis being down costs speed, never an
    answer."""

    def __init__(self, url: str, prefix: str, ttl: int, max_bytes: int):
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._errors = (redis.RedisError, OSError)
        self._prefix = prefix
        self._ttl = min(ttl, MAX_TTL)
        self._largest = largest_answer(max_bytes)

    def get(self, key: str) -> Stored | None:
        try:
            value = self._redis.get(self._prefix + key)
        except self._errors as exc:
            log.warning("read cache: redis get failed: %s", exc)
            return None
        if value is None:
            return None
        etag, mimetype, headers, body = value.split(b"\n", 3)
        return Stored(etag.decode(), mimetype.decode(), body, tuple(map(tuple, orjson.loads(headers))))

    def set(self, key: str, stored: Stored) -> None:
        if len(stored.body) > self._largest:
            return
        head = f"{stored.etag}\n{stored.mimetype}\n".encode() + orjson.dumps(stored.headers) + b"\n"
        try:
            self._redis.set(self._prefix + key, head + stored.body, ex=self._ttl)
        except self._errors as exc:
            log.warning("read cache: redis set failed: %s", exc)


def init_read_cache(app) -> None:
    config = app.config
    if config["READ_CACHE_BYTES"] <= 0:  # no response cache; ETags and 304s still come from the counters
        store = None
    elif config["REDIS_URL"]:
        store = RedisStore(
            config["REDIS_URL"], config["READ_CACHE_PREFIX"], config["READ_CACHE_TTL"], config["READ_CACHE_BYTES"]
        )
    else:
        store = MemoryStore(config["READ_CACHE_BYTES"])
    app.extensions["read_cache"] = store


def read_scope_of_request(
    kinds: Iterable[str], visibility: str, params: Iterable[str], by_host: bool = False
) -> tuple[str, tuple[str, ...]]:
    """(the part of this request's key that no write changes, the kinds whose counters complete it). Only the
    query parameters the read uses (`params`, each read as `args.get` reads it: the first value) are part of it,
    sorted: unknown or repeated ones name the same answer, so junk in a URL cannot fill the store. `by_host`:
    the answer names this server's address (links in a schedule), so each scheme and host has its own."""
    parts = [FORMAT, current_app.config["VERSION"], request.path, visibility]
    if by_host:
        parts.append(request.url_root)
    parts += [f"{name}={request.args[name]}" for name in sorted(set(params)) if name in request.args]
    return "\n".join(parts), tuple(sorted(set(kinds)))


def key_of(fixed: str, kinds: tuple[str, ...], versions: dict[str, int]) -> str:
    """A read's key: its fixed part and the current counters of its kinds."""
    text = fixed + "".join(f"\n{kind}:{versions.get(kind, 0)}" for kind in kinds)
    return hashlib.blake2b(text.encode(), digest_size=20).hexdigest()


def still_valid(if_none_match: ETags, digest: str, stored_etag: str | None = None) -> str | None:
    """The tag of `If-None-Match` that still names the current answer, else None: the read's digest itself,
    an object read's `"<version>.<digest>"` (the same digest: nothing it depends on changed, its version
    included), or the stored answer's ETag. `*` matches only a current representation (RFC 9110 13.1.2):
    the stored answer (a 200), never a read not yet made (a missing id or a hidden draft answers 404)."""
    if not if_none_match:  # none sent: most reads
        return None
    if if_none_match.star_tag:
        return stored_etag
    if if_none_match.contains_weak(digest):
        return digest
    for tag in if_none_match.as_set(include_weak=True):
        if tag and tag.endswith("." + digest):  # werkzeug parses an empty `""` as None
            return tag
    if stored_etag is not None and if_none_match.contains_weak(stored_etag):
        return stored_etag
    return None


class Answer(NamedTuple):
    how: str  # X-Cache: NOT_MODIFIED (no body) or HIT
    etag: str
    stored: Stored | None  # a HIT's answer


def answer_without_reading(store, key: str, if_none_match: ETags) -> Answer | None:
    """The one "hit or 304" decision of both paths (cached_read here, api/fast_reads.py below Flask), made from
    the read's key alone: a 304 or the stored answer; None when the read must run."""
    default_etag = key[:32]
    valid = still_valid(if_none_match, default_etag)
    if valid is not None:
        return Answer(NOT_MODIFIED, valid, None)
    stored = store.get(key) if store is not None else None
    if stored is None:
        return None
    valid = still_valid(if_none_match, default_etag, stored.etag)
    if valid is not None:
        return Answer(NOT_MODIFIED, valid, None)
    return Answer(HIT, stored.etag, stored)


def _not_modified(etag: str) -> Response:
    response = Response(status=304)
    response.set_etag(etag)
    response.headers["X-Cache"] = NOT_MODIFIED
    return response


def cached_read(
    kinds: Iterable[str],
    visibility: str,
    render: Callable[[], Response],
    *,
    params: Iterable[str],
    plain: bool = False,
    keep: tuple[str, ...] = (),
    by_host: bool = False,
    read: Callable | None = None,
) -> Response:
    """The answer of `render()` (a 200 is stored), or the stored one, or 304; see the module's docstring.
    Call it after authentication and after checking the query (errors are never stored). `render` may set
    its own ETag, the version tag of the object it answers (app/services/preconditions.py): the ETag is then
    `"<version tag>.<digest>"`, which If-Match on a write compares by its version tag alone. `plain`: the
    answer's headers never depend on the data but for those in `keep` (stored with the answer), so
    api/fast_reads.py may answer its hits and 304s. `params`: the query parameters `render` reads (the others
    are not part of the key); `by_host`: see read_scope_of_request. `read`: of a plain read, `render`'s work as
    a callable of the caller's Actor returning a `Rendered` (render = `response_of(read(actor))`): with it
    api/fast_reads.py answers misses too."""
    fixed, kinds = read_scope_of_request(kinds, visibility, params, by_host)
    key = key_of(fixed, kinds, request_versions(request.environ, db))
    if plain:
        request.environ[FAST_READ] = (fixed, kinds, request.url_rule.rule if request.url_rule else "", keep, read)
    store = current_app.extensions.get("read_cache")
    answer = answer_without_reading(store, key, request.if_none_match)
    if answer is not None:
        if answer.stored is None:
            return _not_modified(answer.etag)
        response = Response(answer.stored.body, mimetype=answer.stored.mimetype, headers=answer.stored.headers)
        response.set_etag(answer.etag)
        response.headers["X-Cache"] = HIT
        return response
    response = render()
    if response.status_code == 200:
        etag = etag_of(response.get_etag()[0], key)
        response.set_etag(etag)
        if store is not None and not response.is_streamed:
            headers = tuple((name, response.headers[name]) for name in keep if name in response.headers)
            store.set(key, Stored(etag, response.mimetype or "", response.get_data(), headers))
        if request.if_none_match.star_tag:  # it exists: `*` matches it
            return _not_modified(etag)
    response.headers["X-Cache"] = MISS
    return response
