"""gunicorn entry points: `wsgi:app` (API, portal, identity), `wsgi:files` (file server) and
`wsgi:identity_app` (the identity service as its own process), `wsgi:registry` (the gateway's discovery
registry: run it with one worker and threads).

Each is built on first access, so a process builds only the app it serves (the database handle is
process-wide: two apps in one process would share it)."""

import gc
from functools import cache


@cache
def _build(name: str):
    app = _make(name)
    # What loading made (modules, models, routes, templates: some 90,000 objects) lives as long as the process:
    # frozen, a full collection no longer scans it (that scan held up a request by ~15 ms now and then).
    gc.freeze()
    return app


def _make(name: str):
    if name == "app":
        from app import create_app

        return create_app()
    if name == "files":
        from fileserver import create_files_app

        return create_files_app()
    if name == "identity_app":
        from app import create_identity_app

        return create_identity_app()
    if name == "registry":
        from gateway.web import create_registry_app

        return create_registry_app()
    raise AttributeError(name)


def __getattr__(name: str):
    if name in ("app", "files", "identity_app", "registry"):
        return _build(name)
    raise AttributeError(f"module 'wsgi' has no attribute {name!r}")
