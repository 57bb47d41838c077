"""Gateway settings from FESTIVALS_* environment variables (documented in the README)."""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass, field

from common.env import env_flag
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


HOST_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,62})(\.[a-z0-9]([a-z0-9-]{0,62}))*$")
DEFAULT_UPSTREAMS = "127.0.0.0/8,::1"  # loopback: every process on this machine (scripts/stack)


@dataclass(frozen=True)
class UpstreamRule:
    """Where instances may be: an IP network or an exact host name (never resolved: DNS could change), and a
    port range."""

    network: ipaddress.IPv4Network | ipaddress.IPv6Network | None
    name: str
    low: int = 1
    high: int = 65535

    def allows(self, host: str, port: int) -> bool:
        if not self.low <= port <= self.high:
            return False
        if self.network is None:
            return host == self.name
        address = ip_of(host)
        return address is not None and address.version == self.network.version and address in self.network


def ip_of(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The IP address a host is, None for a name; an IPv4-mapped IPv6 address as the IPv4 address."""
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None
    return getattr(address, "ipv4_mapped", None) or address


def parse_upstreams(value: str) -> tuple[UpstreamRule, ...]:
    """FESTIVALS_REGISTRY_UPSTREAMS: comma-separated `NETWORK`, `HOST` or either with `:PORT` or `:LOW-HIGH`
    (an IPv6 network with a port in brackets: `[fd00::/8]:8000-8999`)."""
    rules = []
    for entry in (part.strip() for part in value.split(",")):
        if not entry:
            continue
        if entry.startswith("["):
            host, _, rest = entry[1:].partition("]")
            ports = rest[1:] if rest.startswith(":") else rest
        elif entry.count(":") == 1:
            host, ports = entry.split(":")
        else:
            host, ports = entry, ""
        if ports and not re.fullmatch(r"\d{1,5}(-\d{1,5})?", ports):
            raise ValueError(f"FESTIVALS_REGISTRY_UPSTREAMS: bad port range in {entry!r}")
        low, _, high = ports.partition("-")
        low_port, high_port = (int(low), int(high or low)) if ports else (1, 65535)
        try:
            network = ipaddress.ip_network(host, strict=False)
        except ValueError:
            network = None
        if not 1 <= low_port <= high_port <= 65535:
            raise ValueError(f"FESTIVALS_REGISTRY_UPSTREAMS: ports must be 1-65535, low first, in {entry!r}")
        if network is None and not HOST_NAME.match(host.lower()):
            raise ValueError(f"FESTIVALS_REGISTRY_UPSTREAMS: not a network or host name: {entry!r}")
        rules.append(UpstreamRule(network, "" if network else host.lower(), low_port, high_port))
    if not rules:
        raise ValueError("FESTIVALS_REGISTRY_UPSTREAMS names no network or host")
    return tuple(rules)


def _limit(name: str, default: str) -> str:
    from limits import parse

    value = os.environ.get(name, "").strip() or default
    try:
        parse(value)
    except ValueError:
        raise ValueError(f"{name} must be a rate such as {default!r}") from None
    return value


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
    # FESTIVALS_MEDIA_STORE=s3: Caddy proxies stored files from the bucket instead (gateway/caddy.py)
    media_store: str = "local"
    s3_endpoint: str = ""
    s3_bucket: str = ""
    s3_region: str = ""
    identity_url: str = ""  # e.g. http://127.0.0.1:5002/identity: where Service-Keys and admin tokens are checked
    heartbeat_s: float = 5.0
    grace_s: float = 1.0
    alert_webhook: str = ""
    # error_rate_high: this share of the instances' answers were 5xx over the window, with at least min answers
    alert_error_ratio: float = 0.05
    alert_error_window_s: float = 300.0
    alert_min_answers: int = 20
    redis_url: str = ""
    redis_prefix: str = "festivals:registry:"
    access_log: str = ""  # a file for Caddy's (masked) access log; stderr when empty
    log_format: str = "text"  # the registry's own log (FESTIVALS_LOG_FORMAT): text or json
    log_level: str = "INFO"
    log_health: bool = False  # the registry's access lines of /health and /ready
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
    # where instances may be (FESTIVALS_REGISTRY_UPSTREAMS): a heartbeat naming another address is refused
    upstreams_allowed: tuple[UpstreamRule, ...] = field(default_factory=lambda: parse_upstreams(DEFAULT_UPSTREAMS))
    # against a heartbeat flood: instances per service, beats per Service-Key, identity lookups of keys it
    # does not know yet per client certificate (`limits` notation), and how long a stale instance is kept
    max_instances: int = 64
    beat_limit: str = "10/second"
    join_limit: str = "5/minute"  # new instances per Service-Key: each would dilute Caddy's upstreams
    lookup_limit: str = "20/minute"
    forget_after_s: float = 600.0

    @property
    def bucket_url(self) -> str:
        """Where the bucket's objects are read by name: `<endpoint>/<bucket>` (path style: any S3-compatible
        store) or, without an endpoint, AWS's virtual host for the bucket."""
        if self.s3_endpoint:
            return f"{self.s3_endpoint}/{self.s3_bucket}"
        return f"https://{self.s3_bucket}.s3.{self.s3_region or 'us-east-1'}.amazonaws.com"

    @property
    def https(self) -> bool:
        return self.public_tls != "off"

    @property
    def hsts(self) -> bool:
        """Strict-Transport-Security on a real domain only: browsers would pin it for a local name too."""
        return self.https and not is_local_name(self.domain)

    def own_ports(self) -> set[int]:
        """Ports of the gateway itself (the registry, Caddy's admin API and its listeners)."""
        return {int(address.rpartition(":")[2]) for address in (self.registry, self.admin)} | {
            self.port,
            self.https_port,
        }

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
        "media_store": os.environ.get("FESTIVALS_MEDIA_STORE", "").strip().lower() or "local",
        "s3_endpoint": os.environ.get("FESTIVALS_S3_ENDPOINT", "").strip().rstrip("/"),
        "s3_bucket": os.environ.get("FESTIVALS_S3_BUCKET", "").strip(),
        "s3_region": os.environ.get("FESTIVALS_S3_REGION", "").strip(),
        "identity_url": os.environ.get("FESTIVALS_IDENTITY_URL", "").rstrip("/"),
        "heartbeat_s": _seconds("FESTIVALS_HEARTBEAT_S", 5.0),
        "grace_s": _seconds("FESTIVALS_HEARTBEAT_GRACE_S", 1.0),
        "alert_webhook": os.environ.get("FESTIVALS_ALERT_WEBHOOK", ""),
        "alert_error_ratio": float(os.environ.get("FESTIVALS_ALERT_ERROR_RATIO", "") or 0.05),
        "alert_error_window_s": _seconds("FESTIVALS_ALERT_ERROR_WINDOW_S", 300.0),
        "alert_min_answers": int(os.environ.get("FESTIVALS_ALERT_MIN_ANSWERS", "") or 20),
        "redis_url": os.environ.get("FESTIVALS_REDIS_URL", ""),
        "redis_prefix": os.environ.get("FESTIVALS_REGISTRY_PREFIX", "festivals:registry:"),
        "access_log": os.environ.get("FESTIVALS_GATEWAY_ACCESS_LOG", ""),
        "log_format": os.environ.get("FESTIVALS_LOG_FORMAT", "text"),
        "log_level": os.environ.get("FESTIVALS_LOG_LEVEL", "INFO"),
        "log_health": env_flag("FESTIVALS_LOG_HEALTH"),
        "log_files": env_flag("FESTIVALS_GATEWAY_LOG_FILES"),
        "tls": TlsFiles.from_env(),
        "https_port": int(os.environ.get("FESTIVALS_GATEWAY_HTTPS_PORT", "8443")),
        "acme_email": os.environ.get("FESTIVALS_ACME_EMAIL", "").strip(),
        "max_instances": int(os.environ.get("FESTIVALS_REGISTRY_MAX_INSTANCES", "") or 64),
        "beat_limit": _limit("FESTIVALS_REGISTRY_BEAT_LIMIT", "10/second"),
        "join_limit": _limit("FESTIVALS_REGISTRY_JOIN_LIMIT", "5/minute"),
        "lookup_limit": _limit("FESTIVALS_REGISTRY_LOOKUP_LIMIT", "20/minute"),
        "forget_after_s": _seconds("FESTIVALS_REGISTRY_FORGET_S", 600.0),
        "upstreams_allowed": parse_upstreams(os.environ.get("FESTIVALS_REGISTRY_UPSTREAMS", "") or DEFAULT_UPSTREAMS),
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
