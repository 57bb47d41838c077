"""Query parameters of list and relation reads: name, ids, include, limit, offset, updated_since, valid."""

from __future__ import annotations

from datetime import UTC, datetime

from werkzeug.datastructures import MultiDict

from app.errors import Invalid
from app.registry import EntitySpec
from app.services.reads import ListQuery
from app.text import whole_number
from web.params import MAX_ID, limit_offset


def parse_ids(raw: str) -> list[int]:
    numbers = [whole_number(part, max_digits=1000) for part in raw.split(",") if part.strip()]
    if None in numbers:
        raise Invalid(
            "ids must be whole numbers separated by commas, e.g. ids=1,2,37",
            {"ids": "must be whole numbers separated by commas"},
        )
    return [number for number in numbers if number <= MAX_ID]  # larger ids cannot exist


def parse_include(spec: EntitySpec, raw: str) -> list:
    names = [name.strip() for name in raw.split(",") if name.strip()]
    unknown = [name for name in names if name not in spec.relations]
    if unknown:
        allowed = ", ".join(sorted(spec.relations))
        raise Invalid(
            f"{spec.name} has no relation {', '.join(unknown)}; include one of: {allowed}",
            {"include": f"allowed: {allowed}"},
        )
    return [(name, spec.relations[name]) for name in dict.fromkeys(names)]


def parse_time(raw: str) -> datetime:
    """RFC 3339 or unix seconds, as naive UTC (how versions are stored)."""
    text = raw.strip().replace(" ", "+")  # an unencoded "+02:00" arrives as " 02:00"
    try:
        seconds = whole_number(text)
        if seconds is not None:
            moment = datetime.fromtimestamp(seconds, UTC)
        else:
            moment = datetime.fromisoformat(text)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
    except (ValueError, OverflowError, OSError):
        raise Invalid(
            "updated_since must be an RFC 3339 time (2026-07-02T22:41:02Z) or unix seconds",
            {"updated_since": "must be RFC 3339 or unix seconds"},
        ) from None
    return moment.astimezone(UTC).replace(tzinfo=None)


def parse_bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("true", "1"):
        return True
    if value in ("false", "0"):
        return False
    raise Invalid(f"{name} must be true or false", {name: "must be true or false"})


# Every parameter parse_list_query reads: a cached read's key holds these only (api/read_cache.py).
LIST_PARAMS = ("name", "ids", "include", "limit", "offset", "updated_since", "valid")


def parse_list_query(spec: EntitySpec, args: MultiDict) -> ListQuery:
    q = ListQuery()
    if "name" in args:
        if not spec.searchable:
            raise Invalid(f"{spec.plural} have no name to filter by", {"name": f"not supported on {spec.plural}"})
        if "\x00" in args["name"]:
            raise Invalid("name must not contain NUL characters", {"name": "must not contain NUL characters"})
        q.name = args["name"]
    if "ids" in args:
        q.ids = parse_ids(args["ids"])
    if "include" in args:
        q.include = parse_include(spec, args["include"])
    q.limit, q.offset = limit_offset(args)
    if args.get("updated_since"):
        q.updated_since = parse_time(args["updated_since"])
    if spec.name == "festival" and args.get("valid"):
        q.valid = parse_bool("valid", args["valid"])
    return q
