"""The instance folder holds secrets, keys and the SQLite database: owner only (0700), also when something
else made it first or an earlier version left it open."""

from __future__ import annotations

import os
import stat

import pytest

from tests.processes import Gunicorn, app_env


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.processes
def test_instance_folder_made_by_a_gunicorn_start_is_0700(tmp_path):
    """gunicorn's config hooks make `<instance>/metrics` before the app loads: its parents too are 0700."""
    instance = tmp_path / "fresh" / "instance"
    server = Gunicorn("wsgi:files", tmp_path, app_env(instance, "sqlite://"), workers=1, threads=2, name="files")
    try:
        assert mode(instance) == 0o700
        assert mode(instance / "metrics") == 0o700
    finally:
        server.stop()


def test_existing_open_instance_folder_is_made_0700_at_start(tmp_path):
    from app import create_app
    from app.db import close_database

    instance = tmp_path / "instance"
    instance.mkdir(mode=0o755)
    os.chmod(instance, 0o755)  # as `mkdir -p` under umask 022 leaves it
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(instance), "DATABASE_URL": "sqlite://"})
    close_database(app.extensions["database"])
    assert mode(instance) == 0o700
