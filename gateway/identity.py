"""The identity service, asked over HTTP: the gateway shares no code or database with the app, so it asks
`GET <identity>/service-keys/verify` whether a Service-Key is valid and `GET <identity>/users/me` who a Bearer
token belongs to. Answers are cached (a revoked key is refused at most `ttl` seconds later); while identity is
unreachable, keys it accepted before stay accepted, so an identity outage does not empty the upstreams."""

from __future__ import annotations

import hashlib
import threading
import time

import requests

from common.http import passed_on
from common.tls import TlsFiles


class IdentityUnavailable(Exception):
    pass


class IdentityClient:
    def __init__(
        self,
        base_url: str,
        ttl: float = 60.0,
        negative_ttl: float = 5.0,
        timeout: float = 3.0,
        tls: TlsFiles | None = None,
    ):
        self.base = base_url.rstrip("/")
        self.ttl, self.negative_ttl, self.timeout = ttl, negative_ttl, timeout
        self.session = requests.Session()
        if tls is not None and tls.enabled:  # identity's internal port is mTLS: our certificate, our CA
            self.session.verify, self.session.cert = tls.ca, (tls.cert, tls.key)
            self.session.trust_env = False  # REQUESTS_CA_BUNDLE must not replace our CA
        self._cache: dict[str, tuple[object, float]] = {}  # sha256 of the credential -> (answer, expiry)
        self._lock = threading.Lock()

    def _ask(self, path: str, headers: dict, parse, credential: str):
        digest = hashlib.sha256(f"{path}\0{credential}".encode()).hexdigest()
        with self._lock:
            cached = self._cache.get(digest)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        if not self.base:
            raise IdentityUnavailable("FESTIVALS_IDENTITY_URL is not set")
        try:
            response = self.session.get(self.base + path, headers={**headers, **passed_on()}, timeout=self.timeout)
        except requests.RequestException as exc:
            if cached is not None and cached[0]:
                return cached[0]  # accepted before: stays accepted while identity is down
            raise IdentityUnavailable(str(exc)) from None
        if response.status_code >= 500:
            if cached is not None and cached[0]:
                return cached[0]
            raise IdentityUnavailable(f"identity answered {response.status_code}")
        answer = parse(response) if response.status_code == 200 else None
        with self._lock:
            self._cache[digest] = (answer, time.monotonic() + (self.ttl if answer else self.negative_ttl))
        return answer

    def service_key_valid(self, key: str) -> bool:
        return bool(key) and bool(self._ask("/service-keys/verify", {"Service-Key": key}, lambda r: True, key))

    def role_of(self, token: str) -> str | None:
        """The role of the user a Bearer token belongs to; None for an invalid token."""
        if not token:
            return None
        return self._ask(
            "/users/me", {"Authorization": f"Bearer {token}"}, lambda r: r.json()["data"][0]["user_role"], token
        )
