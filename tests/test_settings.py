"""One declaration of every FESTIVALS_* variable (common/settings.py): each process reads its section once at its
start, a wrong value stops the start with a message naming the variable, and docs/configuration.md is the table
generated from it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from app import ROOT, create_app
from common.launch import process_env
from common.settings import SettingsError, markdown
from fileserver import create_files_app
from gateway.settings import load_settings
from tests.processes import Gunicorn, app_env

PACKAGES = ("app", "api", "portal", "identity", "web", "common", "fileserver", "gateway", "tools")
ENVIRONMENT_READ = re.compile(r"os\.environ|getenv")


def test_configuration_doc_is_the_table_the_declaration_makes():
    committed = (Path(ROOT) / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert committed == markdown(), "run: .venv/bin/python -m common.settings --markdown > docs/configuration.md"


def test_only_the_declaration_reads_festivals_variables_from_the_environment():
    modules = [path for package in PACKAGES for path in (Path(ROOT) / package).rglob("*.py")]
    modules += [Path(ROOT) / name for name in ("wsgi.py", "factory.py", "gunicorn_files.py")]
    readers = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in modules
        if path.exists() and path.name != "settings.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if ENVIRONMENT_READ.search(line) and "FESTIVALS_" in line
    ]
    assert len(modules) > 100 and readers == []


def test_an_empty_value_is_the_default(monkeypatch, tmp_path):
    monkeypatch.setenv("FESTIVALS_DB_POOL_SIZE", "")
    monkeypatch.setenv("FESTIVALS_LOG_LEVEL", " warning ")
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert app.config["DB_POOL_SIZE"] == 16 and app.config["LOG_LEVEL"] == "WARNING"


def test_a_wrong_number_stops_the_app_naming_the_variable(monkeypatch, tmp_path):
    monkeypatch.setenv("FESTIVALS_DB_POOL_SIZE", "sechzehn")
    with pytest.raises(SettingsError, match="FESTIVALS_DB_POOL_SIZE='sechzehn': Input should be a valid integer"):
        create_app({"INSTANCE_PATH": str(tmp_path)})


def test_the_registry_refuses_a_rate_it_cannot_parse(monkeypatch):
    monkeypatch.setenv("FESTIVALS_REGISTRY_BEAT_LIMIT", "schnell")
    with pytest.raises(SettingsError, match="FESTIVALS_REGISTRY_BEAT_LIMIT must be a rate such as '10/minute'"):
        load_settings()


def test_the_file_server_refuses_thumbnail_sizes_out_of_range(monkeypatch, tmp_path):
    monkeypatch.setenv("FESTIVALS_THUMB_SIZES", "64,20000")
    with pytest.raises(SettingsError, match="FESTIVALS_THUMB_SIZES must list sizes between 1 and 10000"):
        create_files_app({"INSTANCE_PATH": str(tmp_path)})


def test_overrides_are_checked_as_the_environment_is(tmp_path):
    with pytest.raises(SettingsError, match="FESTIVALS_MEDIA_STORE must be local or s3, not 'nfs'"):
        create_files_app({"INSTANCE_PATH": str(tmp_path), "MEDIA_STORE": "nfs"})


def test_the_gateway_refuses_a_heartbeat_interval_of_zero(monkeypatch):
    monkeypatch.setenv("FESTIVALS_HEARTBEAT_S", "0")
    with pytest.raises(SettingsError, match="FESTIVALS_HEARTBEAT_S must be a positive number of seconds, not '0'"):
        load_settings()


@pytest.mark.processes
def test_flask_command_stops_on_a_wrong_log_level_naming_it(tmp_path):
    env = process_env({"FESTIVALS_INSTANCE_PATH": str(tmp_path), "FESTIVALS_LOG_LEVEL": "laut"})
    flask = Path(sys.executable).with_name("flask")
    done = subprocess.run(
        [flask, "--app", "wsgi", "routes"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode != 0
    assert "FESTIVALS_LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, not 'laut'" in done.stderr


@pytest.mark.processes
def test_gunicorn_start_stops_on_a_wrong_signup_role_naming_it(tmp_path):
    env = app_env(tmp_path / "instance", f"sqlite:///{tmp_path}/festivals.sqlite3", FESTIVALS_SIGNUP_ROLE="admin")
    with pytest.raises(RuntimeError, match="exited") as refused:
        Gunicorn("app", tmp_path, env, workers=1, threads=1, name="app")
    assert "FESTIVALS_SIGNUP_ROLE must be creator or user, not 'admin'" in str(refused.value)
