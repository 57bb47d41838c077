"""The file server: a separate small Flask app (uploads, downloads, thumbnails, PDF documents).

It imports nothing from app/, api/ or portal/: its contract with the rest is a URL and the identity
service's public key."""

from __future__ import annotations

import logging
import os

from flask import Flask
from PIL import Image

from common.logs import configure_logging
from common.metrics import init_metrics
from common.pki import ExpiryWatch
from common.tls import TlsFiles
from fileserver.auth import AccountCheck, make_key_source, require_admin
from fileserver.config import MULTIPART_ALLOWANCE, load_files_config
from fileserver.http import init_http
from fileserver.media_copy import media_to_s3
from fileserver.storage import open_store
from fileserver.views import init_views

VERSION = "0.1.0"


def create_files_app(config: dict | None = None) -> Flask:
    settings = load_files_config(config)
    files = Flask(__name__, instance_path=settings["INSTANCE_PATH"])
    files.config.update(settings)
    files.config["VERSION"] = VERSION
    files.config["MAX_CONTENT_LENGTH"] = settings["MAX_UPLOAD_BYTES"] + MULTIPART_ALLOWANCE
    # Pillow refuses images over twice this at open (DecompressionBombError); uploads check the limit itself.
    Image.MAX_IMAGE_PIXELS = settings["MAX_IMAGE_PIXELS"]
    files.extensions["files_storage"] = open_store(settings)
    tls = TlsFiles(settings["TLS_CERT"], settings["TLS_KEY"], settings["TLS_CA"])
    tls.check()
    client = tls.client_context()
    files.extensions["files_keys"] = make_key_source(settings, context=client)
    files.extensions["certificates"] = ExpiryWatch(
        [os.path.join(settings["INSTANCE_PATH"], "pki"), tls.cert, tls.ca], settings["TLS_WARN_DAYS"]
    )
    if settings["IDENTITY_URL"]:  # logins revoked and roles changed reach uploads and deletes within seconds
        files.extensions["files_account_check"] = AccountCheck(
            settings["IDENTITY_URL"], context=client, ttl=settings["ACCOUNT_CHECK_SECONDS"]
        )
    if not files.testing:
        configure_logging("festivals.files", settings["LOG_FORMAT"], settings["LOG_LEVEL"], settings["LOG_HEALTH"])
    files.extensions["certificates"].warn(logging.getLogger("festivals.files.tls"))
    init_http(files)
    init_metrics(files, require_admin)  # GET /metrics: loopback callers and admins
    init_views(files)
    files.cli.add_command(media_to_s3)  # flask --app wsgi:files media-to-s3 FOLDER
    if settings["BEHIND_PROXY"]:
        from common.http import FromGateway

        files.wsgi_app = FromGateway(files.wsgi_app)
    return files
