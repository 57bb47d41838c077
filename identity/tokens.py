"""Access tokens: JWT signed with EdDSA; verified with the public keys only, algorithm pinned."""

from __future__ import annotations

import time
import uuid

import jwt

from app.errors import Unauthorized
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
