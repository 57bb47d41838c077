"""The bundled identity service: users, tokens, keys. A blueprint of the app, or its own process."""

from __future__ import annotations

import os

from flask import Flask

from common.jwks import JwksKeys
from identity.keys import KeyStore


def init_identity(app: Flask, identity_only: bool) -> None:
    """The signing keys (in `<instance>/identity-keys`) of the process that signs: the identity service on its
    own, or the app that is its own identity service (no FESTIVALS_IDENTITY_URL). An app told an identity
    service's URL holds none (only identity signs: views.signing) and verifies that service's tokens."""
    url = app.config["IDENTITY_URL"]
    signs = identity_only or not url
    folder = os.path.join(app.instance_path, "identity-keys")
    keys = KeyStore(folder, retire_after=app.config["ACCESS_TOKEN_TTL"]) if signs else None
    app.extensions["identity_keys"] = keys
    # Tokens are verified with our own keys, or with those a separate identity service publishes.
    # Over mTLS when the process has a certificate (FESTIVALS_TLS_*): the identity service requires one.
    tls = app.extensions["tls"].client_context()
    app.extensions["token_verifier"] = JwksKeys(url, context=tls, logger="festivals.identity") if url else keys
