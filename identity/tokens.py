"""Access tokens: JWT signed with EdDSA (issued by common/access_tokens.py); verified with the public keys only,
algorithm pinned."""

from __future__ import annotations

import jwt

from app.errors import Unauthorized
from common.jwks import ALGORITHM


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
