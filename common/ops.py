"""The operational routes every service answers: /health (alive), /ready (its dependencies answer),
/version and /info. Each app makes its blueprint with its own readiness check and info."""

from __future__ import annotations

import os
from collections.abc import Callable

from flask import Blueprint, current_app

from common.http import json_response


def draining() -> bool:
    """A rolling restart (gateway/rolling.py) drains an instance by creating its FESTIVALS_DRAIN_FILE: /ready
    then answers 503, so the gateway's health checks stop sending it requests and its next heartbeat says
    "available": false (the registry takes it out of the upstreams)."""
    path = current_app.config.get("DRAIN_FILE", "")  # the app's settings, read at its start
    return bool(path) and os.path.exists(path)


def ops_blueprint(ready: Callable[[], tuple[bool, dict]], info: Callable[[], dict]) -> Blueprint:
    """`ready()` returns (ready?, what was checked, e.g. {"database": "ok"}); `info()` the /info body."""
    bp = Blueprint("ops", __name__)

    @bp.get("/health")
    def health():
        return json_response({"status": "ok"})

    @bp.get("/ready", endpoint="ready")
    def ready_route():
        if draining():
            return json_response({"status": "unavailable", "draining": True}, 503)
        ok, checks = ready()
        body = {"status": "ready" if ok else "unavailable", **checks}
        if "certificates" in current_app.extensions:
            # Certificates close to expiry are reported, not a reason to leave the load balancer.
            body["certificates"] = {"expiring": current_app.extensions["certificates"].report()}
        return json_response(body, 200 if ok else 503)

    @bp.get("/version")
    def version():
        return json_response({"version": current_app.config["VERSION"]})

    @bp.get("/info", endpoint="info")
    def info_route():
        return json_response(info())

    return bp
