"""Settings from FESTIVALS_* environment variables.

Defaults are for development only; the instance folder holds what is generated on first start
(secret key, signing keys, the SQLite database)."""

from __future__ import annotations

import os
from pathlib import Path

from common.env import env_flag
from common.files import private_folder
from common.instance_files import read_or_create_secret


def instance_path() -> str:
    return os.path.abspath(os.environ.get("FESTIVALS_INSTANCE_PATH", "instance"))


def secret_key(instance: str) -> str:
    """The secret of sessions and CSRF tokens: FESTIVALS_SECRET_KEY, or the file FESTIVALS_SECRET_KEY_FILE names
    (the same on every host, e.g. a mounted secret or a systemd credential); without either, one made on first
    start in the instance folder, which serves one host only (another host's would not accept its cookies)."""
    if value := os.environ.get("FESTIVALS_SECRET_KEY", "").strip():
        return value
    if path := os.environ.get("FESTIVALS_SECRET_KEY_FILE", "").strip():
        try:
            value = Path(path).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(f"FESTIVALS_SECRET_KEY_FILE={path}: cannot read it ({exc})") from exc
        if len(value) < 32:
            raise ValueError(f"FESTIVALS_SECRET_KEY_FILE={path}: the secret must have 32 characters or more")
        return value
    return read_or_create_secret(os.path.join(instance, "secret_key"))


def load_config(instance: str) -> dict:
    """Everything the app reads from the environment, in one place (documented in the README)."""
    private_folder(instance)  # secrets, keys, the database: owner only
    default_db = "sqlite:///" + os.path.join(instance, "festivals.sqlite3")
    return {
        "DATABASE_URL": os.environ.get("FESTIVALS_DATABASE_URL", default_db),
        "SECRET_KEY": secret_key(instance),
        "READ_ONLY": env_flag("FESTIVALS_READ_ONLY"),
        # Behind the gateway: trust exactly one proxy hop's X-Forwarded-For/-Proto/-Host (werkzeug ProxyFix).
        "BEHIND_PROXY": env_flag("FESTIVALS_BEHIND_PROXY"),
        "LOG_FORMAT": os.environ.get("FESTIVALS_LOG_FORMAT", "text"),
        "LOG_LEVEL": os.environ.get("FESTIVALS_LOG_LEVEL", "INFO"),
        # Access lines of /health and /ready (the gateway asks each second): off unless turned on.
        "LOG_HEALTH": env_flag("FESTIVALS_LOG_HEALTH"),
        "DB_POOL_SIZE": int(os.environ.get("FESTIVALS_DB_POOL_SIZE", "16")),
        # How long a write waits for a lock before answering 503 (SQLite: the write lock; WAL reads never wait).
        "DB_LOCK_TIMEOUT": float(os.environ.get("FESTIVALS_DB_LOCK_TIMEOUT", "5")),
        # PostgreSQL: how long any other statement waits for a lock (only a table lock makes a read wait), the
        # longest run of any statement, and write transactions per process at once (the rest wait their turn).
        "DB_READ_LOCK_TIMEOUT": float(os.environ.get("FESTIVALS_DB_READ_LOCK_TIMEOUT", "0.2")),
        "DB_STATEMENT_TIMEOUT": float(os.environ.get("FESTIVALS_DB_STATEMENT_TIMEOUT", "30")),
        "DB_WRITERS": int(os.environ.get("FESTIVALS_DB_WRITERS", "2")),
        "ACCESS_TOKEN_TTL": int(os.environ.get("FESTIVALS_ACCESS_TOKEN_TTL", "900")),
        "TOKEN_ISSUER": os.environ.get("FESTIVALS_TOKEN_ISSUER", "festivals-identity"),
        "TOKEN_AUDIENCE": os.environ.get("FESTIVALS_TOKEN_AUDIENCE", "festivals"),
        "FILES_URL": os.environ.get("FESTIVALS_FILES_URL", ""),
        # The gateway's discovery registry (heartbeats go there; /admin/services lists what it knows).
        "DISCOVERY_URL": os.environ.get("FESTIVALS_DISCOVERY_URL", "").rstrip("/"),
        "REFRESH_TOKEN_TTL": int(os.environ.get("FESTIVALS_REFRESH_TOKEN_TTL", str(30 * 24 * 3600))),
        # When set, tokens are verified with the keys published there (identity as its own process).
        "IDENTITY_URL": os.environ.get("FESTIVALS_IDENTITY_URL", ""),
        # This instance's Service-Key (heartbeats; with IDENTITY_URL, asking identity for a login's token).
        "SERVICE_KEY": os.environ.get("FESTIVALS_SERVICE_KEY", ""),
        "SIGNUP": os.environ.get("FESTIVALS_SIGNUP", "on").strip().lower() not in ("off", "0", "false", "no"),
        "SIGNUP_ROLE": os.environ.get("FESTIVALS_SIGNUP_ROLE", "creator"),
        # This process's certificate and key (served on its internal port, presented to other services)
        # and the CA every peer must be signed by; all three or none.
        "TLS_CERT": os.environ.get("FESTIVALS_TLS_CERT", "").strip(),
        "TLS_KEY": os.environ.get("FESTIVALS_TLS_KEY", "").strip(),
        "TLS_CA": os.environ.get("FESTIVALS_TLS_CA", "").strip(),
        "TLS_WARN_DAYS": int(os.environ.get("FESTIVALS_TLS_WARN_DAYS", "30")),
        "REDIS_URL": os.environ.get("FESTIVALS_REDIS_URL", ""),
        # Response cache of reads (api/read_cache.py): in-process bytes per worker, or Redis with REDIS_URL.
        "READ_CACHE_BYTES": int(os.environ.get("FESTIVALS_READ_CACHE_BYTES", str(64 * 1024 * 1024))),
        "READ_CACHE_PREFIX": os.environ.get("FESTIVALS_READ_CACHE_PREFIX", "festivals:read:"),
        "READ_CACHE_TTL": int(os.environ.get("FESTIVALS_READ_CACHE_TTL", "3600")),  # at most 6 h
        # Password checks (every login route and the password changes) per account and per client, sliding
        # windows shared through Redis when REDIS_URL is set (app/services/throttle.py); signups per client.
        "LOGIN_RATE_LIMIT": os.environ.get("FESTIVALS_LOGIN_RATE_LIMIT", "10/minute"),
        "LOGIN_IP_RATE_LIMIT": os.environ.get("FESTIVALS_LOGIN_IP_RATE_LIMIT", "30/minute"),
        "SIGNUP_RATE_LIMIT": os.environ.get("FESTIVALS_SIGNUP_RATE_LIMIT", "10/hour"),
        "RATE_LIMIT_PREFIX": os.environ.get("FESTIVALS_RATE_LIMIT_PREFIX", "festivals"),  # their keys in Redis
        # argon2 cost; tests lower it, production keeps argon2-cffi's RFC 9106 defaults.
        "ARGON2_TIME_COST": int(os.environ.get("FESTIVALS_ARGON2_TIME_COST", "3")),
        "ARGON2_MEMORY_COST": int(os.environ.get("FESTIVALS_ARGON2_MEMORY_COST", "65536")),
        # Request bodies over 1 MiB are refused with 413 (the API never needs more).
        "MAX_CONTENT_LENGTH": 1024 * 1024,
        # A CSV import (and the steps that carry its text): larger, so that every events.csv we export imports.
        "MAX_IMPORT_BYTES": int(os.environ.get("FESTIVALS_MAX_IMPORT_BYTES", str(32 * 1024 * 1024))),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "JSON_SORT_KEYS": False,
    }
