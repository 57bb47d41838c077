"""A short-lived access token of the caller's portal login, for the HTML faces (identity's upload-token page,
the portal's admin look at the discovery registry)."""

from __future__ import annotations

import requests
from flask import current_app

from app.errors import Unauthorized, Unavailable
from common.access_tokens import issue_access_token


def token_for_login(user, sid: str, ttl: int) -> str:
    """A short-lived access token of the caller's portal login (the upload token, the admin's look at the
    registry). Only the identity service signs: with FESTIVALS_IDENTITY_URL this instance asks it (POST
    /service/access-token with its Service-Key, over mTLS), so every process's JWKS knows the key; without,
    this process is the identity service and signs itself."""
    config = current_app.config
    if not config["IDENTITY_URL"]:
        keys = current_app.extensions["identity_keys"]
        return issue_access_token(
            user, keys, issuer=config["TOKEN_ISSUER"], audience=config["TOKEN_AUDIENCE"], ttl=ttl, sid=sid
        )
    tls = current_app.extensions["tls"]
    secure = {"verify": tls.ca, "cert": (tls.cert, tls.key)} if tls.enabled else {}
    url = config["IDENTITY_URL"].rstrip("/") + "/service/access-token"
    try:
        response = requests.post(
            url,
            json={"user_id": user.id, "sid": sid, "ttl": ttl},
            headers={"Service-Key": config["SERVICE_KEY"]},
            timeout=5,
            **secure,
        )
    except requests.RequestException as exc:
        current_app.logger.error("identity service %s: %s", url, exc)
        raise Unavailable("the identity service cannot be reached; try again in a moment") from exc
    if response.status_code == 401:
        raise Unauthorized("this login has ended; log in again")
    if response.status_code != 200:
        current_app.logger.error("identity service %s: %s %s", url, response.status_code, response.text[:200])
        raise Unavailable("the identity service gave no token; try again in a moment")
    return response.json()["access_token"]
