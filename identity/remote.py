"""Verification keys fetched from a separate identity service (FESTIVALS_IDENTITY_URL): its JWKS is
cached, and fetched again when a token names a key id not seen yet (after a rotation)."""
from __future__ import annotations

import logging
import threading
import time
import urllib.request

import jwt
import orjson

log = logging.getLogger("festivals.identity")


class RemoteKeys:
    def __init__(self, identity_url: str, ttl: int = 300, min_interval: float = 10.0, timeout: float = 3.0,
                 context=None):
        self.url = identity_url.rstrip("/") + "/.well-known/jwks.json"
        self.ttl = ttl
        self.min_interval = min_interval
        self.timeout = timeout
        self.context = context  # ssl.SSLContext with our client certificate, for an mTLS identity port
        self.keys: dict = {}
        self._fetched = float("-inf")
        self._lock = threading.Lock()

    def _fetch(self) -> None:
        self._fetched = time.monotonic()
        try:
            with urllib.request.urlopen(self.url, timeout=self.timeout, context=self.context) as response:  # noqa: S310 (configured URL)
                document = orjson.loads(response.read())
            keys = {}
            for entry in document.get("keys", []):
                if entry.get("kid") and entry.get("alg") == "EdDSA":
                    keys[entry["kid"]] = jwt.PyJWK(entry).key
            self.keys = keys
        except Exception:  # unreachable or malformed: keep the keys we have, log why
            log.warning("could not fetch signing keys from %s", self.url, exc_info=True)

    def public_key(self, kid: str):
        with self._lock:
            age = time.monotonic() - self._fetched
            if age > self.ttl or (kid not in self.keys and age > self.min_interval):
                self._fetch()
            return self.keys.get(kid)
