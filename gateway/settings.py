"""Gateway settings from FESTIVALS_* environment variables (documented in the README)."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field

from common.tls import TlsFiles

PUBLIC_TLS = ("auto", "internal", "acme", "off")
# Names no public CA certifies (RFC 6761, 8375, 6762): Caddy's internal issuer signs certificates for them
LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".test", ".example", ".invalid", ".home.arpa", ".lan")


def is_local_name(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        return name == "localhost" or name.endswith(LOCAL_SUFFIXES)


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
    # TLS (see gateway/caddy.py): FESTIVALS_TLS_* are Caddy's client certificate towards every upstream and the
    # CA their certificates must chain to; public_tls is how visitors get HTTPS: "internal" (Caddy's internal
    # issuer: under our CA when its key is given, else Caddy's own local CA), "acme" or "off" (plain HTTP).
    tls: TlsFiles = field(default_factory=TlsFiles)
    public_tls: str = "off"
    https_port: int = 8443
    ca_key: str = ""  # our CA's key, for the internal issuer (local names only; ACME needs none)
    acme_email: str = ""
    storage: str = ""  # Caddy's data: certificates it obtained, its intermediate CA

    @property
    def https(self) -> bool:
        return self.public_tls != "off"

    @property
    def hsts(self) -> bool:
        """Strict-Transport-Security on a real domain only: browsers would pin it for a local name too."""
        return self.https and not is_local_name(self.domain)

    @property
    def stale_after_s(self) -> float:
        """An instance is stale after two missed beats plus the grace."""
        return 2 * self.heartbeat_s + self.grace_s


def public_tls(choice: str, domain: str) -> str:
    """FESTIVALS_PUBLIC_TLS: `auto` is Caddy's internal issuer for local names and ACME for a real domain."""
    choice = (choice or "auto").strip().lower()
    if choice not in PUBLIC_TLS:
        raise ValueError(f"FESTIVALS_PUBLIC_TLS must be one of {', '.join(PUBLIC_TLS)}")
    if choice == "auto":
        return "internal" if is_local_name(domain) else "acme"
    return choice


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
        "tls": TlsFiles.from_env(),
        "https_port": int(os.environ.get("FESTIVALS_GATEWAY_HTTPS_PORT", "8443")),
        "acme_email": os.environ.get("FESTIVALS_ACME_EMAIL", "").strip(),
        "storage": os.path.abspath(
            os.environ.get("FESTIVALS_GATEWAY_STORAGE", "") or os.path.join(instance, "caddy", "data")
        ),
    }
    values["tls"].check()
    ca_key = os.path.splitext(values["tls"].ca)[0] + ".key" if values["tls"].ca else ""
    values["ca_key"] = os.environ.get("FESTIVALS_GATEWAY_CA_KEY", "").strip() or (
        ca_key if ca_key and os.path.isfile(ca_key) else ""
    )
    values["public_tls"] = public_tls(os.environ.get("FESTIVALS_PUBLIC_TLS", "auto"), values["domain"])
    values.update(overrides)
    return Settings(**values)
