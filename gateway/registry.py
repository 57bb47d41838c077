"""The discovery registry: instances report heartbeats; the registry keeps each instance's state, pushes the
live set to Caddy's upstreams (admin API, no reload) at once when it changes, and raises an alert when an
instance goes stale or comes back.

States: `live` (beating, available), `unavailable` (beating, says it is not available), `stale` (no beat for
two intervals plus the grace). State is in memory, or in Redis when FESTIVALS_REDIS_URL is set (it then
survives a restart of the registry). Run one registry process (one gunicorn worker with threads): it owns the
pushes and the alerts."""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

import orjson
import requests

from gateway.caddy import GROUPS, CaddyAdmin, build_config
from gateway.settings import Settings, ip_of

log = logging.getLogger("festivals.gateway")
SERVICE = re.compile(r"^[a-z][a-z0-9-]{0,63}$")
HOSTNAME = re.compile(
    r"^(?:[A-Za-z0-9][A-Za-z0-9-]{0,62}(?:\.[A-Za-z0-9-]{1,63})*"  # a name or IPv4
    r"|\[[0-9A-Fa-f:.]+\]|[0-9A-Fa-f:]+)$"
)  # IPv6, bracketed or not
# The earlier Go services' names, and ours
ALIASES = {
    "festivals-server": "app",
    "festivals-app": "app",
    "festivals-api": "app",
    "festivals-identity-server": "identity",
    "festivals-identity": "identity",
    "festivals-fileserver": "files",
    "festivals-files": "files",
    "festivals-file-server": "files",
}


class BadHeartbeat(ValueError):
    def __init__(self, fields: dict):
        super().__init__("invalid heartbeat")
        self.fields = fields


