"""Query parameters every JSON list reads the same way (the API's lists, /identity/users): whole numbers
in a range, limit and offset. Out of range or not a number is a 400 naming the parameter, never a clamp."""

from __future__ import annotations

from werkzeug.datastructures import MultiDict

from app.errors import Invalid
from app.text import whole_number

MAX_LIMIT = 1000
MAX_ID = 2**31 - 1  # ids are 32-bit on PostgreSQL


def integer(args: MultiDict, name: str, low: int, high: int | None) -> int | None:
    """`args[name]` as a whole number from `low` to `high`; None when absent or empty."""
    raw = args.get(name)
    if raw is None or raw == "":
        return None
    value = whole_number(raw)
    if value is None or value < low or (high is not None and value > high):
        bound = f"from {low} to {high}" if high is not None else f"of at least {low}"
        raise Invalid(f"{name} must be a whole number {bound}", {name: f"must be a whole number {bound}"})
    return value


def limit_offset(args: MultiDict, default_limit: int | None = None) -> tuple[int | None, int]:
    """(limit, offset): limit 1..1000 (`default_limit` when absent), offset 0..2^31-1 (0 when absent)."""
    limit = integer(args, "limit", 1, MAX_LIMIT)
    return (default_limit if limit is None else limit), integer(args, "offset", 0, MAX_ID) or 0
