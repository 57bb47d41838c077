"""Domain exceptions raised by the services layer; api/ and portal/ turn them into responses."""

from __future__ import annotations


class DomainError(Exception):
    status = 400

    def __init__(self, message: str, fields: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class Invalid(DomainError):
    status = 400


class Unauthorized(DomainError):
    status = 401


class Forbidden(DomainError):
    status = 403


class NotFound(DomainError):
    status = 404


class ReadOnly(DomainError):
    status = 405


class Conflict(DomainError):
    status = 409


class PreconditionFailed(DomainError):
    """If-Match / If-Unmodified-Since named a version that is no longer the current one."""

    status = 412


class Unprocessable(DomainError):
    """Well-formed but refused, e.g. an Idempotency-Key reused with another body."""

    status = 422


class Unavailable(DomainError):
    """A service this request needs does not answer (503)."""

    status = 503


class RateLimited(DomainError):
    status = 429

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after
