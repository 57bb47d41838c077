"""Issuing access tokens: JWT signed with EdDSA by the identity service's newest key (verifying them:
identity/tokens.py; the file server verifies with the public keys, common/jwks.py). Here, not in identity/, because
the HTML faces ask for a token of their login too (web/login_tokens.py)."""

from __future__ import annotations

import time
import uuid

import jwt

from common.jwks import ALGORITHM


def issue_access_token(user, keys, *, issuer: str, audience: str, ttl: int, sid: str) -> str:
    """Signed by `keys.current` (identity/keys.py KeyStore). `sid` is the login the token belongs to
    (app.services.sessions): it dies with that login."""
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
