"""API keys (read access for apps) and service keys: shown once, stored as a SHA-256 hash behind a
visible prefix, last use recorded, revocable.

Keys carry 256 random bits, so a fast hash is enough (no password-style stretching needed)."""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import secrets
import threading
import time
from datetime import timedelta
from functools import cache, lru_cache

import orjson
from peewee import PeeweeException

from app import sql_shapes
from app.db import db, is_sqlite, write_transaction
from app.errors import Invalid, NotFound
from app.models import ApiKey
from app.models.base import utcnow
from app.models.keys import KEY_KINDS
from app.permissions import SYSTEM, Actor, require_admin
from app.services import audit

PREFIX_LEN = 8
PREFIX_TOTAL = 3 + PREFIX_LEN  # "fa_" or "fs_" + hex: the part shown in lists and used for lookup
LAST_USED_RESOLUTION = timedelta(minutes=1)  # at most one write per key and minute
log = logging.getLogger("festivals.keys")


class KeyUse:
    """Last uses of keys, written off the request path: a read with a key never writes (a locked or slow
    database must not stall reads). Uses are collected in memory and written by a background thread every
    FLUSH_S, one transaction for all; when that fails (locked, down) they are kept for the next round. A use
    waiting longer than KEEP_S is dropped (the key's next use records it again)."""

    FLUSH_S = 10.0
    KEEP_S = 600.0

    def __init__(self):
        self._pending: dict[tuple, tuple] = {}  # (database, key prefix) -> (last use, monotonic time recorded)
        self._lock = threading.Lock()
        self._thread_pid = None

    def record(self, database, prefix: str, when) -> None:
        with self._lock:
            self._pending[(database, prefix)] = (when, time.monotonic())
            if self._thread_pid != os.getpid():  # one thread per process (also in a forked worker)
                self._thread_pid = os.getpid()
                threading.Thread(target=self._run, name="key-use", daemon=True).start()

    def pending(self) -> int:
        with self._lock:
            return len(self._pending)

    def flush(self) -> int:
        """Writes what was collected; returns how many uses were written."""
        with self._lock:
            batch, self._pending = self._pending, {}
        by_database: dict = {}
        for (database, prefix), use in batch.items():
            by_database.setdefault(database, {})[prefix] = use
        written = 0
        for database, uses in by_database.items():
            try:
                self._write(database, uses)
                written += len(uses)
            except PeeweeException as exc:  # locked, down, read-only: kept for the next round
                log.warning("last use of %d key(s) not written yet: %s", len(uses), exc)
                self._keep(database, uses)
        return written

    @staticmethod
    def _write(database, uses: dict) -> None:
        opened = database.is_closed()
        if opened:
            database.connect()
        try:
            with database.atomic("IMMEDIATE") if is_sqlite(database) else database.atomic():
                for prefix, (when, _) in sorted(uses.items()):
                    database.execute(ApiKey.update(last_used=when).where(ApiKey.prefix == prefix))
        finally:
            if opened:
                database.close()

    def _keep(self, database, uses: dict) -> None:
        cutoff = time.monotonic() - self.KEEP_S
        with self._lock:
            for prefix, use in uses.items():
                if use[1] >= cutoff:
                    self._pending.setdefault((database, prefix), use)  # a newer use recorded meanwhile wins

    def _run(self) -> None:
        while True:
            time.sleep(self.FLUSH_S)
            try:
                self.flush()
            except Exception:  # the thread must outlive any surprise
                log.exception("writing the last use of keys failed")


KEY_USE = KeyUse()


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(comment: str, kind: str = "api", actor: Actor = SYSTEM) -> tuple[str, ApiKey]:
    """Returns (the plain key, its row). The plain key is not stored anywhere."""
    require_admin(actor, "manage keys")
    if kind not in KEY_KINDS:
        raise Invalid("unknown key kind", {"kind": f"must be one of {', '.join(KEY_KINDS)}"})
    if len(comment) > 255:
        raise Invalid("the comment is too long", {"comment": "must have at most 255 characters"})
    label = "fa" if kind == "api" else "fs"
    with write_transaction():
        while True:
            prefix = f"{label}_{secrets.token_hex(PREFIX_LEN // 2)}"
            if not ApiKey.select().where(ApiKey.prefix == prefix).exists():
                break
        key = f"{prefix}_{secrets.token_urlsafe(32)}"
        row = ApiKey.create(
            kind=kind, prefix=prefix, key_hash=key_digest(key), comment=comment, created_by=actor.user_id
        )
        audit.record(actor, f"{kind}_key", row.id, "create", {"prefix": prefix, "comment": comment})
    return key, row


@cache
def _by_prefix_shape(dialect: str) -> tuple:
    return sql_shapes.compile_shape(ApiKey.select().where(ApiKey.prefix == sql_shapes.TEXT).limit(1))


def _by_prefix(prefix: str) -> list:
    """SQL and parameters of the key lookup, built once (every API request makes it)."""
    sql, slots = _by_prefix_shape("sqlite" if is_sqlite() else "postgresql")
    return [sql, *sql_shapes.bind(slots, {"text": prefix})]


OUR_KEY = re.compile(rf"^f[as]_[0-9a-f]{{{PREFIX_LEN}}}_")


