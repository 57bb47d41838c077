"""Creates that a client may safely retry: a POST with an `Idempotency-Key` is answered once per caller and key
for 24 hours. The answer is stored in the same transaction as the new row, so a request cut off anywhere
(connection lost, worker killed) left either both or neither: a retry with the same key gets the stored answer
and creates nothing, or it creates the row now.

Concurrent requests with one key: the (caller, key) primary key lets only one of them commit. On SQLite the
write lock makes the second one wait and then find the record; on PostgreSQL its INSERT waits for the first
transaction and then fails on the key, its own row is rolled back, and it answers the stored answer too.

Only a successful create is stored: an answer with an error wrote nothing, and a retry runs the request again."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import orjson
from peewee import IntegrityError

from app.db import write_transaction
from app.errors import Conflict, Unprocessable
from app.models.base import utcnow
from app.models.idempotency import IdempotencyRecord
from app.permissions import Actor, require_creator
from app.services import writes
from app.services.preconditions import Saved

KEEP = timedelta(hours=24)
MAX_KEY_LENGTH = 255


def caller_of(actor: Actor) -> str:
    return f"user:{actor.user_id}" if actor.is_user else f"{actor.kind}:{actor.key_id or 0}"


def fingerprint(entity: str, data: Any) -> str:
    """What was asked: the entity and the body, keys sorted (a client may serialize a dict in another order
    when it retries)."""
    body = orjson.dumps(data, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(entity.encode() + b"\n" + body).hexdigest()


def _stored(caller: str, key: str) -> IdempotencyRecord | None:
    return IdempotencyRecord.get_or_none(
        (IdempotencyRecord.caller == caller)
        & (IdempotencyRecord.key == key)
        & (IdempotencyRecord.created > utcnow() - KEEP)
    )


def _replay(record: IdempotencyRecord, asked: str) -> tuple[int, Saved]:
    if record.fingerprint != asked:
        raise Unprocessable(
            "this Idempotency-Key was used with another request in the last 24 hours; use a new key",
            {"Idempotency-Key": "was used with another request"},
        )
    answer = orjson.loads(record.answer)
    return record.status, Saved(answer["data"][0], answer["tag"])


def create_once(entity: str, actor: Actor, data: Any, key: str) -> tuple[int, Saved, bool]:
    """(status, created object, replayed): the stored answer of an earlier request with this key (replayed),
    or the new object, created in one transaction with the record of its answer. Unprocessable when the key
    was used with another request."""
    require_creator(actor)
    caller, asked = caller_of(actor), fingerprint(entity, data)
    record = _stored(caller, key)
    if record is not None:
        return (*_replay(record, asked), True)
    try:
        with write_transaction():
            record = _stored(caller, key)  # SQLite: under the write lock, sees a twin that committed meanwhile
            if record is not None:
                return (*_replay(record, asked), True)
            now = utcnow()
            # An expired record of this key must go before the key is used again; older ones go with it.
            IdempotencyRecord.delete().where(IdempotencyRecord.created <= now - KEEP).execute()
            created = writes.create(entity, actor, data)
            answer = orjson.dumps({"data": [created], "tag": created.tag}).decode()
            IdempotencyRecord.insert(
                caller=caller, key=key, fingerprint=asked, status=201, answer=answer, created=now
            ).execute()
    except (IntegrityError, Conflict):
        # PostgreSQL: a twin with this key committed while this one ran (its INSERT, or the unique name of the
        # row, waited for it); this transaction is rolled back: answer what the twin stored.
        record = _stored(caller, key)
        if record is None:
            raise
        return (*_replay(record, asked), True)
    return 201, created, False
