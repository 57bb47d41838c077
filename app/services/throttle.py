"""Password checks limited per account and per client: one budget per account and one per client, shared by
every route that checks a password (portal login, GET /users/login, POST /token, the password changes), as
sliding windows (limits' moving window: no burst of twice the limit around a window's edge). With
FESTIVALS_REDIS_URL every process shares them; otherwise each process keeps its own in memory."""

from __future__ import annotations

import hashlib
import logging
import time

from flask import current_app
from limits import parse, storage
from limits.strategies import MovingWindowRateLimiter

from app.errors import RateLimited

log = logging.getLogger("festivals.throttle")


class Throttle:
    def __init__(self, redis_url: str, prefix: str):
        self._memory = MovingWindowRateLimiter(storage.MemoryStorage())
        self._shared = (
            MovingWindowRateLimiter(
                storage.RedisStorage(
                    redis_url, key_prefix=f"{prefix}-throttle", socket_timeout=0.5, socket_connect_timeout=0.5
                )
            )
            if redis_url
            else None
        )

    def _count(self, limit: str, kind: str, key: str) -> None:
        item = parse(limit)
        try:
            window = self._shared or self._memory
            allowed, stats = window.hit(item, kind, key), window.get_window_stats(item, kind, key)
        except Exception as exc:  # noqa: BLE001 - Redis down: this process's own count, never no limit at all
            log.warning("password check limits: redis failed, counting in memory: %s", exc)
            window = self._memory
            allowed, stats = window.hit(item, kind, key), window.get_window_stats(item, kind, key)
        if not allowed:
            what = "this account" if kind == "account" else "your address"
            raise RateLimited(
                f"too many password attempts for {what}; try again later",
                retry_after=max(1, int(stats.reset_time - time.time()) + 1),
            )

    def check(self, email: str, client: str | None) -> None:
        """One more password check of account `email` by `client` (web/requests.client_key); RateLimited
        once either budget is spent (then nothing is counted against the account)."""
        config = current_app.config
        if client is not None:
            self._count(config["LOGIN_IP_RATE_LIMIT"], "client", client)
        # a digest: any account name fits, and the store holds no email addresses
        self._count(
            config["LOGIN_RATE_LIMIT"], "account", hashlib.sha256(email.encode("utf-8", "surrogatepass")).hexdigest()
        )


def init_throttle(app) -> None:
    app.extensions["throttle"] = Throttle(app.config["REDIS_URL"], app.config["RATELIMIT_KEY_PREFIX"])


def password_check(email: str, client: str | None) -> None:
    current_app.extensions["throttle"].check(email, client)
