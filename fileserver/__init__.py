"""The file server: a separate small Flask app (uploads, downloads, thumbnails: its own issue).
It imports nothing from app/, api/ or portal/."""
from __future__ import annotations

from flask import Flask, jsonify


def create_files_app(config: dict | None = None) -> Flask:
    files = Flask(__name__)
    files.config.update(config or {})

    @files.get("/health")
    def health():
        return jsonify(status="ok")

    return files
