"""The bundled identity service: users, tokens, keys. A blueprint of the app, or its own process."""
from __future__ import annotations

import os

from flask import Flask

from identity.keys import KeyStore


def init_identity(app: Flask) -> None:
    app.extensions["identity_keys"] = KeyStore(os.path.join(app.instance_path, "identity-keys"))
