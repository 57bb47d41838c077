"""Identity JSON routes (compatible paths): tokens, signup, password, user and key administration,
published keys. Authenticated with Bearer tokens only, so exempt from CSRF."""

from __future__ import annotations

import base64
import binascii
import functools

from flask import Blueprint, Response, current_app, request, url_for

from app.errors import Forbidden, Invalid, Unauthorized, Unavailable
from app.models import ApiKey, User
from app.permissions import ANONYMOUS, Actor
from app.services import api_keys, sessions, users, writes
from common.access_tokens import issue_access_token
from identity.principal import bearer_token, token_login
from web.extensions import limiter
from web.params import limit_offset
from web.requests import client_key, json_body
from web.responses import data_response, json_response

bp = Blueprint("identity", __name__, url_prefix="/identity")


def _config(name):
    return current_app.config[name]


def signing(view):
    """A route that signs tokens or publishes the signing keys: refused (503, before anything else is done) by
    an app instance told FESTIVALS_IDENTITY_URL, which holds no keys (only identity signs). The gateway sends
    identity.<domain> to the app instances only while no identity instance is live."""

    @functools.wraps(view)
    def refused_without_keys(*args, **kwargs):
        if current_app.extensions["identity_keys"] is None:
            raise Unavailable("tokens are signed by the identity service alone, which does not answer now; try again")
        return view(*args, **kwargs)

    return refused_without_keys


def _body() -> dict:
    body = json_body()
    if not isinstance(body, dict):
        raise Invalid("the request body must be a JSON object")
    return body


def _basic_credentials() -> tuple[str, str]:
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        raise Unauthorized("Basic credentials are required")
    try:
        email, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise Unauthorized("the Basic credentials are malformed") from None
    return email, password


def access_token_for(user, sid: str) -> str:
    return issue_access_token(
        user,
        current_app.extensions["identity_keys"],
        issuer=_config("TOKEN_ISSUER"),
        audience=_config("TOKEN_AUDIENCE"),
        ttl=_config("ACCESS_TOKEN_TTL"),
        sid=sid,
    )


def login(email, password, via: str):
    if not isinstance(email, str) or not isinstance(password, str) or not email or not password:
        raise Invalid("email and password are required", {"email": "required", "password": "required"})
    user = users.authenticate(email, password, client_key())
    users.record_login(email, user, via)
    if user is None:  # one message for unknown account, wrong password and suspended account
        raise Unauthorized("the email or password is wrong")
    return user


def _token_response(user, sid: str, refresh_token: str):
    return json_response(
        {
            "access_token": access_token_for(user, sid),
            "refresh_token": refresh_token,
            "token_type": "Bearer",
            "expires_in": _config("ACCESS_TOKEN_TTL"),
        }
    )


@bp.post("/token")
@signing
def token():
    body = _body()
    if "refresh_token" in body:
        return _token_response(*sessions.rotate(body["refresh_token"], _config("REFRESH_TOKEN_TTL")))
    user = login(body.get("email"), body.get("password"), "token")
    return _token_response(user, *sessions.start(user, _config("REFRESH_TOKEN_TTL")))


@bp.get("/users/login")
@signing
def basic_login():
    """The old clients' login: Basic credentials in, the raw JWT out as text."""
    email, password = _basic_credentials()
    user = login(email, password, "basic")
    sid = sessions.start_login(user, "basic", _config("REFRESH_TOKEN_TTL"))
    return Response(access_token_for(user, sid), mimetype="text/plain")


def current_login() -> tuple[User, str]:
    token = bearer_token()
    if token is None:
        raise Unauthorized("a Bearer token is required")
    return token_login(token)


def current_actor():
    user, _ = current_login()
    return Actor("user", user_id=user.id, role=user.role)


@bp.get("/users/refresh")
@signing
def refresh_access_token():
    """Compatible refresh: a valid access token of a live login in, a fresh one (new expiry) out as text.
    The login lives on while used; once it is revoked (logout, password change, suspension) this is a 401."""
    user, sid = current_login()
    sessions.extend(sid, _config("REFRESH_TOKEN_TTL"))
    return Response(access_token_for(user, sid), mimetype="text/plain")


