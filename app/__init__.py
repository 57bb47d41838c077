"""The domain: models, migrations, services, permissions, schedule rules. No routes and no face: the Flask app
is composed in factory.py (`from app import create_app` still works, see __getattr__)."""

from __future__ import annotations

import os

VERSION = "0.1.0"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def __getattr__(name: str):
    """`from app import create_app` / `create_identity_app`, the long-standing entry points, resolved on first use:
    importing a model (tools, migrations, the faces themselves) must not load the faces that the factory imports."""
    if name in ("create_app", "create_identity_app"):
        import factory

        return getattr(factory, name)
    raise AttributeError(f"module 'app' has no attribute {name!r}")
