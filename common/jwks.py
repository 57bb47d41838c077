"""Verification keys published by a separate identity service (its JWKS), for every process that checks
its tokens: cached for `ttl` seconds, fetched again (at most every `min_interval` seconds) when a token
names a key id not seen yet, e.g. after a key rotation. Only Ed25519 keys for EdDSA are taken."""

from __future__ import annotations

import logging
import threading
import time
import urllib.request

import jwt
import orjson

from common.http import passed_on

ALGORITHM = "EdDSA"


class JwksKeys:
    def __init__(
        self,
        identity_url: str,
        ttl: int = 300,
        min_interval: float = 10.0,
        timeout: float = 3.0,
        context=None,
        logger: str = "festivals.jwks",
    ):
        self.url = identity_url.rstrip("/") + "/.well-known/jwks.json"
        self.ttl = ttl
        self.min_interval = min_interval
        self.timeout = timeout
        self.context = context  # ssl.SSLContext with our client certificate, for an mTLS identity port
        self.keys: dict = {}
        self.log = logging.getLogger(logger)
        self._fetched = float("-inf")
        self._lock = threading.Lock()

    def _fetch(self) -> None:
        self._fetched = time.monotonic()
        try:
            request = urllib.request.Request(self.url, headers=passed_on())  # the request that needed the keys
            with urllib.request.urlopen(request, timeout=self.timeout, context=self.context) as response:  # noqa: S310
                document = orjson.loads(response.read())
            keys = {}
            for entry in document.get("keys", []):
                # kty too: an RSA or EC key labelled EdDSA must not be used to verify
                if entry.get("kid") and entry.get("alg") == ALGORITHM and entry.get("kty") == "OKP":
                    keys[entry["kid"]] = jwt.PyJWK(entry).key
            self.keys = keys
        except Exception:  # unreachable or malformed: keep the keys we have, log why
            self.log.warning("could not fetch signing keys from %s", self.url, exc_info=True)

    def public_key(self, kid: str):
        with self._lock:
            age = time.monotonic() - self._fetched
            if age > self.ttl or (kid not in self.keys and age > self.min_interval):
                self._fetch()
            return self.keys.get(kid)

    def count(self) -> int:
        return len(self.keys)