@bp.get("/users/me")
def me():
    """The caller's account as it is now (role, suspension): what the file server asks, with the user's
    own token, before an upload or delete, and the gateway's registry to admit admins. 401 once the
    token's login has ended."""
    user, _ = current_login()
    return data_response([user_dict(user)])


@bp.post("/logout")
def logout():
    """Ends a login: the one of `refresh_token`, or without a body, the one of the Bearer token."""
    body = _body() if request.get_data(cache=True).strip() else {}
    if isinstance(body.get("refresh_token"), str):
        actor = current_actor() if bearer_token() else ANONYMOUS
        sessions.revoke(body["refresh_token"], actor)
    elif bearer_token():
        user, sid = current_login()
        sessions.end_login(sid, Actor("user", user_id=user.id, role=user.role))
    else:
        raise Invalid("refresh_token is required", {"refresh_token": "required"})
    return data_response([])


@bp.post("/users/signup")
@limiter.limit(lambda: _config("SIGNUP_RATE_LIMIT"))
def signup():
    if not _config("SIGNUP"):
        raise Forbidden("signing up is switched off on this server")
    body = _body()
    email, password = body.get("email"), body.get("password")
    if not isinstance(email, str) or not isinstance(password, str):
        raise Invalid("email and password are required", {"email": "required", "password": "required"})
    users.signup(email, password, _config("SIGNUP_ROLE"))
    # The same answer whether or not the address was registered before (no user enumeration).
    return data_response([{"user_email": users.normalize_email(email)}], 201)


@bp.post("/users/password")
def change_password():
    user, sid = current_login()
    body = _body()
    old, new = body.get("old_password"), body.get("new_password")
    if not isinstance(old, str) or not isinstance(new, str):
        raise Invalid(
            "old_password and new_password are required", {"old_password": "required", "new_password": "required"}
        )
    users.change_password(user, old, new, client_key(), keep_login=sid)
    return data_response([])


