"""Change counters per table ("data versions"), bumped in the transaction of every write.

Every INSERT/UPDATE/DELETE that peewee runs on a content table (the entities, their relation tables, the
users, whose role and suspension decide who sees what, and festival members, who see their festivals' drafts)
marks that table as changed; right before the transaction commits, the counters of the marked tables are raised
in one statement. So no service has to remember it, and a read can tell from the counters alone whether anything
it depends on changed: its ETag and its response-cache key are built from them (api/read_cache.py).

A counter becomes max(counter + 1, now in microseconds): it only grows, also across a database restored from a
backup, so a key built from old counters is never reused for other data. A DELETE also marks the tables whose
rows reference the deleted ones (ON DELETE CASCADE / SET NULL change them without a statement of their own).
Raw SQL (`execute_sql`) is not seen: bulk loaders call `bump` themselves."""

from __future__ import annotations

import threading
import time

from peewee import Delete, Insert, PostgresqlDatabase, Update

_tracked: dict = {}  # filled by app/models when the models are defined: this module imports no model


def track(*models) -> None:
    """Count the writes of `models`' tables (app/models lists the tables a read's answer may depend on)."""
    _tracked.update((model._meta.table_name, model) for model in models)


def tracked_tables() -> dict:
    """Table name -> model of every table a read's answer may depend on."""
    return _tracked


def kinds_written(query) -> set[str]:
    model = getattr(query, "model", None)
    if model is None or not isinstance(query, (Insert, Update, Delete)):
        return set()
    tables = tracked_tables()
    name = model._meta.table_name
    if name not in tables:
        return set()
    kinds = {name}
    if isinstance(query, Delete):
        kinds.update(
            field.model._meta.table_name for field in model._meta.backrefs if field.model._meta.table_name in tables
        )
    return kinds


def bump(database, kinds) -> None:
    """Raise the counters of `kinds` (call inside the write's transaction)."""
    kinds = sorted(set(kinds))  # one lock order for every writer (PostgreSQL row locks)
    if not kinds:
        return
    now = time.time_ns() // 1000
    param = database.param
    greatest = "GREATEST" if isinstance(database, PostgresqlDatabase) else "max"
    values = ", ".join(f"({param}, {param})" for _ in kinds)
    database.execute_sql(
        f'INSERT INTO "data_version" ("kind", "version") VALUES {values} ON CONFLICT ("kind") '
        f'DO UPDATE SET "version" = {greatest}("data_version"."version" + 1, excluded."version")',
        [item for kind in kinds for item in (kind, now)],
    )


def read_versions(database) -> dict[str, int]:
    """Every counter (a few dozen rows): what a conditional read costs instead of its row queries."""
    return dict(database.execute_sql('SELECT "kind", "version" FROM "data_version"').fetchall())


# WSGI environ: the counters read in the same query as the request's Api-Key (identity/principal.py)
READ_WITH_KEY = "festivals.data_versions"


def request_versions(environ: dict, database) -> dict[str, int]:
    """The counters read with this request's key check, else read now. Taken once: anything reading them again
    later in the request reads them anew."""
    versions = environ.pop(READ_WITH_KEY, None)
    return read_versions(database) if versions is None else versions


class VersionTracking:
    """Mixin for a peewee database class: marks written tables, bumps their counters before COMMIT."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._written = threading.local()  # per thread, like peewee's connection state

    def _pending(self) -> set:
        pending = getattr(self._written, "kinds", None)
        if pending is None:
            pending = self._written.kinds = set()
        return pending

    def execute(self, query, **options):
        kinds = kinds_written(query)
        if not kinds:
            return super().execute(query, **options)
        if self.transaction_depth() == 0:  # an autocommit write: the bump goes into a transaction with it
            with self.atomic():
                return self.execute(query, **options)
        self._pending().update(kinds)
        return super().execute(query, **options)

    def commit(self):
        pending = self._pending()
        if pending:
            bump(self, pending)
            pending.clear()
        return super().commit()

    def rollback(self):
        self._pending().clear()
        return super().rollback()
