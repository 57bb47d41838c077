"""Operational routes: /health (alive), /ready (database reachable), /version, /info (common/ops.py)."""

from __future__ import annotations

import logging
import platform

from flask import current_app

from app.db import db, write_check
from common.ops import ops_blueprint

log = logging.getLogger("festivals.ops")


def _ready() -> tuple[bool, dict]:
    """Ready when the database answers a read and would take a write now (each part named in the answer)."""
    try:
        db.execute_sql("SELECT 1")
    except Exception:  # any failure means "not ready"; the reason goes to the log, not the client
        log.warning("readiness check failed", exc_info=True)
        return False, {"database": "unreachable", "database_write": "unreachable"}
    writes = write_check()
    return writes == "ok", {"database": "ok", "database_write": writes}


def _info() -> dict:
    config = current_app.config
    return {
        "service": "festivals-app",
        "version": config["VERSION"],
        "api": "v1",
        "database": type(db.obj).__name__.replace("Database", "").replace("Pooled", "").replace("Tracked", "").lower(),
        "read_only": config["READ_ONLY"],
        "python": platform.python_version(),
    }


bp = ops_blueprint(_ready, _info)
