"""Login attempts per account, counted in the database: one counter per account shared by every login
route (portal form, POST /token, Basic) and every process, with or without Redis."""

from __future__ import annotations

import hashlib
import time

from limits import parse

from app.db import write_transaction
from app.errors import RateLimited
from app.models import LoginThrottle


def count_attempt(key: str, limit: str) -> None:
    """One more attempt for `key` in the current fixed window of `limit` ("10/minute"); RateLimited once
    the window's attempts exceed it. Windows before the current one are deleted as they pass."""
    item = parse(limit)
    seconds = item.get_expiry()
    now = time.time()
    window = int(now // seconds)
    # Stored as a digest: any account name fits the column (PostgreSQL refuses NUL in text) and the table
    # holds no email addresses.
    key = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
    with write_transaction():
        (
            LoginThrottle.insert(key=key, window=window, count=1)
            .on_conflict(
                conflict_target=[LoginThrottle.key, LoginThrottle.window],
                update={LoginThrottle.count: LoginThrottle.count + 1},
            )
            .execute()
        )
        LoginThrottle.delete().where((LoginThrottle.key == key) & (LoginThrottle.window < window)).execute()
        count = (
            LoginThrottle.select(LoginThrottle.count)
            .where((LoginThrottle.key == key) & (LoginThrottle.window == window))
            .scalar()
        )
    if count > item.amount:
        raise RateLimited(
            "too many login attempts for this account; try again later",
            retry_after=max(1, int((window + 1) * seconds - now)),
        )
