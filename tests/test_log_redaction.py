"""A password-reset token in a URL path reaches no log: the app's access line, its error lines, and
gunicorn's own access log (a real gunicorn with --access-logfile, as tests/processes.py starts it)."""

from __future__ import annotations

import secrets
import urllib.request

import pytest

from tests.processes import Gunicorn, app_env, migrated

pytestmark = pytest.mark.processes  # every test starts a process itself


def test_reset_token_is_in_neither_the_apps_nor_gunicorns_access_log(tmp_path):
    instance = tmp_path / "instance"
    url = migrated(f"sqlite:///{tmp_path / 'festivals.sqlite3'}")
    server = Gunicorn("wsgi:app", tmp_path, app_env(instance, url), workers=1, threads=2, name="app")
    try:
        token = secrets.token_urlsafe(32)
        request = urllib.request.Request(
            f"{server.url}/reset/{token}?from=mail",
            headers={"Referer": f"https://festivals.example/reset/{token}", "X-Request-ID": "reset-page"},
        )
        try:
            urllib.request.urlopen(request, timeout=30)  # noqa: S310 - our own server
        except urllib.error.HTTPError as exc:  # an unknown token: the page says so
            assert exc.code in (400, 404)
    finally:
        server.stop()
    log = server.log()
    assert "access pid=" in log and "/reset/REDACTED" in log  # gunicorn's line
    assert "[reset-page] festivals.request: GET /reset/REDACTED" in log  # the app's
    assert token not in log
