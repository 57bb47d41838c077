"""SQL built once per query shape, then bound with each request's values.

peewee takes longer to build a read's SQL than the database takes to run it (a one-festival read spent most of
its query time in SQL generation). A read's SQL depends only on its shape (which filters are present, who is
looking, which relation); the values change. So a shape is built once with sentinel values standing in for the
inputs, and the positions of the sentinels among the bound parameters say where each request's values go.

    sql, slots = compile_shape(query_built_with_sentinels)
    db.execute_sql(sql, bind(slots, {"user": 7, "ids": ids_param([1, 2])}))
"""

from __future__ import annotations

import hashlib
import re
import weakref
from datetime import datetime
from functools import lru_cache

from peewee import DatabaseError

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


# Prepared statements (PostgreSQL). Planning a big statement can cost more of the server's CPU than running it (the
# name= search at 1M events: ~1.5 ms of ~4.7): `execute_prepared` plans a shape once per connection. The server
# keeps a generic plan (plan_cache_mode, set on the connection with its first PREPARE: nothing else of ours is
# prepared and no function of ours caches plans); the values that steer the plan are written into the statement
# (`literal`: a LIMIT as a parameter made the planner expect many rows and hash every draft's events), the rest
# are its parameters.
MAX_PREPARED = 16  # statements per connection (the server keeps each plan); more (many limits) run unprepared
STALE_PREPARED = {"26000", "0A000"}  # no such statement (DISCARD ALL); "cached plan must not change result type"
_prepared_on: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # connection -> its statements' names


@lru_cache(maxsize=256)  # bounded: each limit a request names (up to 1,000) is a statement of its own
def _statement(sql: str, slots: tuple, literals: tuple) -> tuple[str, str, list, tuple]:
    """The statement's name, its PREPARE (constants and `literals` as %s, bound by the driver), those values,
    and the slots of its parameters ($1, $2, ...: one per input, however often the SQL uses it)."""
    fixed = dict(literals)
    constants, parameters = [], []
    positions = iter(slots)

    def placeholder(_match) -> str:
        slot = next(positions)
        if isinstance(slot, Const) or slot[0] in fixed:
            constants.append(slot.value if isinstance(slot, Const) else fixed[slot[0]])
            return "%s"
        if slot not in parameters:
            parameters.append(slot)
        return f"${parameters.index(slot) + 1}"

    body = re.sub(r"%s", placeholder, sql)
    name = "fa_" + hashlib.blake2b(repr((sql, literals)).encode(), digest_size=12).hexdigest()
    return name, f"PREPARE {name} AS {body}", constants, tuple(parameters)


def execute_prepared(shape: tuple, values: dict, literal: tuple[str, ...] = ()):
    """The cursor of `shape` bound with `values` (as `bind`), run as a prepared statement of this connection;
    in a transaction, unprepared (a failed EXECUTE would abort it). A statement the server lost (DISCARD ALL, a
    column's type changed) fails once: the connection's statements are forgotten and this call runs unprepared."""
    sql, slots = shape
    name, prepare, constants, parameters = _statement(sql, slots, tuple((key, values[key]) for key in literal))
    prepared = _prepared_on.setdefault(db.connection(), set())
    if db.in_transaction() or (name not in prepared and len(prepared) >= MAX_PREPARED):
        return db.execute_sql(sql, bind(slots, values))
    if name not in prepared:
        db.execute_sql(("" if prepared else "SET plan_cache_mode = force_generic_plan; ") + prepare, constants)
        prepared.add(name)
    arguments = bind(parameters, values)
    try:
        return db.execute_sql(f"EXECUTE {name}({', '.join(['%s'] * len(arguments))})", arguments)
    except DatabaseError as exc:
        if getattr(exc.__context__, "pgcode", None) not in STALE_PREPARED:  # peewee raises it from the driver's
            raise
    db.execute_sql("DEALLOCATE ALL")
    prepared.clear()
    return db.execute_sql(sql, bind(slots, values))
