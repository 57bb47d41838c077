"""The registry's HTTP face (behind Caddy at discovery.<domain>): heartbeats in, the instance list out.

POST /loversear   Service-Key, {"service","host","port","available"} (or the Go format) -> 202; with a client
                  certificate of the service's role (common/pki.py), for an address FESTIVALS_REGISTRY_UPSTREAMS
                  allows: straight to the registry's mTLS port, or through discovery.<domain>, where Caddy
                  verifies the certificate and forwards it (FORWARDED_CERT_HEADER)
GET  /services    Bearer token of an admin -> every instance with its state and last beat
GET  /health, /ready
GET  /metrics     loopback callers and admins (Prometheus text, common/metrics.py)"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
from pathlib import Path

import orjson
from cryptography import x509
from flask import Flask, Response, request
from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from werkzeug.exceptions import HTTPException

from common.http import init_request_ids, peer_certificate
from common.logs import configure_logging
from common.metrics import HEARTBEATS, HEARTBEATS_REFUSED, init_metrics
from common.pki import FORWARDED_CERT_HEADER, certificate_role
from gateway.identity import IdentityClient, IdentityUnavailable
from gateway.registry import BadHeartbeat, Full, Registry, Taken, address_refusal, parse_heartbeat
from gateway.settings import Settings, load_settings


class Refused(Exception):
    def __init__(self, status: int, message: str, fields: dict | None = None):
        super().__init__(message)
        self.status, self.message, self.fields = status, message, fields


def answer(payload, status: int = 200) -> Response:
    return Response(
        orjson.dumps(payload), status=status, mimetype="application/json", headers={"Cache-Control": "no-store"}
    )


def create_registry_app(settings: Settings | None = None, start: bool = True) -> Flask:
    settings = settings or load_settings()
    # one line per event like every service (JSON with FESTIVALS_LOG_FORMAT=json), with the request id
    configure_logging("festivals", settings.log_format, settings.log_level, settings.log_health)
    registry = Registry(settings)
    identity = IdentityClient(settings.identity_url, tls=settings.tls)
    web = Flask(__name__)
    init_request_ids(web, logging.getLogger("festivals.gateway.request"))
    web.extensions["registry"] = registry
    # per process: one registry process owns the state (see gateway/registry.py); a moving window is exact (a
    # sliding-window counter lets a few more through where two windows meet)
    limiter = MovingWindowRateLimiter(MemoryStorage())
    beat_limit, lookup_limit = parse(settings.beat_limit), parse(settings.lookup_limit)
    join_limit = parse(settings.join_limit)

    def verified(check, credential: str) -> object:
        try:
            return check(credential)
        except IdentityUnavailable as exc:
            raise Refused(503, f"the identity service cannot be asked right now: {exc}") from None

    # the CA that signed a certificate Caddy forwards (checked again here: the header is only as good as its signer)
    ca = x509.load_pem_x509_certificate(Path(settings.tls.ca).read_bytes()) if settings.tls.enabled else None

    def client_certificate() -> tuple[str | None, str]:
        """The role in the client certificate (None: none) and its fingerprint: the one gunicorn's TLS socket
        verified or, when that is the gateway's (a beat through Caddy's discovery host), the one Caddy verified
        and forwarded. A forwarded certificate from any other peer is ignored."""
        der = peer_certificate()
        role = certificate_role(der)
        if role == "gateway":  # the gateway's role registers nothing of its own
            try:
                der = base64.b64decode(request.headers.get(FORWARDED_CERT_HEADER, ""), validate=True)
            except binascii.Error:
                der = b""
            role = certificate_role(der, ca) if der and ca else None
        return role, hashlib.sha256(der).hexdigest()

    @web.post("/loversear")
    def heartbeat():
        try:
            body = orjson.loads(request.get_data(cache=False) or b"null")
        except orjson.JSONDecodeError:
            raise Refused(400, "the request body is not valid JSON") from None
        try:
            instance = parse_heartbeat(body)
        except BadHeartbeat as exc:
            raise Refused(400, "invalid heartbeat", exc.fields) from None
        # local checks first: they cost no call to identity
        role, fingerprint = client_certificate()
        if role != instance.service:
            raise Refused(
                403,
                f"a heartbeat of {instance.service} needs a client certificate of the role {instance.service} "
                f"({'this one is ' + role if role else 'none was given'}); send it to discovery.<domain> or "
                "straight to the registry's mTLS port",
            )
        refusal = address_refusal(settings, instance)
        if refusal:
            raise Refused(403, refusal, {"host": refusal})
        key = request.headers.get("Service-Key", "")
        key_id = hashlib.sha256(key.encode()).hexdigest()
        if not limiter.hit(beat_limit, "beat", key_id):
            raise Refused(429, f"more than {settings.beat_limit} heartbeats with this Service-Key")
        if not identity.service_key_known(key) and not limiter.hit(lookup_limit, "lookup", fingerprint):
            raise Refused(429, f"more than {settings.lookup_limit} unknown Service-Keys from this certificate")
        if not verified(identity.service_key_valid, key):
            raise Refused(401, "a valid Service-Key is required")
        instance.owner = key_id
        try:
            beat = registry.beat(instance, admit=lambda: limiter.hit(join_limit, "join", key_id))
        except Full as exc:
            raise Refused(429, str(exc)) from None
        except Taken as exc:
            raise Refused(409, str(exc)) from None
        HEARTBEATS.labels(beat.service, "true" if beat.available else "false").inc()
        return answer({"data": [beat.public()]}, 202)

    def require_admin(what: str) -> None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        role = verified(identity.role_of, token.strip() if scheme.lower() == "bearer" else "")
        if role is None:
            raise Refused(401, "a Bearer token of an admin is required")
        if role != "admin":
            raise Refused(403, f"only admins can {what}")

    @web.get("/services")
    def services():
        require_admin("list services")
        return answer({"data": [instance.public() for instance in registry.instances()]})

    @web.get("/health")
    def health():
        return answer({"status": "ok"})

    @web.get("/ready")
    def ready():
        if registry.pushed is None:
            return answer({"status": "unavailable", "caddy": "config not loaded"}, 503)
        return answer({"status": "ready", "caddy": "ok"})

    @web.errorhandler(Refused)
    def _refused(exc: Refused):
        if request.path == "/loversear":
            HEARTBEATS_REFUSED.labels(str(exc.status)).inc()
        body = {"error": exc.message, **({"fields": exc.fields} if exc.fields else {})}
        response = answer(body, exc.status)
        if exc.status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="festivals"'
        return response

    @web.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        return answer({"error": (exc.description or exc.name).rstrip(".")}, exc.code or 500)

    init_metrics(web, lambda: require_admin("read the metrics"))
    if start:
        registry.start()  # loads Caddy's config at once (and again whenever Caddy lost it)
    return web
