"""The identity service's signing-key files `<created-ms>-<kid>.pem` and the rule that retires them:
the identity service signs with them, the file server (on one machine) verifies with their public half.

A key replaced by a newer one still verifies for `retire_after` seconds (the access-token lifetime), so
every token it signed can expire first; after that it is retired (skipped, and removed by a rotation)."""

from __future__ import annotations

import base64
import hashlib
import os
import time

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


def key_id(public: Ed25519PublicKey) -> str:
    """The key id: base64url of the first 12 bytes of sha256(raw public key)."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.urlsafe_b64encode(hashlib.sha256(raw).digest()[:12]).decode()


def key_files(directory: str) -> list[tuple[int, str]]:
    """(created ms, file name) of the key files in `directory`, oldest first (FileNotFoundError if none)."""
    found = []
    for name in os.listdir(directory):
        if name.endswith(".pem") and name.split("-", 1)[0].isdigit():
            found.append((int(name.split("-", 1)[0]), name))
    return sorted(found)


def split_retired(
    files: list[tuple[int, str]], retire_after: float, now_ms: float | None = None
) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """(live, retired): a key is retired once its successor has signed for longer than `retire_after`."""
    now_ms = time.time() * 1000 if now_ms is None else now_ms
    live, retired = [], []
    for index, entry in enumerate(files):
        successor = files[index + 1][0] if index + 1 < len(files) else None
        replaced_long_ago = successor is not None and now_ms - successor > retire_after * 1000
        (retired if replaced_long_ago else live).append(entry)
    return live, retired
