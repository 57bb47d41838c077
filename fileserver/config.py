"""The file server's settings, from FESTIVALS_* environment variables (documented in the README).

Everything has a default for the embedded run: media in `<instance>/media`, tokens verified with the
identity keys the app keeps in `<instance>/identity-keys/`."""

from __future__ import annotations

import os

from common.env import env_flag
from common.files import private_folder

MIB = 1024 * 1024
DEFAULT_THUMB_SIZES = (64, 160, 320, 640, 1280, 1920)
MULTIPART_ALLOWANCE = 64 * 1024  # form boundaries and headers around an uploaded file
DEFAULT_PORTAL_ORIGINS = ("http://127.0.0.1:5000", "http://localhost:5000")
MEDIA_STORES = ("local", "s3")  # FESTIVALS_MEDIA_STORE


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def _list(name: str, default: tuple) -> tuple:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    return tuple(part.strip() for part in value.split(",") if part.strip())


def parse_sizes(sizes) -> tuple[int, ...]:
    """FESTIVALS_THUMB_SIZES as a sorted tuple of positive ints ("64,160,320" or a list)."""
    if isinstance(sizes, str):
        sizes = sizes.split(",")
    parsed = sorted({int(str(size).strip()) for size in sizes if str(size).strip()})
    if not parsed or parsed[0] < 1 or parsed[-1] > 10000:
        raise ValueError("FESTIVALS_THUMB_SIZES must list sizes between 1 and 10000")
    return tuple(parsed)


def load_files_config(overrides: dict | None = None) -> dict:
    overrides = overrides or {}
    instance = os.path.abspath(overrides.get("INSTANCE_PATH") or os.environ.get("FESTIVALS_INSTANCE_PATH", "instance"))
    private_folder(instance)  # its identity keys and media: owner only
    config = {
        "INSTANCE_PATH": instance,
        "MEDIA_DIR": os.path.abspath(os.environ.get("FESTIVALS_MEDIA_DIR") or os.path.join(instance, "media")),
        # Where originals and thumbnails live: `local` (MEDIA_DIR) or `s3` (the bucket below; credentials from
        # AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or any other source boto3 reads). docs/media-store.md
        "MEDIA_STORE": os.environ.get("FESTIVALS_MEDIA_STORE", "").strip().lower() or "local",
        "S3_ENDPOINT": os.environ.get("FESTIVALS_S3_ENDPOINT", "").strip().rstrip("/"),
        "S3_BUCKET": os.environ.get("FESTIVALS_S3_BUCKET", "").strip(),
        "S3_REGION": os.environ.get("FESTIVALS_S3_REGION", "").strip(),
        # Base of the URLs answered as image_ref / pdf_ref; empty: the host the request came to.
        "FILES_URL": os.environ.get("FESTIVALS_FILES_URL", "").rstrip("/"),
        # When set, tokens are verified with the JWKS published there; else with the keys in the instance folder.
        "IDENTITY_URL": os.environ.get("FESTIVALS_IDENTITY_URL", "").rstrip("/"),
        "IDENTITY_KEYS_DIR": os.path.join(instance, "identity-keys"),
        # With IDENTITY_URL: how long the answer of its /users/me (login live? role?) is reused per token.
        "ACCOUNT_CHECK_SECONDS": float(os.environ.get("FESTIVALS_ACCOUNT_CHECK_SECONDS", "") or 5),
        "TOKEN_ISSUER": os.environ.get("FESTIVALS_TOKEN_ISSUER", "festivals-identity"),
        "TOKEN_AUDIENCE": os.environ.get("FESTIVALS_TOKEN_AUDIENCE", "festivals"),
        # A replaced signing key still verifies for this long (the identity service's access-token lifetime).
        "ACCESS_TOKEN_TTL": _int("FESTIVALS_ACCESS_TOKEN_TTL", 900),
        "MAX_UPLOAD_BYTES": _int("FESTIVALS_MAX_UPLOAD_BYTES", 20 * MIB),
        # Videos: uploads stream to a temporary file, so the size limit is about disk, not memory.
        "MAX_VIDEO_BYTES": _int("FESTIVALS_MAX_VIDEO_BYTES", 200 * MIB),
        "MAX_VIDEO_SECONDS": _int("FESTIVALS_MAX_VIDEO_SECONDS", 600),
        "MAX_IMAGE_PIXELS": _int("FESTIVALS_MAX_IMAGE_PIXELS", 50_000_000),
        "THUMB_SIZES": parse_sizes(os.environ.get("FESTIVALS_THUMB_SIZES", "") or DEFAULT_THUMB_SIZES),
        # Origins whose pages may upload and delete from the browser (CORS), e.g. the portal's.
        "PORTAL_ORIGINS": _list("FESTIVALS_PORTAL_ORIGIN", DEFAULT_PORTAL_ORIGINS),
        # Own certificate and key (internal port, client of the identity service) and the CA; all or none.
        "TLS_CERT": os.environ.get("FESTIVALS_TLS_CERT", "").strip(),
        "TLS_KEY": os.environ.get("FESTIVALS_TLS_KEY", "").strip(),
        "TLS_CA": os.environ.get("FESTIVALS_TLS_CA", "").strip(),
        "TLS_WARN_DAYS": _int("FESTIVALS_TLS_WARN_DAYS", 30),
        "LOG_FORMAT": os.environ.get("FESTIVALS_LOG_FORMAT", "text"),
        "LOG_LEVEL": os.environ.get("FESTIVALS_LOG_LEVEL", "INFO"),
        "LOG_HEALTH": env_flag("FESTIVALS_LOG_HEALTH"),  # access lines of /health and /ready
        # Behind the gateway: trust exactly one proxy hop's X-Forwarded-* headers (werkzeug ProxyFix).
        "BEHIND_PROXY": env_flag("FESTIVALS_BEHIND_PROXY"),
    }
    config.update(overrides)
    if config["MEDIA_STORE"] not in MEDIA_STORES:
        raise ValueError(f"FESTIVALS_MEDIA_STORE must be local or s3, not {config['MEDIA_STORE']!r}")
    config["THUMB_SIZES"] = parse_sizes(config["THUMB_SIZES"])
    if isinstance(config["PORTAL_ORIGINS"], str):
        config["PORTAL_ORIGINS"] = tuple(o.strip() for o in config["PORTAL_ORIGINS"].split(",") if o.strip())
    config["PORTAL_ORIGINS"] = tuple(origin.rstrip("/") for origin in config["PORTAL_ORIGINS"])
    return config
