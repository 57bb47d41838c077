"""Reads of the contract's entities: filters, paging and batched includes; which drafts a caller sees is
app/permissions.py's `visible` condition.

A list costs one query for its rows plus one per requested include, whatever the number of rows:
includes select the related rows of the whole page at once (the page's ids as a subquery)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

from peewee import SQL, NodeList

from app import sql_shapes
from app.db import contains_text, db, in_ids, is_sqlite
from app.errors import NotFound
from app.models import Festival, FestivalMember
from app.models.relations import FestivalEvent
from app.permissions import Actor, draft_rule, require_reader, visibility_class, visible
from app.registry import ENTITIES, EntitySpec, RelationSpec
from app.serialize import columns, raw_converter
from app.services.preconditions import Saved, version_tag


@dataclass
class ListQuery:
    name: str | None = None
    ids: list[int] | None = None
    include: list[tuple[str, RelationSpec]] = field(default_factory=list)  # (key as sent, relation)
    limit: int | None = None
    offset: int = 0
    updated_since: datetime | None = None
    valid: bool | None = None


def conditions(spec: EntitySpec, q: ListQuery) -> list:
    """The query's filters (who may see which rows is `visible`, applied by `select`)."""
    model = spec.model
    where = []
    if q.name is not None:
        where.append(contains_text(model.name, q.name))
    if q.ids is not None:
        where.append(in_ids(model.id, q.ids))
    if q.updated_since is not None:
        where.append(model.version > q.updated_since)
    if q.valid is not None and spec.name == "festival":
        where.append(Festival.is_valid == q.valid)
    return where


def select(spec: EntitySpec, fields: list, rule, where: list, q: ListQuery, via=None):
    """`rule`: the visibility condition (None: every row); `via` = (relation, owner id): only rows linked to that
    owner through the relation."""
    model = spec.model
    delta = q.updated_since is not None
    # A name= search on PostgreSQL too: the trigram index finds the matches, which are sorted before the visibility
    # rule runs on the first of them (checked first, it ran on every match: 9,600 probes for a common word at 1M).
    late = delta or (q.name is not None and not is_sqlite())
    # A late rule's subquery (below) carries every column: the visibility rule outside it may read any (the owner).
    query = model.select(*(model._meta.sorted_fields if late else fields))
    if via is not None:
        relation, owner_id = via
        query = query.join(relation.table, on=(relation.related_column == model.id)).where(
            relation.owner_column == owner_id
        )
    if where:
        query = query.where(*where)
    if late:
        # A delta: the few newer rows are found through the version index and sorted in a subquery (OFFSET 0 keeps
        # it one), and only then checked for visibility, row by row until the page is full. Checked first, an
        # event's draft rule was a join with every event of every draft festival: it grew with the table. The
        # subquery takes the alias peewee gives the model's columns outside it ("t1": they are the first source).
        query = model.select(*fields).from_(query.order_by(model.id).offset(0).alias("t1"))
        if rule is not None:
            query = query.where(rule)
    elif rule is not None:
        query = query.where(rule)
    query = query.order_by(model.id)
    if q.limit is not None or q.offset:
        query = query.limit(q.limit).offset(q.offset or None)  # peewee writes LIMIT -1 / ALL per dialect
    return query


_SENTINEL_ACTORS = {
    "admin": Actor("user", user_id=sql_shapes.USER, role="admin"),
    "user": Actor("user", user_id=sql_shapes.USER, role="creator"),
    "public": Actor("api_key", key_id=1),
}


@lru_cache(maxsize=1024)
def _rows_shape(
    dialect: str,
    entity: str,
    viewer: str,
    name: bool,
    ids: bool,
    since: bool,
    valid,
    limit: bool,
    offset: bool,
    relation: RelationSpec | None,
    id_only: bool,
    buckets: tuple[int, ...] = (),
):
    spec = ENTITIES[entity]
    q = ListQuery(
        name=sql_shapes.NAME if name else None,
        ids=sql_shapes.IDS if ids else None,
        limit=sql_shapes.LIMIT if limit else None,
        offset=sql_shapes.OFFSET if offset else 0,
        updated_since=sql_shapes.SINCE if since else None,
        valid=valid,
    )
    via = (relation, sql_shapes.OWNER) if relation is not None else None
    fields = [spec.model.id] if id_only else columns(spec)
    rule = visible(spec, _SENTINEL_ACTORS[viewer])
    shape = sql_shapes.compile_shape(select(spec, fields, rule, conditions(spec, q), q, via))
    if _searches_first_ids(dialect, name, limit, ids, since, relation):
        return _first_ids_first(spec, fields, rule, conditions(spec, q), q, shape, buckets)
    return shape


