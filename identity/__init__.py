"""The bundled identity service: users, tokens, keys. A blueprint of the app, or its own process."""

from __future__ import annotations

import os

from flask import Flask

from common.jwks import JwksKeys
from identity.keys import KeyStore


def init_identity(app: Flask) -> None:
    keys = KeyStore(os.path.join(app.instance_path, "identity-keys"), retire_after=app.config["ACCESS_TOKEN_TTL"])
    app.extensions["identity_keys"] = keys
    # Tokens are verified with our own keys, or with those a separate identity service publishes.
    url = app.config["IDENTITY_URL"]
    # Over mTLS when the process has a certificate (FESTIVALS_TLS_*): the identity service requires one.
    tls = app.extensions["tls"].client_context()
    app.extensions["token_verifier"] = JwksKeys(url, context=tls, logger="festivals.identity") if url else keys
