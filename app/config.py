"""The app's Flask config, from its settings (common/settings.py AppSettings, docs/configuration.md).

Defaults are for development only; the instance folder holds what is generated on first start
(secret key, signing keys, the SQLite database)."""

from __future__ import annotations

import os
from pathlib import Path

from common.files import private_folder
from common.instance_files import read_or_create_secret
from common.settings import AppSettings, load


def secret_key(settings: AppSettings, instance: str) -> str:
    """The secret of sessions and CSRF tokens: FESTIVALS_SECRET_KEY, or the file FESTIVALS_SECRET_KEY_FILE names
    (the same on every host, e.g. a mounted secret or a systemd credential); without either, one made on first
    start in the instance folder, which serves one host only (another host's would not accept its cookies)."""
    if settings.secret_key:
        return settings.secret_key
    if path := settings.secret_key_file:
        try:
            value = Path(path).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(f"FESTIVALS_SECRET_KEY_FILE={path}: cannot read it ({exc})") from exc
        if len(value) < 32:
            raise ValueError(f"FESTIVALS_SECRET_KEY_FILE={path}: the secret must have 32 characters or more")
        return value
    return read_or_create_secret(os.path.join(instance, "secret_key"))


def load_config(instance: str, settings: AppSettings | None = None) -> dict:
    """Every setting (read now unless given) under its name without the prefix (FESTIVALS_DB_POOL_SIZE:
    DB_POOL_SIZE), plus what follows from them and what is fixed."""
    settings = settings or load(AppSettings)
    private_folder(instance)  # secrets, keys, the database: owner only
    config = {name.upper(): value for name, value in settings.model_dump().items()}
    del config["INSTANCE_PATH"], config["SECRET_KEY_FILE"]  # the app's instance_path; SECRET_KEY
    config.update(
        DATABASE_URL=settings.database_url or "sqlite:///" + os.path.join(instance, "festivals.sqlite3"),
        SECRET_KEY=secret_key(settings, instance),
        # Request bodies over 1 MiB are refused with 413 (the API never needs more); a CSV import may be larger.
        MAX_CONTENT_LENGTH=1024 * 1024,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        JSON_SORT_KEYS=False,
    )
    return config
