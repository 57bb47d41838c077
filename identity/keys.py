"""The identity service's signing keys: Ed25519 (EdDSA), generated into the instance folder on first
start. All keys found there verify; the newest signs (rotation adds a newer file)."""

from __future__ import annotations

import base64
import os
import threading
import time
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from common.files import create_exclusive
from common.signing_keys import key_files, key_id, split_retired


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private: Ed25519PrivateKey
    created: int

    @property
    def public(self) -> Ed25519PublicKey:
        return self.private.public_key()

    def public_pem(self) -> str:
        return self.public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()

    def jwk(self) -> dict:
        raw = self.public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return {
            "kty": "OKP",
            "crv": "Ed25519",
            "alg": "EdDSA",
            "use": "sig",
            "kid": self.kid,
            "x": base64.urlsafe_b64encode(raw).rstrip(b"=").decode(),
        }


class KeyStore:
    """Signing keys in a folder shared by every process of the identity service.

    The newest key signs. A key replaced by a newer one still verifies for `retire_after` seconds (the
    access-token lifetime), so tokens it signed stay valid until they expire. Other processes notice a
    rotation by the folder's change time, or at once when a token names a key id they do not know."""

    def __init__(self, directory: str, retire_after: int = 900):
        self.directory = directory
        self.retire_after = retire_after
        self.keys: dict[str, SigningKey] = {}
        self._seen = None
        self._checked = 0.0
        self._lock = threading.Lock()
        self.load()
        if not self.keys:
            self.generate()

    def _files(self) -> list[tuple[int, str]]:
        return key_files(self.directory)

    def load(self) -> None:
        os.makedirs(self.directory, mode=0o700, exist_ok=True)
        with self._lock:
            self._seen = os.stat(self.directory).st_mtime_ns
            self._checked = time.monotonic()
            keys = {}
            for created, name in split_retired(self._files(), self.retire_after)[0]:  # retired: tokens expired
                with open(os.path.join(self.directory, name), "rb") as handle:
                    private = serialization.load_pem_private_key(handle.read(), password=None)
                key = SigningKey(key_id(private.public_key()), private, created)
                keys[key.kid] = key
            self.keys = keys

    def refresh(self, force: bool = False) -> None:
        """Reload when the folder changed (checked at most every few seconds unless forced)."""
        if not force and time.monotonic() - self._checked < 5:
            return
        self._checked = time.monotonic()
        if force or os.stat(self.directory).st_mtime_ns != self._seen:
            self.load()

    def generate(self) -> SigningKey:
        private = Ed25519PrivateKey.generate()
        pem = private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        created = max(int(time.time() * 1000), max((c for c, _ in self._files()), default=0) + 1)
        create_exclusive(
            os.path.join(self.directory, f"{created:013d}-{key_id(private.public_key())}.pem"), pem, mode=0o600
        )
        self.load()
        return self.current

    def rotate(self) -> tuple[SigningKey, list[str]]:
        """A new signing key; files of keys retired long enough ago are removed. Returns (new key, removed)."""
        key = self.generate()
        removed = []
        for _, name in split_retired(self._files(), self.retire_after)[1]:
            os.unlink(os.path.join(self.directory, name))
            removed.append(name)
        self.load()
        return key, removed

    @property
    def current(self) -> SigningKey:
        self.refresh()
        return max(self.keys.values(), key=lambda key: key.created)

    def public_key(self, kid: str):
        self.refresh()
        key = self.keys.get(kid)
        if key is None:
            self.refresh(force=True)
            key = self.keys.get(kid)
        return key.public if key is not None else None

    def jwks(self) -> dict:
        self.refresh()
        return {"keys": [key.jwk() for key in sorted(self.keys.values(), key=lambda k: -k.created)]}
