"""SQL built once per query shape, then bound with each request's values.

peewee takes longer to build a read's SQL than the database takes to run it (a one-festival read spent most of
its query time in SQL generation). A read's SQL depends only on its shape (which filters are present, who is
looking, which relation); the values change. So a shape is built once with sentinel values standing in for the
inputs, and the positions of the sentinels among the bound parameters say where each request's values go.

    sql, slots = compile_shape(query_built_with_sentinels)
    db.execute_sql(sql, bind(slots, {"user": 7, "ids": ids_param([1, 2])}))
"""

from __future__ import annotations

from datetime import datetime

from app.db import db, ids_param, like_pattern

# Values no request carries, one per input.
USER = -2_000_000_011
OWNER = -2_000_000_013
LIMIT = 2_000_000_017
OFFSET = 2_000_000_019
IDS = [-2_000_000_023]
NAME = "\x01sentinel-name\x01"  # a name= search (bound as its LIKE pattern)
TEXT = "\x01sentinel-text\x01"  # any other string, bound as it is
SINCE = datetime(1901, 2, 3, 4, 5, 6, 789012)


class Const:
    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


def _forms() -> list[tuple[object, str, object]]:
    """(bound form of a sentinel, slot name, how a real value gets that form)."""
    return [
        (USER, "user", None),
        (OWNER, "owner", None),
        (LIMIT, "limit", None),
        (OFFSET, "offset", None),
        (ids_param(IDS), "ids", ids_param),
        (like_pattern(NAME), "name", like_pattern),
        (TEXT, "text", None),
        (SINCE, "since", None),
        (str(SINCE), "since", str),
    ]


def compile_shape(query) -> tuple[str, tuple]:
    sql, params = db.get_sql_context().sql(query).query()
    forms = _forms()
    slots = []
    for param in params:
        for form, name, convert in forms:
            if type(param) is type(form) and param == form:
                slots.append((name, convert))
                break
        else:
            slots.append(Const(param))
    return sql, tuple(slots)


def bind(slots: tuple, values: dict) -> list:
    params = []
    for slot in slots:
        if isinstance(slot, Const):
            params.append(slot.value)
        else:
            name, convert = slot
            value = values[name]
            params.append(convert(value) if convert is not None else value)
    return params