def user_dict(user: User) -> dict:
    return {
        "user_id": user.id,
        "user_email": user.email,
        "user_role": user.role,
        "user_suspended": user.suspended,
        "user_created": user.created.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


@bp.get("/users")
def list_users():
    limit, offset = limit_offset(request.args, default_limit=50)
    found, total = users.list_users(current_actor(), request.args.get("search"), limit, offset)
    return data_response([user_dict(user) for user in found], headers={"X-Total-Count": str(total)})


@bp.post("/users/<id:user_id>/role/<role>")
def set_role(user_id: int, role: str):
    """`role` by name, or as the Go services' clients send it (42 admin, 1 creator)."""
    return data_response([user_dict(users.set_role(current_actor(), user_id, users.GO_ASSIGNABLE.get(role, role)))])


@bp.post("/users/<id:user_id>/change-password")
def change_password_go(user_id: int):
    """The Go services' password change: one's own, `{"old-password", "new-password"}`; today's password rules."""
    user, sid = current_login()
    if user.id != user_id:
        raise Forbidden("only the account's own user may change its password")
    body = _body()
    old, new = body.get("old-password"), body.get("new-password")
    if not isinstance(old, str) or not isinstance(new, str):
        raise Invalid(
            "old-password and new-password are required", {"old-password": "required", "new-password": "required"}
        )
    users.change_password(user, old, new, client_key(), keep_login=sid)
    return data_response([])


@bp.post("/users/<id:user_id>/suspend")
def suspend(user_id: int):
    return data_response([user_dict(users.set_suspended(current_actor(), user_id, True))])


@bp.post("/users/<id:user_id>/unsuspend")
def unsuspend(user_id: int):
    return data_response([user_dict(users.set_suspended(current_actor(), user_id, False))])


@bp.post("/users/<id:user_id>/reset-link")
def reset_link(user_id: int):
    token = users.create_reset(current_actor(), user_id)
    return data_response([{"reset_url": url_for("identity_pages.reset", token=token, _external=True)}], 201)


@bp.post("/festivals/<id:festival_id>/owner/<id:user_id>")
def transfer_festival(festival_id: int, user_id: int):
    return data_response([writes.transfer_owner("festival", festival_id, user_id, current_actor())])


def key_dict(row: ApiKey) -> dict:
    def when(value):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None

    return {
        "key_id": row.id,
        "key_prefix": row.prefix,
        "key_comment": row.comment,
        "key_created": when(row.created),
        "key_last_used": when(row.last_used),
        "key_revoked": when(row.revoked),
    }


def _key_routes(kind: str, path: str) -> None:
    @bp.get(f"/{path}", endpoint=f"list_{kind}_keys")
    def list_keys():
        return data_response([key_dict(row) for row in api_keys.list_keys(current_actor(), kind)])

    @bp.post(f"/{path}", endpoint=f"create_{kind}_key")
    def create_key():
        actor = current_actor()
        users.require_admin(actor)
        comment = _body().get("comment", "")
        if not isinstance(comment, str):
            raise Invalid("comment must be a string", {"comment": "must be a string"})
        key, row = api_keys.create_key(comment, kind, actor)
        return data_response([{**key_dict(row), "key": key}], 201)  # the plain key, shown this once

    @bp.delete(f"/{path}/<id:key_id>", endpoint=f"revoke_{kind}_key")
    def revoke_key(key_id: int):
        actor = current_actor()
        users.require_admin(actor)
        api_keys.revoke_key(key_id, actor, kind)
        return data_response([])


@bp.post("/service/access-token")
@signing
def service_access_token():
    """A token of at most 5 minutes for a live login, asked by an app instance with its Service-Key: the
    portal's upload token is signed here, by the identity service alone (web/login_tokens.py token_for_login)."""
    key = request.headers.get("Service-Key", "")
    if not key or api_keys.verify_key(key, "service", record_use=not _config("READ_ONLY")) is None:
        raise Unauthorized("a valid Service-Key is required")
    body = _body()
    user_id, sid, ttl = body.get("user_id"), body.get("sid"), body.get("ttl", 300)
    if isinstance(ttl, bool) or not isinstance(ttl, int) or not 1 <= ttl <= 300:
        raise Invalid("ttl must be 1 to 300 seconds", {"ttl": "a number of seconds from 1 to 300"})
    user = sessions.session_user(user_id, sid)
    if user is None:
        raise Unauthorized("this login has ended (logout, password change or suspension); log in again")
    token = issue_access_token(
        user,
        current_app.extensions["identity_keys"],
        issuer=_config("TOKEN_ISSUER"),
        audience=_config("TOKEN_AUDIENCE"),
        ttl=ttl,
        sid=sid,
    )
    return json_response({"access_token": token, "token_type": "Bearer", "expires_in": ttl})


@bp.get("/service-keys/verify")
def verify_service_key():
    """200 for a valid `Service-Key` header, else 401: how the gateway's registry, which shares no code or
    database with the app, checks heartbeats (it caches the answer)."""
    key = request.headers.get("Service-Key", "")
    row = api_keys.verify_key(key, "service", record_use=not _config("READ_ONLY")) if key else None
    if row is None:
        raise Unauthorized("a valid Service-Key is required")
    return data_response([{"key_id": row.id, "key_comment": row.comment}])


_key_routes("api", "api-keys")
_key_routes("service", "service-keys")


@bp.get("/.well-known/jwks.json")
@signing
def jwks():
    return json_response(current_app.extensions["identity_keys"].jwks())


@bp.get("/validation-key")
@signing
def validation_key():
    return Response(current_app.extensions["identity_keys"].current.public_pem(), mimetype="application/x-pem-file")


@bp.after_request
def _cache_control(response):
    if request.endpoint not in ("identity.jwks", "identity.validation_key"):
        response.headers["Cache-Control"] = "no-store"
    else:
        response.headers["Cache-Control"] = "public, max-age=300"
    return response
