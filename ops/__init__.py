"""Operational routes: /health (alive), /ready (database reachable), /version, /info."""
from __future__ import annotations

import logging
import platform

from flask import Blueprint, current_app

from app.db import db
from app.responses import json_response

bp = Blueprint("ops", __name__)
log = logging.getLogger("festivals.ops")


@bp.get("/health")
def health():
    return json_response({"status": "ok"})


@bp.get("/ready")
def ready():
    # Certificates close to expiry are reported, not a reason to leave the load balancer.
    certificates = {"expiring": current_app.extensions["certificates"].report()}
    try:
        db.execute_sql("SELECT 1")
    except Exception:  # any failure means "not ready"; the reason goes to the log, not the client
        log.warning("readiness check failed", exc_info=True)
        return json_response({"status": "unavailable", "database": "unreachable", "certificates": certificates},
                             503)
    return json_response({"status": "ready", "database": "ok", "certificates": certificates})


@bp.get("/version")
def version():
    return json_response({"version": current_app.config["VERSION"]})


@bp.get("/info")
def info():
    config = current_app.config
    return json_response({
        "service": "festivals-app",
        "version": config["VERSION"],
        "api": "v1",
        "database": type(db.obj).__name__.replace("Database", "").replace("Pooled", "").lower(),
        "read_only": config["READ_ONLY"],
        "python": platform.python_version(),
    })