def _searches_first_ids(dialect: str, name: bool, limit: bool, ids: bool, since: bool, relation) -> bool:
    """Whether a list's rows are read by `_first_ids_first`: a name= page on PostgreSQL, no other filter."""
    return dialect == "postgresql" and name and limit and not (ids or since or relation)


def name_window(model):
    """How many rows by id a name= page is looked for in before the trigram index (below): 6 x the square root of
    the table's rows as the planner's statistics count them, 6,000 at 1M events, 600 at 10,000; at most
    `NAME_WINDOW_BUCKETED` where the first ids have indexes of their own (each walked row costs an ILIKE, ~0.6 µs: the
    window is for terms too common for the index, a page's 50 matches within its first 1,000 rows). The walk costs
    at most what the trigram index costs for a term whose page it just misses, which grows with the table too; a
    fixed 6,000 made a 10,000-event table's rare names 2.5x slower."""
    table = model._meta.table_name
    rows = "(6 * sqrt(greatest(reltuples, 0)))::int"
    if table in NAME_BUCKETED:
        rows = f"least({rows}, {NAME_WINDOW_BUCKETED})"
    return SQL(f"(SELECT {rows} FROM pg_class WHERE oid = '\"{table}\"'::regclass)")


# Migration 0019: partial trigram indexes of the events with ids below 16,384 and below 131,072 ("event_id" < 16384:
# the same bound is written into the search, or the planner cannot use them). After the window, a page is looked
# for among the ids below 16,384, then below 131,072, each step one scan of a small index that reads the posting
# lists of those events only and visits only their matches, and only then in the whole table. (0017/0018 had the id
# buckets as columns of the one index: a step read its bucket's posting list too, a third more of the server's CPU
# at 1M events.) The bounds are ids, not the table's first rows: a table whose ids start higher finds fewer rows
# there (an empty index costs microseconds) and its page in a later step, never another page. A step costs its
# executor's start even when it does not run (and its plan, once per connection: `run_rows` prepares the
# statement), so a step is only in the statement when the table has more rows than its bound (`name_buckets`): a
# 10,000-event table runs the statement it ran before. With the 131,072-id step alone, a term in 3% of the names
# cost 10.7 ms (its 4,000 matches there sorted), 2 ms with the small step first.
NAME_BUCKET_SHIFTS = (14, 17)
NAME_BUCKETED = frozenset({"event"})
NAME_WINDOW_BUCKETED = 1000
NAME_SIZE_TTL_S = 60.0
_table_rows: dict[str, tuple[float, float]] = {}  # table -> (when read, pg_class.reltuples)


