"""The identity service, asked over HTTP: the gateway shares no code or database with the app, so it asks
`GET <identity>/service-keys/verify` whether a Service-Key is valid and `GET <identity>/users/me` who a Bearer
token belongs to. Answers are cached (a revoked key is refused at most `ttl` seconds later, an unknown one is
asked again after `negative_ttl`), in bounded caches: a flood of random keys cannot grow them; while identity is
unreachable, keys it accepted before stay accepted, so an identity outage does not empty the upstreams."""

from __future__ import annotations

import hashlib
import threading
import time

import requests
from cachetools import LRUCache, TLRUCache

from common.http import passed_on
from common.metrics import IDENTITY_LOOKUPS
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
        # sha256 of the credential -> identity's answer, until its expiry (None: refused)
        self._fresh = TLRUCache(
            maxsize=4096,
            ttu=lambda _key, answer, now: now + (self.ttl if answer else self.negative_ttl),
            timer=time.monotonic,
        )
        self._accepted = LRUCache(maxsize=1024)  # answers given once: used while identity is unreachable
        self._lock = threading.Lock()

    @staticmethod
    def _digest(path: str, credential: str) -> str:
        return hashlib.sha256(f"{path}\0{credential}".encode()).hexdigest()

    def known(self, path: str, credential: str) -> bool:
        """Whether identity's answer is cached, or it accepted the credential before (asking again is then
        a renewal, not a guess)."""
        digest = self._digest(path, credential)
        with self._lock:
            return digest in self._fresh or digest in self._accepted

    def _ask(self, path: str, headers: dict, parse, credential: str):
        digest = self._digest(path, credential)
        with self._lock:
            if digest in self._fresh:
                return self._fresh[digest]
            accepted = self._accepted.get(digest)
        if not self.base:
            raise IdentityUnavailable("FESTIVALS_IDENTITY_URL is not set")
        IDENTITY_LOOKUPS.inc()
        try:
            response = self.session.get(self.base + path, headers={**headers, **passed_on()}, timeout=self.timeout)
        except requests.RequestException as exc:
            if accepted:
                return accepted  # accepted before: stays accepted while identity is down
            raise IdentityUnavailable(str(exc)) from None
        if response.status_code >= 500:
            if accepted:
                return accepted
            raise IdentityUnavailable(f"identity answered {response.status_code}")
        answer = parse(response) if response.status_code == 200 else None
        with self._lock:
            self._fresh[digest] = answer
            if answer:
                self._accepted[digest] = answer
            else:
                self._accepted.pop(digest, None)
        return answer

    def service_key_valid(self, key: str) -> bool:
        return bool(key) and bool(self._ask("/service-keys/verify", {"Service-Key": key}, lambda r: True, key))

    def service_key_known(self, key: str) -> bool:
        """Whether checking this key is no guess: an answer cached, or a key accepted before."""
        return not key or self.known("/service-keys/verify", key)

    def role_of(self, token: str) -> str | None:
        """The role of the user a Bearer token belongs to; None for an invalid token."""
        if not token:
            return None
        return self._ask(
            "/users/me", {"Authorization": f"Bearer {token}"}, lambda r: r.json()["data"][0]["user_role"], token
        )
