"""Gateway settings from FESTIVALS_* environment variables (documented in the README)."""
from __future__ import annotations

import os
from dataclasses import dataclass


def _seconds(name: str, default: float) -> float:
    value = float(os.environ.get(name, "") or default)
    if value <= 0:
        raise ValueError(f"{name} must be a positive number of seconds")
    return value


@dataclass(frozen=True)
class Settings:
    domain: str = "festivals.localhost"
    port: int = 8080  # where Caddy listens for visitors
    admin: str = "127.0.0.1:2019"  # Caddy's admin API
    registry: str = "127.0.0.1:8090"  # the discovery registry (gunicorn), Caddy's upstream for discovery.<domain>
    media_dir: str = ""  # the file server's folder: Caddy serves stored files from it directly
    identity_url: str = ""  # e.g. http://127.0.0.1:5002/identity: where Service-Keys and admin tokens are checked
    heartbeat_s: float = 5.0
    grace_s: float = 1.0
    alert_webhook: str = ""
    redis_url: str = ""
    redis_prefix: str = "festivals:registry:"
    access_log: str = ""  # a file for Caddy's (masked) access log; stderr when empty
    log_files: bool = False  # files.<domain> in the access log too
    # Caddy checks each upstream's /ready this often, and retries a failed idempotent request this long
    health_interval_s: float = 1.0
    try_duration_s: float = 5.0

    @property
    def stale_after_s(self) -> float:
        """An instance is stale after two missed beats plus the grace."""
        return 2 * self.heartbeat_s + self.grace_s


def load_settings(**overrides) -> Settings:
    instance = os.path.abspath(os.environ.get("FESTIVALS_INSTANCE_PATH", "instance"))
    values = {
        "domain": os.environ.get("FESTIVALS_DOMAIN", "festivals.localhost").strip().lower(),
        "port": int(os.environ.get("FESTIVALS_GATEWAY_PORT", "8080")),
        "admin": os.environ.get("FESTIVALS_GATEWAY_ADMIN", "127.0.0.1:2019"),
        "registry": os.environ.get("FESTIVALS_REGISTRY_ADDRESS", "127.0.0.1:8090"),
        "media_dir": os.path.abspath(os.environ.get("FESTIVALS_MEDIA_DIR", "") or os.path.join(instance, "media")),
        "identity_url": os.environ.get("FESTIVALS_IDENTITY_URL", "").rstrip("/"),
        "heartbeat_s": _seconds("FESTIVALS_HEARTBEAT_S", 5.0),
        "grace_s": _seconds("FESTIVALS_HEARTBEAT_GRACE_S", 1.0),
        "alert_webhook": os.environ.get("FESTIVALS_ALERT_WEBHOOK", ""),
        "redis_url": os.environ.get("FESTIVALS_REDIS_URL", ""),
        "redis_prefix": os.environ.get("FESTIVALS_REGISTRY_PREFIX", "festivals:registry:"),
        "access_log": os.environ.get("FESTIVALS_GATEWAY_ACCESS_LOG", ""),
        "log_files": os.environ.get("FESTIVALS_GATEWAY_LOG_FILES", "").strip().lower() in ("1", "true", "yes", "on"),
    }
    values.update(overrides)
    return Settings(**values)