def name_buckets(model) -> tuple[int, ...]:
    """The id bounds (as shifts) a name= search on `model` looks below before the whole table: those smaller than
    the table as the planner's statistics count its rows (read at most once a minute per process; a wrong guess
    costs time, never rows: every step answers the whole table's page)."""
    table = model._meta.table_name
    if table not in NAME_BUCKETED:
        return ()
    now = time.monotonic()
    known = _table_rows.get(table)
    if known is None or now - known[0] > NAME_SIZE_TTL_S:
        row = db.execute_sql("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [f'"{table}"']).fetchone()
        known = _table_rows[table] = (now, row[0] if row else 0.0)
    return tuple(shift for shift in NAME_BUCKET_SHIFTS if known[1] > 1 << shift)


def _ids_below(model, shift: int):
    """`model`'s rows with ids below 2**shift, the bound written out: the predicate of its partial index."""
    return NodeList((model.id, SQL(f"< {1 << shift}")))


def _first_ids_first(
    spec: EntitySpec, fields: list, rule, where: list, q: ListQuery, shape: tuple, buckets: tuple[int, ...]
) -> tuple:
    """A name= page on PostgreSQL: looked for among the first rows by id (`name_window`); when it is not full
    there, among the ids below each bound in `buckets` (`name_buckets`); else in the whole table (`shape`).
    The trigram index costs as many row visits as the term has matches in the ids it searches (a common word:
    10,000 at 1M events, 60-250 ms in the whole table); walking the id index costs one ILIKE per row but stops at
    the page's last match. A page that is full among the first ids is exactly the page of the whole table: every
    row left out has a larger id. One statement: each step runs only when every step before it fell short; its first
    page runs prepared (`run_rows`), with one generic plan for every term: each step's plan fits any term (the
    window walks ids, the others ask the trigram index), the limit is written into it."""
    model = spec.model
    first = model.select(*model._meta.sorted_fields).order_by(model.id).limit(name_window(model))
    query = model.select(*fields).from_(first.alias("t1")).where(*where)
    if rule is not None:
        query = query.where(rule)
    query = query.order_by(model.id).limit(q.limit).offset(q.offset or None)
    window_sql, window_slots = sql_shapes.compile_shape(query)
    limit = ("limit", None)
    ctes, cte_slots = [f"name_window AS MATERIALIZED ({window_sql})"], list(window_slots)
    branches, branch_slots = ["SELECT * FROM name_window WHERE (SELECT COUNT(*) FROM name_window) = %s"], [limit]
    short = ["(SELECT COUNT(*) FROM name_window) < %s"]
    for number, shift in enumerate(buckets):
        step = f"name_near_{number}"
        sql, slots = sql_shapes.compile_shape(select(spec, fields, rule, [*where, _ids_below(model, shift)], q))
        ctes.append(f"{step} AS MATERIALIZED (SELECT * FROM ({sql}) AS near WHERE {' AND '.join(short)})")
        cte_slots += [*slots, *[limit] * len(short)]
        branches.append(f"SELECT * FROM {step} WHERE (SELECT COUNT(*) FROM {step}) = %s")
        branch_slots.append(limit)
        short.append(f"(SELECT COUNT(*) FROM {step}) < %s")
    sql, slots = shape
    branches.append(f"SELECT * FROM ({sql}) AS whole_table WHERE {' AND '.join(short)}")
    branch_slots += [*slots, *[limit] * len(short)]
    return (
        f'WITH {", ".join(ctes)} {" UNION ALL ".join(branches)} ORDER BY "{model.id.column_name}"',
        (*cte_slots, *branch_slots),
    )


def run_rows(spec: EntitySpec, actor: Actor, q: ListQuery, via=None, id_only: bool = False):
    """The cursor of `select(spec, ..., visible(spec, actor), conditions(spec, q), q, via)`, its SQL built once per
    shape."""
    dialect = "sqlite" if is_sqlite() else "postgresql"
    name, ids, since, limit = q.name is not None, q.ids is not None, q.updated_since is not None, q.limit is not None
    relation = via[0] if via is not None else None
    first_ids = _searches_first_ids(dialect, name, limit, ids, since, relation)
    shape = _rows_shape(
        dialect,
        spec.name,
        draft_rule(actor),
        name,
        ids,
        since,
        q.valid if spec.name == "festival" else None,
        limit,
        bool(q.offset),
        relation,
        id_only,
        name_buckets(spec.model) if first_ids else (),
    )
    values = {
        "user": actor.user_id,
        "owner": via[1] if via is not None else None,
        "limit": q.limit,
        "offset": q.offset,
        "ids": q.ids,
        "name": q.name,
        "since": q.updated_since,
    }
    if first_ids and not q.offset:
        # A name= search's first page: planned once per connection (planning its statement cost about what
        # running it does). The limit steers the plan: written into the statement. Later pages run unprepared:
        # each offset would be a statement of its own.
        return sql_shapes.execute_prepared(shape, values, literal=("limit",))
    return db.execute_sql(shape[0], sql_shapes.bind(shape[1], values))


def fetch(spec: EntitySpec, actor: Actor, q: ListQuery, via=None) -> list[dict]:
    convert = raw_converter(spec)
    objects = [convert(row) for row in run_rows(spec, actor, q, via)]
    if q.include and objects:
        # The page's ids as one parameter: far cheaper to build than the page's query as a subquery.
        id_key = spec.key("id")
        attach_includes(spec, objects, [obj[id_key] for obj in objects], q.include, actor)
    return objects


def attach_includes(spec: EntitySpec, objects: list[dict], page_ids, include, actor: Actor) -> None:
    id_key = spec.key("id")
    fetched: dict[RelationSpec, dict[int, list[dict]]] = {}
    for _, relation in include:
        if relation not in fetched:  # `link` and `links` in one request: one query
            fetched[relation] = related_of_many(relation, page_ids, actor)
    groups = [(key, fetched[relation]) for key, relation in include]
    for obj in objects:
        obj_id = obj[id_key]
        obj["include"] = {key: grouped.get(obj_id) or [] for key, grouped in groups}


@lru_cache(maxsize=256)
def _related_shape(dialect: str, relation: RelationSpec, viewer: str):
    target = ENTITIES[relation.related]
    query = (
        target.model.select(relation.owner_column.alias("_owner"), *columns(target))
        .join(relation.table, on=(relation.related_column == target.model.id))
        .where(in_ids(relation.owner_column, sql_shapes.IDS))
    )
    rule = visible(target, _SENTINEL_ACTORS[viewer])
    if rule is not None:
        query = query.where(rule)
    return sql_shapes.compile_shape(query.order_by(target.model.id))


def related_of_many(relation: RelationSpec, owner_ids, actor: Actor) -> dict[int, list[dict]]:
    sql, slots = _related_shape("sqlite" if is_sqlite() else "postgresql", relation, draft_rule(actor))
    grouped: dict[int, list[dict]] = {}
    converted: dict[int, dict] = {}  # a row related to many owners (a stage) is one dict, shared: read-only
    convert = raw_converter(ENTITIES[relation.related], 1)  # row[0] is the owner's id, row[1] the row's
    for row in db.execute_sql(sql, sql_shapes.bind(slots, {"ids": owner_ids, "user": actor.user_id})):
        obj = converted.get(row[1])
        if obj is None:
            obj = converted[row[1]] = convert(row)
        grouped.setdefault(row[0], []).append(obj)
    return grouped


def require_visible(spec: EntitySpec, entity_id: int, actor: Actor, *, lock: bool = False):
    """The row, or NotFound when it does not exist or is a draft the actor may not see. `lock` (in a write's
    transaction): on PostgreSQL the row stays locked until COMMIT, so a concurrent writer of the same row waits
    and then reads the new version (SQLite's write lock already serializes writers)."""
    query = spec.model.select().where(spec.model.id == entity_id)
    rule = visible(spec, actor)
    if rule is not None:
        query = query.where(rule)
    if lock and not is_sqlite():
        query = query.for_update(of=spec.model)
    row = query.first()
    if row is None:
        raise NotFound(f"no {spec.name} with id {entity_id}")
    return row


def _table(entity: str) -> str:
    return ENTITIES[entity].model._meta.table_name


def read_scope(
    entity: str, actor: Actor, q: ListQuery, relation: RelationSpec | None = None, *, anyone: bool = False
) -> tuple[set, str]:
    """What a read of `entity` rows (through `relation`, with `q.include`) depends on: the tables whose
    data-version counters key its answer; and the caller's visibility class (drafts of festivals and their
    events differ between the public, their owner and editors, and admins; everything else reads the same for
    all). A user's drafts depend on whom festivals have as editors too: a member change makes those keys new.
    `anyone`: a read that needs no credentials (a published festival's schedule), else a reader's."""
    if not anyone:
        require_reader(actor)
    entities = {entity, *(included.related for _, included in q.include)}
    kinds = {included.table._meta.table_name for _, included in q.include}
    if relation is not None:
        entities.update((relation.owner, relation.related))
        kinds.add(relation.table._meta.table_name)
    if entities & {"festival", "event"}:  # draft visibility reads festivals and their events
        entities.add("festival")
        kinds.add(FestivalEvent._meta.table_name)
        viewer = visibility_class(actor)
        if draft_rule(actor) == "user":
            kinds.add(FestivalMember._meta.table_name)
    else:
        viewer = "public"
    return kinds | {_table(name) for name in entities}, viewer


def list_entities(entity: str, actor: Actor, q: ListQuery) -> list[dict]:
    require_reader(actor)
    return fetch(ENTITIES[entity], actor, q)


def get_entity(entity: str, entity_id: int, actor: Actor, q: ListQuery) -> list[Saved]:
    """The one object, with its version tag (the ETag's start; app/services/preconditions.py)."""
    require_reader(actor)
    spec = ENTITIES[entity]
    # The version comes in the row's own statement: the tag names exactly the answered row (a write in between
    # two statements could make it older than the answer, never newer; one statement leaves no in between).
    sql, slots = _object_shape("sqlite" if is_sqlite() else "postgresql", entity, draft_rule(actor))
    row = db.execute_sql(sql, sql_shapes.bind(slots, {"ids": [entity_id], "user": actor.user_id})).fetchone()
    if row is None:  # no such row, or a draft the actor may not see
        raise NotFound(f"no {entity} with id {entity_id}")
    obj = raw_converter(spec, 1)(row)
    if q.include:
        attach_includes(spec, [obj], [entity_id], q.include, actor)
    return [Saved(obj, version_tag(spec.model.version.python_value(row[0])))]


@lru_cache(maxsize=64)
def _object_shape(dialect: str, entity: str, viewer: str):
    """One visible row by id, its stored version first (for the tag), then its fields as `raw_converter` reads
    them; SQL built once (peewee's building took longer than the whole read otherwise)."""
    spec = ENTITIES[entity]
    q = ListQuery(ids=sql_shapes.IDS)
    rule = visible(spec, _SENTINEL_ACTORS[viewer])
    return sql_shapes.compile_shape(select(spec, [spec.model.version, *columns(spec)], rule, conditions(spec, q), q))


def list_related(entity: str, entity_id: int, relation: RelationSpec, actor: Actor, q: ListQuery) -> list[dict]:
    require_reader(actor)
    if run_rows(ENTITIES[entity], actor, ListQuery(ids=[entity_id]), id_only=True).fetchone() is None:
        raise NotFound(f"no {entity} with id {entity_id}")  # or a draft the actor may not see
    return fetch(ENTITIES[relation.related], actor, q, via=(relation, entity_id))
