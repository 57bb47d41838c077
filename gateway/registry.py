"""The discovery registry: instances report heartbeats; the registry keeps each instance's state, pushes the
live set to Caddy's upstreams (admin API) when it changes (a join at once, a leave 1 s later: LEAVE_DELAY_S),
and raises alerts (log line and FESTIVALS_ALERT_WEBHOOK) when an instance goes stale or comes back, when a
service has no live instance left (and again when it has one), when instances report their database
unreachable (and when none does any more), and when an instance reports a certificate close to expiry.

States: `live` (beating, available), `unavailable` (beating, says it is not available), `stale` (no beat for
two intervals plus the grace). State is in memory, or in Redis when FESTIVALS_REDIS_URL is set (it then
survives a restart of the registry). Run one registry process (one gunicorn worker with threads): it owns the
pushes and the alerts."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

import orjson
import requests

from common.metrics import INSTANCES
from gateway.caddy import GROUPS, CaddyAdmin, build_config
from gateway.settings import Settings, ip_of

log = logging.getLogger("festivals.gateway")
# An instance that leaves (its last beat, or stale) leaves Caddy this long after: loading a config cancels the
# retries Caddy is making at that moment (a 502 to the visitor), and right after a crash is when it makes them;
# meanwhile Caddy's own health checks keep requests away from the instance. One that joins is pushed at once.
LEAVE_DELAY_S = 1.0

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
    checks: dict = field(default_factory=dict)  # what its /ready found failing, e.g. {"database": "unreachable"}
    expiring: list = field(default_factory=list)  # its certificates close to expiry: [{"name", "days_left"}]
    answers: int = 0  # answered requests since the instance started, and how many of them were 5xx
    errors: int = 0

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
            **({"checks": self.checks} if self.checks else {}),
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
    for name in ("answers", "errors"):
        if not _count(body.get(name, 0)):
            fields[name] = "a number of answers since the instance started"
    checks, expiring = body.get("checks", {}), body.get("expiring", [])
    if not isinstance(checks, dict) or len(checks) > 16 or not all(map(_short_words, checks.items())):
        fields["checks"] = "an object of up to 16 failing checks, each a short name and state"
    if not isinstance(expiring, list) or len(expiring) > 32 or not all(map(_expiring_entry, expiring)):
        fields["expiring"] = 'a list of up to 32 certificates: {"name", "days_left"}'
    if fields:
        raise BadHeartbeat(fields)
    name = service.strip().lower()
    expiring = [{"name": entry["name"], "days_left": entry["days_left"]} for entry in expiring]
    return Instance(
        ALIASES.get(name, name),
        host.strip("[]").lower(),
        port,
        scheme,
        available,
        checks=checks,
        expiring=expiring,
        answers=body.get("answers", 0),
        errors=body.get("errors", 0),
    )


def _count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _short_words(pair) -> bool:
    return all(isinstance(word, str) and 0 < len(word) <= 64 for word in pair)


def _expiring_entry(entry) -> bool:
    return (
        isinstance(entry, dict)
        and isinstance(entry.get("name"), str)
        and 0 < len(entry["name"]) <= 64
        and isinstance(entry.get("days_left"), int)
        and not isinstance(entry["days_left"], bool)
    )


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
        self.said: dict = {}

    def alerts_said(self) -> dict:
        return self.said

    def put_alerts_said(self, said: dict) -> None:
        self.said = said

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
        self.said_key = f"{prefix}alerts"

    def alerts_said(self) -> dict:
        value = self.redis.get(self.said_key)
        return orjson.loads(value) if value else {}

    def put_alerts_said(self, said: dict) -> None:
        self.redis.set(self.said_key, orjson.dumps(said))

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
        self.leaving_since: float | None = None  # when an instance that Caddy has stopped being live
        self.stopping = threading.Event()
        self.changed = threading.Event()  # wakes the loop at once: a push does not hold up a heartbeat
        self.webhook = requests.Session()
        self.answered: deque[tuple[float, int, int]] = deque()  # (when, answers, of them 5xx) from the beats

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
            self.count_answers(instance, known)
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
        FESTIVALS_REGISTRY_FORGET_S; alert on what the instances tell."""
        with self.lock:
            now = time.time()
            instances = []
            for instance in self.store.all():
                if instance.state == "stale" and now - instance.last_beat > self.settings.forget_after_s:
                    self.store.delete(instance.key)
                    log.info(
                        "instance %s %s forgotten (stale since %s)",
                        instance.service,
                        instance.dial,
                        instance.public()["last_beat"],
                    )
                    continue
                if self._settle(instance, instance.state, now):
                    self.store.put(instance)
                instances.append(instance)
            self.count(instances)
            # what the alerts said last (in the store: a restarted registry, or a second one, says nothing twice)
            said = self.store.alerts_said()
            before = orjson.dumps(said)
            self.watch_services(instances, said)
            self.watch_database(instances, said)
            self.watch_certificates(instances, said)
            self.watch_errors(said)
            if orjson.dumps(said) != before:
                self.store.put_alerts_said(said)

    def count_answers(self, instance: Instance, known: Instance | None) -> None:
        """What the instance answered since its last beat (all of it after a restart: its counts began anew)."""
        before = (known.answers, known.errors) if known and known.answers <= instance.answers else (0, 0)
        answers, errors = instance.answers - before[0], max(0, instance.errors - before[1])
        if answers:
            self.answered.append((time.monotonic(), answers, errors))

    def watch_errors(self, said: dict) -> None:
        """error_rate_high: over the window, at least the configured share of all answers were 5xx."""
        settings = self.settings
        while self.answered and self.answered[0][0] < time.monotonic() - settings.alert_error_window_s:
            self.answered.popleft()
        answers = sum(row[1] for row in self.answered)
        errors = sum(row[2] for row in self.answered)
        high = answers >= settings.alert_min_answers and errors >= settings.alert_error_ratio * answers
        if high and not said.get("error_rate_high"):
            window = f"{settings.alert_error_window_s:g} s"
            self.send_alert(
                "error_rate_high",
                f"{errors} of {answers} answers in the last {window} were 5xx",
                answers=answers,
                errors=errors,
                window_s=settings.alert_error_window_s,
            )
        elif not high and said.get("error_rate_high") and answers >= settings.alert_min_answers:
            self.send_alert(
                "error_rate_normal", f"{errors} of {answers} answers were 5xx", answers=answers, errors=errors
            )
        if answers >= settings.alert_min_answers:
            said["error_rate_high"] = high

    @staticmethod
    def count(instances: list[Instance]) -> None:
        """festivals_registry_instances for the alert rules (a state with none is 0, not missing)."""
        for service in {instance.service for instance in instances}:
            for state in ("live", "unavailable", "stale"):
                number = sum(1 for i in instances if i.service == service and i.state == state)
                INSTANCES.labels(service, state).set(number)

    def watch_services(self, instances: list[Instance], said: dict) -> None:
        """A service that had a live instance and has none (every one stale or unavailable): nothing answers it."""
        served = {instance.service for instance in instances if instance.state == "live"}
        known = set(said.get("served", []))
        for service in sorted(known - served):
            states = sorted(f"{i.dial} {i.state}" for i in instances if i.service == service)
            self.send_alert(
                "service_down",
                f"service {service} has no live instance ({', '.join(states)})",
                service=service,
                instances=states,
            )
        for service in sorted(served - known):
            if service in said.get("ever_served", []):
                self.send_alert("service_back", f"service {service} has a live instance again", service=service)
        said["served"] = sorted(served)
        said["ever_served"] = sorted(served | set(said.get("ever_served", [])))

    def watch_database(self, instances: list[Instance], said: dict) -> None:
        """Instances that beat and say their database does not answer: the database is down (for them)."""
        failing = sorted(
            f"{i.service} {i.dial}" for i in instances if i.state != "stale" and i.checks.get("database", "ok") != "ok"
        )
        if failing and not said.get("database_down"):
            self.send_alert("database_down", f"the database does not answer ({', '.join(failing)})", instances=failing)
        elif not failing and said.get("database_down"):
            self.send_alert("database_back", "the database answers again")
        said["database_down"] = bool(failing)

    def watch_certificates(self, instances: list[Instance], said: dict) -> None:
        """Once per instance and certificate (a renewed certificate is no longer reported)."""
        current = {instance.key for instance in instances}
        expiring = said["expiring"] = [key for key in said.get("expiring", []) if key.rpartition("|")[0] in current]
        for instance in instances:
            for entry in instance.expiring:
                key = f"{instance.key}|{entry['name']}"
                if key in expiring:
                    continue
                expiring.append(key)
                self.send_alert(
                    "certificate_expiring",
                    f"certificate {entry['name']} of {instance.service} {instance.dial} expires in "
                    f"{entry['days_left']} days",
                    service=instance.service,
                    host=instance.host,
                    port=instance.port,
                    certificate=entry["name"],
                    days_left=entry["days_left"],
                )

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
            self.leaving_since = None
            return
        if self.pushed is not None and all(set(upstreams[g]) <= set(self.pushed.get(g, [])) for g in upstreams):
            now = time.monotonic()  # only leaving: see LEAVE_DELAY_S
            self.leaving_since = self.leaving_since or now
            if now - self.leaving_since < LEAVE_DELAY_S:
                return
        self.leaving_since = None
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
        last_beat = instance.public()["last_beat"]
        self.send_alert(
            f"instance_{kind}",
            f"instance {instance.service} {instance.dial} is {instance.state} (was {before}, last beat {last_beat})",
            service=instance.service,
            host=instance.host,
            port=instance.port,
            state=instance.state,
            previous_state=before,
            last_beat=last_beat,
        )

    def send_alert(self, kind: str, message: str, **details) -> None:
        """An `ALERT <message>` log line, and a POST of `{"alert": kind, ...details, "domain", "at"}` to the
        webhook (in a thread of its own: a slow webhook holds up nothing)."""
        payload = {
            "alert": kind,
            **details,
            "domain": self.settings.domain,
            "at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        log.warning("ALERT %s", message)
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
