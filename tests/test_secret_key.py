"""The session and CSRF secret on several hosts: from FESTIVALS_SECRET_KEY or the file FESTIVALS_SECRET_KEY_FILE
names, the same on every host whatever its instance folder; without them, one made per instance folder."""

from __future__ import annotations

import pytest

from app.config import load_config


@pytest.fixture
def no_secret_settings(monkeypatch):
    monkeypatch.delenv("FESTIVALS_SECRET_KEY", raising=False)
    monkeypatch.delenv("FESTIVALS_SECRET_KEY_FILE", raising=False)


def test_secret_key_file_gives_two_hosts_the_same_secret(tmp_path, monkeypatch, no_secret_settings):
    secret = "Schlüssel-für-Sitzungen-" + "x" * 40
    for host in ("a", "b"):  # each host has its own copy of the file
        (tmp_path / f"secret-{host}").write_text(secret + "\n")
    monkeypatch.setenv("FESTIVALS_SECRET_KEY_FILE", str(tmp_path / "secret-a"))
    on_a = load_config(str(tmp_path / "host-a"))["SECRET_KEY"]
    monkeypatch.setenv("FESTIVALS_SECRET_KEY_FILE", str(tmp_path / "secret-b"))
    on_b = load_config(str(tmp_path / "host-b"))["SECRET_KEY"]
    assert on_a == on_b == secret
    assert not (tmp_path / "host-a" / "secret_key").exists()  # nothing host-local made


def test_secret_key_from_the_environment_wins(tmp_path, monkeypatch, no_secret_settings):
    monkeypatch.setenv("FESTIVALS_SECRET_KEY", "k" * 48)
    monkeypatch.setenv("FESTIVALS_SECRET_KEY_FILE", str(tmp_path / "missing"))
    assert load_config(str(tmp_path / "host"))["SECRET_KEY"] == "k" * 48


def test_secret_key_without_settings_is_made_per_instance_folder(tmp_path, no_secret_settings):
    first, second = load_config(str(tmp_path / "a"))["SECRET_KEY"], load_config(str(tmp_path / "b"))["SECRET_KEY"]
    assert first != second and len(first) >= 32
    assert load_config(str(tmp_path / "a"))["SECRET_KEY"] == first  # kept


@pytest.mark.parametrize(
    ("content", "message"), [(None, "cannot read it"), ("", "32 characters or more"), ("kurz", "32 characters")]
)
def test_secret_key_file_missing_or_short_is_a_clear_error_at_start(
    tmp_path, monkeypatch, no_secret_settings, content, message
):
    path = tmp_path / "secret"
    if content is not None:
        path.write_text(content)
    monkeypatch.setenv("FESTIVALS_SECRET_KEY_FILE", str(path))
    with pytest.raises(ValueError, match=f"FESTIVALS_SECRET_KEY_FILE={path}: .*{message}"):
        load_config(str(tmp_path / "host"))
