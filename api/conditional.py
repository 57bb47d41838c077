"""The headers of conditional and retried writes: If-Match / If-Unmodified-Since into a Precondition, the
Idempotency-Key of a POST, and the ETag of a written object.

An object's ETag is `"<version tag>.<digest>"` on a read (api/read_cache.py adds the digest of what else the
answer depends on: includes, visibility, query) and `"<version tag>"` on a write's answer. If-Match compares the
part before the first dot with the object's current version tag, so the ETag of a GET, a PATCH or a POST answer
all work; `*` matches any existing object."""

from __future__ import annotations

from datetime import UTC

from flask import Request, Response

from app.errors import Invalid
from app.services.idempotency import MAX_KEY_LENGTH
from app.services.preconditions import ANY, NONE, Precondition


def precondition(request: Request) -> Precondition:
    """If-Match wins over If-Unmodified-Since (RFC 9110 13.2.2); without either, NONE (no check). A weak tag
    never matches under If-Match, and an unreadable If-Unmodified-Since is ignored (RFC 9110 13.1.4)."""
    if request.headers.get("If-Match", "").strip():
        etags = request.if_match
        if etags.star_tag:
            return Precondition(tags=(ANY,))
        # werkzeug parses an empty `""` as None: a tag that names no version, matching nothing
        return Precondition(tags=tuple(tag.partition(".")[0] for tag in etags.as_set() if tag))
    since = request.if_unmodified_since
    if since is not None:
        return Precondition(unmodified_since=since.astimezone(UTC).replace(tzinfo=None))
    return NONE


def idempotency_key(request: Request) -> str | None:
    """The Idempotency-Key header: 1 to 255 visible ASCII characters (a UUID is typical), None when absent."""
    if "Idempotency-Key" not in request.headers:
        return None
    key = request.headers["Idempotency-Key"].strip()
    if not key or len(key) > MAX_KEY_LENGTH or not all("!" <= ch <= "~" for ch in key):
        raise Invalid(
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} visible ASCII characters, e.g. a UUID",
            {"Idempotency-Key": f"must be 1 to {MAX_KEY_LENGTH} visible ASCII characters"},
        )
    return key


def with_etag(response: Response, tag: str) -> Response:
    response.set_etag(tag)
    return response
