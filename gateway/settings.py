"""The gateway's settings, from common/settings.py GatewaySettings (docs/configuration.md), and the rules they
name (public TLS, where instances may be)."""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass, field

from common.settings import GatewaySettings, load
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
    """The gateway's settings (common/settings.py GatewaySettings) with `overrides` (Settings fields) on top."""
    given = load(GatewaySettings)
    instance = os.path.abspath(given.instance_path)
    tls = TlsFiles.of(given)
    tls.check()
    ca_key = os.path.splitext(tls.ca)[0] + ".key" if tls.ca else ""
    values = {
        "domain": given.domain,
        "port": given.gateway_port,
        "admin": given.gateway_admin,
        "registry": given.registry_address,
        "media_dir": os.path.abspath(given.media_dir or os.path.join(instance, "media")),
        "media_store": given.media_store,
        "s3_endpoint": given.s3_endpoint,
        "s3_bucket": given.s3_bucket,
        "s3_region": given.s3_region,
        "identity_url": given.identity_url,
        "heartbeat_s": given.heartbeat_s,
        "grace_s": given.heartbeat_grace_s,
        "alert_webhook": given.alert_webhook,
        "alert_error_ratio": given.alert_error_ratio,
        "alert_error_window_s": given.alert_error_window_s,
        "alert_min_answers": given.alert_min_answers,
        "redis_url": given.redis_url,
        "redis_prefix": given.registry_prefix,
        "access_log": given.gateway_access_log,
        "log_format": given.log_format,
        "log_level": given.log_level,
        "log_health": given.log_health,
        "log_files": given.gateway_log_files,
        "tls": tls,
        "https_port": given.gateway_https_port,
        "acme_email": given.acme_email,
        "max_instances": given.registry_max_instances,
        "beat_limit": given.registry_beat_limit,
        "join_limit": given.registry_join_limit,
        "lookup_limit": given.registry_lookup_limit,
        "forget_after_s": given.registry_forget_s,
        "upstreams_allowed": parse_upstreams(given.registry_upstreams),
        "storage": os.path.abspath(given.gateway_storage or os.path.join(instance, "caddy", "data")),
        "ca_key": given.gateway_ca_key or (ca_key if ca_key and os.path.isfile(ca_key) else ""),
        "public_tls": public_tls(given.public_tls, given.domain),
        **overrides,
    }
    return Settings(**values)
