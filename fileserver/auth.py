"""Who is uploading: a Bearer access token of the identity service, verified with its public key only.

Keys come from the identity service's JWKS (FESTIVALS_IDENTITY_URL; cached, fetched again when a token
names a key id not seen yet) or, on one machine, from the key files in `<instance>/identity-keys/` (the
public half is derived from them; nothing here can sign). The algorithm is pinned to EdDSA; issuer,
audience and expiry are checked."""
from __future__ import annotations

import base64
import hashlib
import logging
import os
import threading
import time
import urllib.request

import jwt
import orjson
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from flask import current_app, request

from fileserver.http import FilesError

ALGORITHM = "EdDSA"
WRITER_ROLES = ("creator", "admin")
log = logging.getLogger("festivals.files.auth")


def key_id(public: Ed25519PublicKey) -> str:
    """The identity service's key id: base64url of the first 12 bytes of sha256(raw public key)."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.urlsafe_b64encode(hashlib.sha256(raw).digest()[:12]).decode()


def _public_from_pem(data: bytes) -> Ed25519PublicKey | None:
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError:
        key = serialization.load_pem_private_key(data, password=None)
        key = key.public_key() if isinstance(key, Ed25519PrivateKey) else None
    return key if isinstance(key, Ed25519PublicKey) else None


class FolderKeys:
    """Public keys from the identity key folder `<created-ms>-<kid>.pem`. A key replaced by a newer one
    verifies for `retire_after` seconds more, as in the identity service. Reloaded when the folder changes
    (checked every few seconds) or at once, at most once a second, for an unknown key id."""

    def __init__(self, directory: str, retire_after: int = 900):
        self.directory = directory
        self.retire_after = retire_after
        self.keys: dict[str, Ed25519PublicKey] = {}
        self._seen = None
        self._checked = float("-inf")
        self._loaded = float("-inf")
        self._lock = threading.Lock()

    def _load(self) -> None:
        self._loaded = time.monotonic()
        try:
            self._seen = os.stat(self.directory).st_mtime_ns
            names = sorted(n for n in os.listdir(self.directory)
                           if n.endswith(".pem") and n.split("-", 1)[0].isdigit())
        except FileNotFoundError:
            self.keys = {}
            return
        files = sorted((int(name.split("-", 1)[0]), name) for name in names)
        now_ms = time.time() * 1000
        keys = {}
        for index, (_, name) in enumerate(files):
            successor = files[index + 1][0] if index + 1 < len(files) else None
            if successor is not None and now_ms - successor > self.retire_after * 1000:
                continue  # retired: every token it signed has expired
            try:
                with open(os.path.join(self.directory, name), "rb") as handle:
                    public = _public_from_pem(handle.read())
            except (OSError, ValueError, TypeError):
                log.warning("unreadable identity key file %s", name, exc_info=True)
                continue
            if public is not None:
                keys[key_id(public)] = public
        self.keys = keys

    def public_key(self, kid: str):
        with self._lock:
            now = time.monotonic()
            if now - self._checked > 5:
                self._checked = now
                try:
                    changed = os.stat(self.directory).st_mtime_ns != self._seen
                except FileNotFoundError:
                    changed = self._seen is not None
                if changed:
                    self._load()
            if kid not in self.keys and now - self._loaded > 1:
                self._load()
            return self.keys.get(kid)

    def count(self) -> int:
        return len(self.keys)


class JwksKeys:
    """The JWKS of a separate identity service, cached for `ttl` seconds and fetched again (at most every
    `min_interval` seconds) when a token names an unknown key id, e.g. after a key rotation."""

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
            with urllib.request.urlopen(self.url, timeout=self.timeout, context=self.context) as response:  # noqa: S310 (configured)
                document = orjson.loads(response.read())
            keys = {}
            for entry in document.get("keys", []):
                if entry.get("kid") and entry.get("alg") == ALGORITHM and entry.get("kty") == "OKP":
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

    def count(self) -> int:
        return len(self.keys)


def make_key_source(config: dict, context=None):
    if config["IDENTITY_URL"]:
        return JwksKeys(config["IDENTITY_URL"], context=context)
    return FolderKeys(config["IDENTITY_KEYS_DIR"], retire_after=config["ACCESS_TOKEN_TTL"])


def verify_token(token: str, keys, *, issuer: str, audience: str) -> dict:
    """The token's claims, or FilesError(401). Only EdDSA with a known key id is accepted, so
    `alg: none` and HS256-signed-with-the-public-key tokens fail before any signature check."""
    try:
        header = jwt.get_unverified_header(token)
        if header.get("alg") != ALGORITHM or not isinstance(header.get("kid"), str):
            raise FilesError(401, "the access token was not issued by the identity service")
        public = keys.public_key(header["kid"])
        if public is None:
            raise FilesError(401, "the access token was not issued by the identity service")
        claims = jwt.decode(token, public, algorithms=[ALGORITHM], audience=audience, issuer=issuer,
                            options={"require": ["exp", "iat", "sub", "iss", "aud"]})
    except jwt.ExpiredSignatureError:
        raise FilesError(401, "the access token has expired") from None
    except jwt.PyJWTError:
        raise FilesError(401, "the access token is invalid") from None
    if not isinstance(claims.get("sub"), str) or not isinstance(claims.get("role"), str):
        raise FilesError(401, "the access token is invalid")
    return claims


def require_writer() -> dict:
    """The claims of the caller's Bearer token; 401 without a valid one, 403 unless creator or admin."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise FilesError(401, "a Bearer access token is required")
    config = current_app.config
    claims = verify_token(token.strip(), current_app.extensions["files_keys"],
                          issuer=config["TOKEN_ISSUER"], audience=config["TOKEN_AUDIENCE"])
    if claims["role"] not in WRITER_ROLES:
        raise FilesError(403, "only creators and admins may upload or delete files")
    return claims


def may_delete(claims: dict, uploader: str | None) -> bool:
    return claims["role"] == "admin" or (uploader is not None and claims["sub"] == uploader)
