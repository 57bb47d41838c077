"""The file server's config, from its settings (common/settings.py FilesSettings, docs/configuration.md).

Everything has a default for the embedded run: media in `<instance>/media`, tokens verified with the
identity keys the app keeps in `<instance>/identity-keys/`."""

from __future__ import annotations

import os

from common.files import private_folder
from common.settings import FilesSettings, load

MULTIPART_ALLOWANCE = 64 * 1024  # form boundaries and headers around an uploaded file
RENAMED = {"PORTAL_ORIGINS": "portal_origin"}  # config key -> its setting, where the two names differ


def load_files_config(overrides: dict | None = None) -> dict:
    """The settings (common/settings.py FilesSettings) as the app's config; `overrides` (config keys, e.g.
    THUMB_SIZES) are checked as the environment's values are."""
    overrides = dict(overrides or {})
    given = {RENAMED.get(key, key.lower()): overrides.pop(key) for key in list(overrides) if _is_setting(key)}
    settings = load(FilesSettings, **given)
    instance = os.path.abspath(settings.instance_path)
    private_folder(instance)  # its identity keys and media: owner only
    config = {key.upper(): value for key, value in settings.model_dump().items()}
    config.update(
        INSTANCE_PATH=instance,
        MEDIA_DIR=os.path.abspath(settings.media_dir or os.path.join(instance, "media")),
        IDENTITY_KEYS_DIR=os.path.join(instance, "identity-keys"),
        PORTAL_ORIGINS=settings.portal_origin,
    )
    config.update(overrides)
    return config


def _is_setting(key: str) -> bool:
    return RENAMED.get(key, key.lower()) in FilesSettings.model_fields
