"""Files generated once into the instance folder, safe when several workers start at the same moment."""

from __future__ import annotations

import secrets

from common.files import create_exclusive


def read_or_create_secret(path: str) -> str:
    """The secret in `path`, made on first use (mode 0600; one winner when workers race)."""
    create_exclusive(path, secrets.token_urlsafe(48).encode(), mode=0o600)
    with open(path, encoding="ascii") as handle:
        return handle.read().strip()
