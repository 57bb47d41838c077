"""Operational routes of the app and the identity service: /health (alive), /ready (database reachable), /version,
/info (made by common/ops.py)."""

from __future__ import annotations

import logging

from flask import current_app, request

from app.db import db, write_check
from common.metrics import DATABASE_UP
from common.ops import ops_blueprint

log = logging.getLogger("festivals.ops")


def _ready() -> tuple[bool, dict]:
    """Ready when the database answers a read and would take a write now (each part named in the answer).
    `?scope=reads` (the gateway's health checks and heartbeats): reads only. Every instance shares the
    database, so a write failure is no reason to take one out of the balancing: its reads still work."""
    try:
        db.execute_sql("SELECT 1")
    except Exception:  # any failure means "not ready"; the reason goes to the log, not the client
        log.warning("readiness check failed", exc_info=True)
        DATABASE_UP.set(0)
        return False, {"database": "unreachable", "database_write": "unreachable"}
    DATABASE_UP.set(1)
    if request.args.get("scope") == "reads":
        return True, {"database": "ok"}
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
    }


bp = ops_blueprint(_ready, _info)
