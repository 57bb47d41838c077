"""/admin/services: every instance the gateway's discovery registry knows, with its state and last beat.

The registry lives in the gateway process (it shares no database with the app), so the page asks it over HTTP
(`GET <FESTIVALS_DISCOVERY_URL>/services`) with a one-minute access token of the admin looking at the page."""

from __future__ import annotations

import requests
from flask import current_app
from flask_login import current_user

from app.errors import DomainError
from common.heartbeat import loopback_target
from common.http import passed_on
from portal.admin import bp
from web.htmx import render
from web.login_tokens import token_for_login


def _registry_instances() -> tuple[list[dict], str | None]:
    """(instances, None), or ([], what went wrong) in words for the page."""
    config = current_app.config
    if not config["DISCOVERY_URL"]:
        return [], "The discovery registry is not configured here (FESTIVALS_DISCOVERY_URL is not set)."
    try:
        token = token_for_login(current_user, current_user.sid, 60)
    except DomainError as exc:  # the identity service does not answer, or the login has just ended
        return [], f"No token from the identity service: {exc}"
    url, headers = loopback_target(config["DISCOVERY_URL"] + "/services")
    tls = current_app.extensions["tls"]  # the registry's port is mTLS when the app has a certificate
    secure = {"verify": tls.ca, "cert": (tls.cert, tls.key)} if tls.enabled else {}
    try:
        response = requests.get(
            url, headers={**headers, **passed_on(), "Authorization": f"Bearer {token}"}, timeout=5, **secure
        )
        response.raise_for_status()
        return response.json()["data"], None
    except (requests.RequestException, ValueError, KeyError) as exc:
        return [], f"The discovery registry did not answer ({exc.__class__.__name__}); try again shortly."


@bp.get("/services", endpoint="services")
def service_list():
    instances, problem = _registry_instances()
    return render("portal/admin/services.html", instances=instances, problem=problem)
