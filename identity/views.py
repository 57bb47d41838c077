"""Identity routes of the contract (compatible paths): token, Basic-auth login, published keys."""
from __future__ import annotations

import base64
import binascii

import orjson
from flask import Blueprint, Response, current_app, request

from app.errors import Invalid, Unauthorized
from app.responses import json_response
from app.services import users
from identity.tokens import issue_access_token

bp = Blueprint("identity", __name__, url_prefix="/identity")


def _keys():
    return current_app.extensions["identity_keys"]


def _token_for(user) -> str:
    config = current_app.config
    return issue_access_token(user, _keys(), issuer=config["TOKEN_ISSUER"], audience=config["TOKEN_AUDIENCE"],
                              ttl=config["ACCESS_TOKEN_TTL"])


def _login(email, password):
    if not isinstance(email, str) or not isinstance(password, str) or not email or not password:
        raise Invalid("email and password are required", {"email": "required", "password": "required"})
    user = users.authenticate(email, password)
    if user is None:  # one message for unknown account, wrong password and suspended account
        raise Unauthorized("the email or password is wrong")
    return user


@bp.post("/token")
def token():
    try:
        body = orjson.loads(request.get_data(cache=False) or b"null")
    except orjson.JSONDecodeError:
        raise Invalid("the request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise Invalid("the request body must be a JSON object with email and password")
    user = _login(body.get("email"), body.get("password"))
    return json_response({"access_token": _token_for(user), "token_type": "Bearer",
                          "expires_in": current_app.config["ACCESS_TOKEN_TTL"]})


@bp.get("/users/login")
def basic_login():
    """The old clients' login: Basic credentials in, the raw JWT out as text."""
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        raise Unauthorized("Basic credentials are required")
    try:
        email, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise Unauthorized("the Basic credentials are malformed") from None
    user = _login(email, password)
    return Response(_token_for(user), mimetype="text/plain")


@bp.get("/.well-known/jwks.json")
def jwks():
    return json_response({"keys": [key.jwk() for key in _keys().keys.values()]})


@bp.get("/validation-key")
def validation_key():
    return Response(_keys().current.public_pem(), mimetype="application/x-pem-file")