@dataclass
class Instance:
    service: str
    host: str
    port: int
    scheme: str = "http"
    available: bool = True
    last_beat: float = 0.0
    state: str = "live"
    owner: str = ""  # digest of the Service-Key that registered it: no other key may beat for it while it lives

    @property
    def key(self) -> str:
        return f"{self.service}|{self.host}|{self.port}"

    @property
    def dial(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    def public(self) -> dict:
        stamp = datetime.fromtimestamp(self.last_beat, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return {
            "service": self.service,
            "host": self.host,
            "port": self.port,
            "scheme": self.scheme,
            "available": self.available,
            "state": self.state,
            "last_beat": stamp,
        }


def parse_heartbeat(body) -> Instance:
    """Our format `{"service","host","port","available"}`, or the Go services' with `host` a URL
    (`"https://festivals-0.example:10439"`; its port is used when `port` is missing)."""
    if not isinstance(body, dict):
        raise BadHeartbeat({"body": "send a JSON object"})
    fields = {}
    service = body.get("service")
    if not isinstance(service, str) or not SERVICE.match(service.strip().lower()):
        fields["service"] = "a service name: lowercase letters, digits and dashes"
    host, scheme, port = body.get("host"), "http", body.get("port")
    if isinstance(host, str) and "://" in host:
        url = urlsplit(host.strip())
        scheme, host = url.scheme.lower(), url.hostname or ""
        try:
            port = port if port is not None else url.port
        except ValueError:
            fields["host"] = "the URL's port is not a number"
        if scheme not in ("http", "https"):
            fields["host"] = "a URL must be http or https"
    if not isinstance(host, str) or not HOSTNAME.match(host.strip("[]") if ":" in host else host):
        fields.setdefault("host", "a host name, an IP address or an http(s) URL")
    if port is None and scheme == "https":
        port = 443
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        fields["port"] = "a port number from 1 to 65535"
    available = body.get("available", True)
    if not isinstance(available, bool):
        fields["available"] = "true or false"
    if fields:
        raise BadHeartbeat(fields)
    name = service.strip().lower()
    return Instance(ALIASES.get(name, name), host.strip("[]").lower(), port, scheme, available)


def address_refusal(settings: Settings, instance: Instance) -> str | None:
    """Why the gateway must not send traffic to the instance's address (None: it may): only the configured
    networks, hosts and ports (FESTIVALS_REGISTRY_UPSTREAMS), never the gateway's own ports."""
    address = ip_of(instance.host)
    own_hosts = {address.rpartition(":")[0].strip("[]") for address in (settings.registry, settings.admin)}
    local = instance.host in ("localhost", *own_hosts) or (
        address is not None and (address.is_loopback or address.is_unspecified)
    )
    if local and instance.port in settings.own_ports():
        return f"{instance.dial} is a port of the gateway itself"
    if not any(rule.allows(instance.host, instance.port) for rule in settings.upstreams_allowed):
        return f"{instance.dial} is not an address instances may have (FESTIVALS_REGISTRY_UPSTREAMS)"
    return None


class Full(Exception):
    """The service has as many instances as FESTIVALS_REGISTRY_MAX_INSTANCES allows."""


class Taken(Exception):
    """Another Service-Key beats for this instance (it may take it over once the instance is stale)."""


class MemoryStore:
    def __init__(self):
        self.rows: dict[str, dict] = {}

    def all(self) -> list[Instance]:
        return [Instance(**row) for row in self.rows.values()]

    def get(self, key: str) -> Instance | None:
        row = self.rows.get(key)
        return Instance(**row) if row else None

    def put(self, instance: Instance) -> None:
        self.rows[instance.key] = asdict(instance)

    def delete(self, key: str) -> None:
        self.rows.pop(key, None)


class RedisStore:
    """One hash: instance key -> JSON of the instance."""

    def __init__(self, url: str, prefix: str):
        import redis

        self.redis = redis.Redis.from_url(url)
        self.name = f"{prefix}instances"

    def all(self) -> list[Instance]:
        return [Instance(**orjson.loads(value)) for value in self.redis.hgetall(self.name).values()]

    def get(self, key: str) -> Instance | None:
        value = self.redis.hget(self.name, key)
        return Instance(**orjson.loads(value)) if value else None

    def put(self, instance: Instance) -> None:
        self.redis.hset(self.name, instance.key, orjson.dumps(asdict(instance)))

    def delete(self, key: str) -> None:
        self.redis.hdel(self.name, key)


class Registry:
    def __init__(self, settings: Settings, store=None, caddy: CaddyAdmin | None = None):
        self.settings = settings
        self.store = store or (
            RedisStore(settings.redis_url, settings.redis_prefix) if settings.redis_url else MemoryStore()
        )
        self.caddy = caddy or CaddyAdmin(settings.admin)
        self.lock = threading.RLock()
        self.pushed: dict[str, list[str]] | None = None  # what Caddy has; None: not loaded (yet)
        self.stopping = threading.Event()
        self.changed = threading.Event()  # wakes the loop at once: a push does not hold up a heartbeat
        self.webhook = requests.Session()

    # --- heartbeats and states ----------------------------------------------------------------------
    def beat(self, instance: Instance, admit=None) -> Instance:
        """Records one beat: reads and writes this instance's entry only (a flood of beats must not cost a
        pass over every entry each); the loop notices the rest. `admit()` says whether the sender may add a
        new instance now (its join limit)."""
        with self.lock:
            known = self.store.get(instance.key)
            if known is None:
                count = sum(1 for row in self.store.all() if row.service == instance.service)
                if count >= self.settings.max_instances:
                    raise Full(
                        f"{instance.service} has {count} instances, as many as FESTIVALS_REGISTRY_MAX_INSTANCES "
                        "allows; stale ones are forgotten after FESTIVALS_REGISTRY_FORGET_S"
                    )
                if admit is not None and not admit():
                    raise Full(f"more than {self.settings.join_limit} new instances with this Service-Key")
            elif known.owner and instance.owner != known.owner and known.state != "stale":
                raise Taken(
                    f"{instance.service} {instance.dial} beats with another Service-Key; a new key takes it over "
                    "once the instance is stale"
                )
            instance.last_beat = time.time()
            self._settle(instance, known.state if known else "new", instance.last_beat)
            self.store.put(instance)
        self.changed.set()
        return instance

    def state_of(self, instance: Instance, now: float) -> str:
        if now - instance.last_beat > self.settings.stale_after_s:
            return "stale"
        return "live" if instance.available else "unavailable"

    def _settle(self, instance: Instance, before: str, now: float) -> bool:
        """The instance's state now; logs a join and alerts on each change to or from stale. True if changed."""
        instance.state = self.state_of(instance, now)
        if instance.state == before:
            return False
        if before == "new":
            log.info("instance %s %s joined (%s)", instance.service, instance.dial, instance.state)
        elif "stale" in (before, instance.state):
            self.alert(instance, before)
        return True

    def refresh(self) -> None:
        """Recompute states (alerts on each change to or from stale); forget instances stale for longer than
        FESTIVALS_REGISTRY_FORGET_S."""
        with self.lock:
            now = time.time()
            for instance in self.store.all():
                if instance.state == "stale" and now - instance.last_beat > self.settings.forget_after_s:
                    self.store.delete(instance.key)
                    log.info(
                        "instance %s %s forgotten (stale since %s)",
                        instance.service,
                        instance.dial,
                        instance.public()["last_beat"],
                    )
                elif self._settle(instance, instance.state, now):
                    self.store.put(instance)

    def instances(self) -> list[Instance]:
        with self.lock:
            return sorted(self.store.all(), key=lambda row: (row.service, row.host, row.port))

    # --- Caddy ------------------------------------------------------------------------------------------
    def upstreams(self) -> dict[str, list[str]]:
        live: dict[str, list[str]] = {}
        for instance in self.instances():
            if instance.state == "live":
                live.setdefault(instance.service, []).append(instance.dial)
        return {
            group: next((live[service] for service in services if live.get(service)), [])
            for group, services in GROUPS.items()
        }

    def push(self) -> None:
        """Give Caddy the config with the live set when it differs from what Caddy has (or Caddy lost it)."""
        upstreams = self.upstreams()  # a snapshot under the lock; only the loop's thread pushes
        if upstreams == self.pushed:
            return
        try:
            self.caddy.load(build_config(self.settings, upstreams))
        except (requests.RequestException, RuntimeError) as exc:
            log.error("could not load Caddy's config: %s", exc)
            self.pushed = None
            return
        changed = [group for group in upstreams if (self.pushed or {}).get(group) != upstreams[group]]
        self.pushed = upstreams
        for group in changed:
            log.info("upstreams of %s: %s", group, ", ".join(upstreams[group]) or "none")

    # --- alerts -------------------------------------------------------------------------------------------
    def alert(self, instance: Instance, before: str) -> None:
        kind = "stale" if instance.state == "stale" else "back"
        payload = {
            "alert": f"instance_{kind}",
            "service": instance.service,
            "host": instance.host,
            "port": instance.port,
            "state": instance.state,
            "previous_state": before,
            "last_beat": instance.public()["last_beat"],
            "domain": self.settings.domain,
            "at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        log.warning(
            "ALERT instance %s %s is %s (was %s, last beat %s)",
            instance.service,
            instance.dial,
            instance.state,
            before,
            payload["last_beat"],
        )
        if self.settings.alert_webhook:
            threading.Thread(target=self._post_alert, args=(payload,), daemon=True).start()

    def _post_alert(self, payload: dict) -> None:
        try:
            self.webhook.post(
                self.settings.alert_webhook,
                data=orjson.dumps(payload),
                timeout=5,
                headers={"Content-Type": "application/json"},
            )
        except requests.RequestException as exc:
            log.error("alert webhook %s failed: %s", self.settings.alert_webhook, exc)

    # --- the loop ----------------------------------------------------------------------------------------
    def run(self) -> None:
        """At every change, and every quarter beat (0.25 s at most): notice stale instances, bring Caddy's
        upstreams up to date (its whole config again when it lost it, e.g. after a restart of Caddy)."""
        tick = min(0.25, self.settings.heartbeat_s / 4)
        next_check = 0.0
        while not self.stopping.is_set():
            self.changed.wait(tick)
            self.changed.clear()
            try:
                self.refresh()
                # Caddy is asked outside the lock: a slow admin API never holds up a heartbeat
                if time.monotonic() >= next_check:  # Caddy restarted without config? (every 5 s)
                    next_check = time.monotonic() + 5
                    if self.pushed is not None and not self.caddy.has_config():
                        self.pushed = None
                self.push()
            except Exception:  # noqa: BLE001 - the loop must outlive any one failure
                log.exception("registry loop")

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, name="registry", daemon=True)
        thread.start()
        return thread
