"""Access tokens: JWT signed with EdDSA; verified with the public keys only, algorithm pinned."""

from __future__ import annotations

import time
import uuid

import jwt
import requests
from flask import current_app

from app.errors import Unauthorized, Unavailable
from identity.keys import KeyStore

ALGORITHM = "EdDSA"


def issue_access_token(user, keys: KeyStore, *, issuer: str, audience: str, ttl: int, sid: str) -> str:
    """`sid` is the login the token belongs to (app.services.sessions): it dies with that login."""
    now = int(time.time())
    key = keys.current
    claims = {
        "sub": str(user.id),
        "role": user.role,
        "sid": sid,
        "iss": issuer,
        "aud": audience,
        "iat": now,
        "exp": now + ttl,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, key.private, algorithm=ALGORITHM, headers={"kid": key.kid})


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


def verify_access_token(token: str, keys, *, issuer: str, audience: str) -> dict:
    """The token's claims, or Unauthorized. Only EdDSA with one of our keys is accepted, so
    `alg: none` and HS256-with-the-public-key tokens fail here."""
    try:
        header = jwt.get_unverified_header(token)
        if header.get("alg") != ALGORITHM or not isinstance(header.get("kid"), str):
            raise Unauthorized("the access token was not issued by this identity service")
        public = keys.public_key(header["kid"])  # a KeyStore, or common.jwks.JwksKeys
        if public is None:
            raise Unauthorized("the access token was not issued by this identity service")
        return jwt.decode(
            token,
            public,
            algorithms=[ALGORITHM],
            audience=audience,
            issuer=issuer,
            options={"require": ["exp", "iat", "sub", "iss", "aud", "sid"]},
        )
    except jwt.ExpiredSignatureError:
        raise Unauthorized("the access token has expired") from None
    except jwt.PyJWTError:
        raise Unauthorized("the access token is invalid") from None
