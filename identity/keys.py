"""The identity service's signing keys: Ed25519 (EdDSA), generated into the instance folder on first
start. All keys found there verify; the newest signs (rotation adds a newer file)."""
from __future__ import annotations

import base64
import hashlib
import os
import time
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from app.instance_files import create_exclusive


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
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()

    def jwk(self) -> dict:
        raw = self.public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return {"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": self.kid,
                "x": base64.urlsafe_b64encode(raw).rstrip(b"=").decode()}


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.urlsafe_b64encode(hashlib.sha256(raw).digest()[:12]).decode()


class KeyStore:
    def __init__(self, directory: str):
        self.directory = directory
        self.keys: dict[str, SigningKey] = {}
        self.load()
        if not self.keys:
            self.generate()

    def load(self) -> None:
        os.makedirs(self.directory, exist_ok=True)
        keys = {}
        for name in sorted(os.listdir(self.directory)):
            if not name.endswith(".pem"):
                continue
            with open(os.path.join(self.directory, name), "rb") as handle:
                private = serialization.load_pem_private_key(handle.read(), password=None)
            created = int(name.split("-", 1)[0])
            key = SigningKey(key_id(private.public_key()), private, created)
            keys[key.kid] = key
        self.keys = keys

    def generate(self) -> SigningKey:
        private = Ed25519PrivateKey.generate()
        pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
        created = int(time.time() * 1000)
        create_exclusive(os.path.join(self.directory, f"{created:013d}-{key_id(private.public_key())}.pem"), pem)
        self.load()
        return self.current

    @property
    def current(self) -> SigningKey:
        return max(self.keys.values(), key=lambda key: key.created)
