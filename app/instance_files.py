"""Files generated once into the instance folder, safe when several workers start at the same moment."""
from __future__ import annotations

import os
import secrets
import tempfile


def create_exclusive(path: str, content: bytes) -> bool:
    """Write `content` to `path` unless it exists; True when this call created it.

    The file is written completely under a temporary name and then hard-linked into place, so a
    concurrent reader never sees a half-written file and exactly one writer wins."""
    directory = os.path.dirname(path)
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        try:
            os.link(tmp, path)
            return True
        except FileExistsError:
            return False
    finally:
        os.unlink(tmp)


def read_or_create_secret(path: str) -> str:
    create_exclusive(path, secrets.token_urlsafe(48).encode())
    with open(path, encoding="ascii") as handle:
        return handle.read().strip()
