"""Who is uploading: a Bearer access token of the identity service, verified with its public key only.

Keys come from the identity service's JWKS (FESTIVALS_IDENTITY_URL; cached, fetched again when a token
names a key id not seen yet) or, on one machine, from the key files in `<instance>/identity-keys/` (the
public half is derived from them; nothing here can sign). The algorithm is pinned to EdDSA; issuer,
audience and expiry are checked."""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
import urllib.error
import urllib.request

import jwt
import orjson
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from flask import current_app, request

from common.http import passed_on
from common.jwks import ALGORITHM, JwksKeys
from common.signing_keys import key_files, key_id, split_retired
from fileserver.http import FilesError

WRITER_ROLES = ("creator", "admin")
log = logging.getLogger("festivals.files.auth")


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
            files = key_files(self.directory)
        except FileNotFoundError:
            self.keys = {}
            return
        keys = {}
        for _, name in split_retired(files, self.retire_after)[0]:  # retired keys' tokens have all expired
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


class AccountCheck:
    """Whether a token's login is still live, and the user's role now: the identity service's
    `GET /users/me`, asked with the caller's own token (no secret to share), the answer cached for `ttl`
    seconds per token. So a logout, password change, suspension or demotion reaches the file server
    within `ttl` seconds instead of at token expiry; reads never ask."""

    def __init__(self, identity_url: str, ttl: float = 5.0, timeout: float = 3.0, context=None):
        self.url = identity_url.rstrip("/") + "/users/me"
        self.context = context  # ssl.SSLContext with our client certificate, for an mTLS identity port
        self.ttl = ttl
        self.timeout = timeout
        self._answers: dict[str, tuple[float, dict | None]] = {}
        self._lock = threading.Lock()

    def account(self, token: str) -> dict:
        """The account (`user_role`, ...) of a live login; FilesError 401 when it has ended, 503 when
        identity cannot be asked (fail closed: a write is refused rather than trusted)."""
        digest = hashlib.sha256(token.encode()).hexdigest()
        now = time.monotonic()
        with self._lock:
            cached = self._answers.get(digest)
        if cached is None or cached[0] <= now:
            cached = (now + self.ttl, self._ask(token))
            with self._lock:
                if len(self._answers) > 10_000:  # tokens are short-lived: forget them all now and then
                    self._answers.clear()
                self._answers[digest] = cached
        if cached[1] is None:
            raise FilesError(401, "this login has ended (logout, password change or suspension); log in again")
        return cached[1]

    def _ask(self, token: str) -> dict | None:
        request_ = urllib.request.Request(self.url, headers={"Authorization": f"Bearer {token}", **passed_on()})
        try:
            with urllib.request.urlopen(request_, timeout=self.timeout, context=self.context) as response:  # noqa: S310 (configured)
                return orjson.loads(response.read())["data"][0]
        except urllib.error.HTTPError as exc:
            if exc.code in (401, 403):
                return None
            log.warning("identity answered %s to %s", exc.code, self.url)
        except Exception:  # unreachable or malformed
            log.warning("could not ask %s whether a login is live", self.url, exc_info=True)
        raise FilesError(503, "the identity service cannot be reached to check the token; try again shortly")


def make_key_source(config: dict, context=None):
    if config["IDENTITY_URL"]:
        return JwksKeys(config["IDENTITY_URL"], context=context, logger="festivals.files.auth")
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
        claims = jwt.decode(
            token,
            public,
            algorithms=[ALGORITHM],
            audience=audience,
            issuer=issuer,
            options={"require": ["exp", "iat", "sub", "iss", "aud"]},
        )
    except jwt.ExpiredSignatureError:
        raise FilesError(401, "the access token has expired") from None
    except jwt.PyJWTError:
        raise FilesError(401, "the access token is invalid") from None
    if not isinstance(claims.get("sub"), str) or not isinstance(claims.get("role"), str):
        raise FilesError(401, "the access token is invalid")
    return claims


def caller_claims() -> dict:
    """The claims of the caller's Bearer token, with the role identity says the user has now (when asked);
    401 without a valid token."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise FilesError(401, "a Bearer access token is required")
    config = current_app.config
    claims = verify_token(
        token.strip(),
        current_app.extensions["files_keys"],
        issuer=config["TOKEN_ISSUER"],
        audience=config["TOKEN_AUDIENCE"],
    )
    check = current_app.extensions.get("files_account_check")
    if check is not None:  # the role now, not the one in the token
        claims = {**claims, "role": check.account(token.strip()).get("user_role")}
    return claims


def require_writer() -> dict:
    """The claims of the caller's Bearer token; 401 without a valid one, 403 unless creator or admin."""
    claims = caller_claims()
    if claims["role"] not in WRITER_ROLES:
        raise FilesError(403, "only creators and admins may upload or delete files")
    return claims


def require_admin() -> dict:
    """The claims of an admin's Bearer token; 401 without a valid one, 403 for anyone else."""
    claims = caller_claims()
    if claims["role"] != "admin":
        raise FilesError(403, "only admins can read the metrics")
    return claims


def may_delete(claims: dict, uploader: str | None) -> bool:
    return claims["role"] == "admin" or (uploader is not None and claims["sub"] == uploader)