def key_prefix(key: str, kind: str = "api") -> str | None:
    """The prefix a presented key is looked up by; None when it cannot be a key. Ours carry it
    ("fa_1a2b3c4d_..."); any other key (the Go services' plain keys, imported by tools/import_go.py) is
    looked up by "ga_"/"gs_" and 29 hex digits of its SHA-256: one indexed lookup either way."""
    key = key.strip()
    if not key:
        return None
    if OUR_KEY.match(key):
        return key[:PREFIX_TOTAL]
    return f"g{kind[0]}_{key_digest(key)[:29]}"


def key_matches(key: str, kind: str, row_kind: str, revoked, key_hash: str) -> bool:
    """Is the presented key this stored key of `kind`, and is it live?"""
    return row_kind == kind and revoked is None and hmac.compare_digest(key_hash, key_digest(key.strip()))


def use_due(last_used, now) -> bool:
    """Must this request record the key's use (at most one write per key and LAST_USED_RESOLUTION)?"""
    return last_used is None or now - last_used > LAST_USED_RESOLUTION


def note_use(prefix: str, last_used, now) -> None:
    """Records the use of a key when one is due; written in the background (KEY_USE): a read never writes."""
    if use_due(last_used, now):
        KEY_USE.record(db.obj, prefix, now)


def key_and_versions_sql(postgres: bool, kinds: int | None = None) -> str:
    """The key's row (by its prefix, the last parameter) and data-version counters (app/data_versions.py) in one
    query of one row: the key's id, hash, kind, revoked and last use, then the counters as a JSON object (every
    counter, or those of `kinds` kinds named by the first parameters). One row: a join repeating the key's row
    per counter cost more than two queries."""
    param = "%s" if postgres else "?"
    only = f' WHERE "kind" IN ({", ".join([param] * kinds)})' if kinds is not None else ""
    counters = 'json_object_agg("kind", "version")::text' if postgres else 'json_group_object("kind", "version")'
    return (
        'SELECT k."key_id", k."key_hash", k."key_kind", k."key_revoked", k."key_last_used", '
        f'(SELECT {counters} FROM "data_version"{only}) FROM "api_key" AS k WHERE k."key_prefix" = {param}'
    )


def versions_of(row) -> dict[str, int]:
    """The counters of a key_and_versions_sql row (none yet: PostgreSQL's aggregate of no rows is NULL)."""
    return orjson.loads(row[5] or "{}")


def live_key(key: str, kind: str, prefix: str, row, record_use: bool = True) -> int | None:
    """The id of the presented key from its key_and_versions_sql `row` (None: unknown) when it is a live key of
    `kind` (else None: revoked, of another kind), its use noted when due."""
    if row is None:
        return None
    key_id, key_hash, row_kind, revoked, last_used = row[:5]
    if not key_matches(key, kind, row_kind, revoked, key_hash):
        return None
    if record_use:
        note_use(prefix, _last_used(last_used), utcnow())
    return key_id


@lru_cache(maxsize=1024)
def _last_used(value):
    """The stored last use as a datetime (SQLite gives text, whose parsing cost ~2 µs of a ~60 µs fast read;
    it changes at most once a minute per key)."""
    return ApiKey.last_used.python_value(value)


def verify_key_reading_versions(key: str, kind: str, record_use: bool = True) -> tuple[int | None, dict[str, int]]:
    """verify_key for a read: the live key's id (None as verify_key) and every data-version counter, from one
    plain query (a read then needs no query of its own for them; building the key's model cost more than both)."""
    prefix = key_prefix(key, kind)
    if prefix is None:
        return None, {}
    row = db.execute_sql(_all_versions_sql(not is_sqlite()), [prefix]).fetchone()
    if row is None:
        return None, {}
    return live_key(key, kind, prefix, row, record_use), versions_of(row)


@cache
def _all_versions_sql(postgres: bool) -> str:
    return key_and_versions_sql(postgres)


def verify_key(key: str, kind: str, record_use: bool = True) -> ApiKey | None:
    """The live key row for a presented key of this kind, else None."""
    prefix = key_prefix(key, kind)
    if prefix is None:
        return None
    row = next(iter(ApiKey.raw(*_by_prefix(prefix))), None)
    if row is None or not key_matches(key, kind, row.kind, row.revoked, row.key_hash):
        return None
    if record_use:
        note_use(row.prefix, row.last_used, utcnow())
    return row


def list_keys(actor: Actor, kind: str = "api") -> list[ApiKey]:
    require_admin(actor, "manage keys")
    return list(ApiKey.select().where(ApiKey.kind == kind).order_by(ApiKey.id.desc()))


def revoke_key(key_id: int, actor: Actor = SYSTEM, kind: str | None = None) -> None:
    """Revoke at once (every request checks the key). Revoking twice is a no-op."""
    require_admin(actor, "manage keys")
    with write_transaction():
        row = ApiKey.get_or_none(ApiKey.id == key_id)
        if row is None or (kind is not None and row.kind != kind):
            raise NotFound(f"no {kind or 'api'} key with id {key_id}")
        if row.revoked is not None:
            return
        ApiKey.update(revoked=utcnow()).where(ApiKey.id == key_id).execute()
        audit.record(actor, f"{row.kind}_key", key_id, "revoke", {"prefix": row.prefix})


def get_key(actor: Actor, key_id: int) -> ApiKey:
    """One API or service key row (admins only), e.g. to confirm its revocation."""
    require_admin(actor, "manage keys")
    row = ApiKey.get_or_none(ApiKey.id == key_id)
    if row is None:
        raise NotFound(f"no key with id {key_id}")
    return row
