"""Abuse protection: login, token and signup limited per client address and per account."""

import uuid

import pytest
import redis

from tests.conftest import SUITE
from tests.factories import PASSWORD


def _token(client, email, password=PASSWORD, address="10.0.0.1"):
    return client.post(
        "/identity/token", json={"email": email, "password": password}, environ_base={"REMOTE_ADDR": address}
    )


def test_token_limited_per_account(make_app, factory):
    app = make_app(LOGIN_RATE_LIMIT="3/minute", LOGIN_IP_RATE_LIMIT="100/minute")
    client = app.test_client()
    user = factory.user("creator")
    statuses = [_token(client, user.email, "wrong password!", f"10.0.0.{n}").status_code for n in range(4)]
    assert statuses == [401, 401, 401, 429]
    limited = _token(client, user.email, PASSWORD, "10.0.0.9")  # even the right password, from elsewhere
    assert limited.status_code == 429
    assert limited.get_json()["error"]
    assert int(limited.headers["Retry-After"]) > 0
    assert _token(client, "someone.else@example.org", "whatever pw", "10.0.0.9").status_code == 401


def test_token_limited_per_address(make_app, factory):
    app = make_app(LOGIN_RATE_LIMIT="100/minute", LOGIN_IP_RATE_LIMIT="3/minute")
    client = app.test_client()
    statuses = [_token(client, f"user{n}@example.org", "whatever pw").status_code for n in range(4)]
    assert statuses == [401, 401, 401, 429]
    assert _token(client, "user9@example.org", "whatever pw", address="10.0.0.2").status_code == 401


def test_basic_login_limited(make_app, factory):
    import base64

    app = make_app(LOGIN_RATE_LIMIT="2/minute")
    client = app.test_client()
    user = factory.user("creator")
    header = {"Authorization": "Basic " + base64.b64encode(f"{user.email}:bad password".encode()).decode()}
    assert [client.get("/identity/users/login", headers=header).status_code for _ in range(3)] == [401, 401, 429]


def test_signup_limited_per_address(make_app):
    client = make_app(SIGNUP_RATE_LIMIT="2/hour").test_client()
    signups = [{"email": f"n{n}@example.org", "password": "a long password"} for n in range(3)]
    statuses = [client.post("/identity/users/signup", json=signup).status_code for signup in signups]
    assert statuses == [201, 201, 429]


def test_api_reads_are_not_login_limited(make_app, factory):
    app = make_app(LOGIN_IP_RATE_LIMIT="1/minute")
    client = app.test_client()
    headers = factory.api_key_headers()
    assert all(client.get("/api/v1/festivals", headers=headers).status_code == 200 for _ in range(5))


@pytest.fixture
def redis_url():
    """Redis from FESTIVALS_TEST_REDIS_URL (scripts/test starts a local one when it is down); the
    test fails, never skips, when it cannot reach it."""
    url = SUITE.test_redis_url
    redis.Redis.from_url(url).ping()
    return url


def test_limits_shared_through_redis(make_app, factory, redis_url):
    prefix = f"festivals-test-{uuid.uuid4().hex}"
    settings = {"REDIS_URL": redis_url, "RATELIMIT_KEY_PREFIX": prefix, "LOGIN_RATE_LIMIT": "2/minute"}
    first, second = make_app(**settings), make_app(**settings)  # two processes behind one gateway
    user = factory.user("creator")
    assert _token(first.test_client(), user.email, "bad password!").status_code == 401
    assert _token(second.test_client(), user.email, "bad password!").status_code == 401
    assert _token(first.test_client(), user.email, "bad password!").status_code == 429
    assert redis.Redis.from_url(redis_url).keys(f"*{prefix}*")  # the counters live in Redis


def test_refreshes_of_different_logins_do_not_share_a_bucket(make_app, factory):
    app = make_app(LOGIN_RATE_LIMIT="2/minute", LOGIN_IP_RATE_LIMIT="100/minute")
    client = app.test_client()
    tokens = []
    for n in range(3):
        user = factory.user("creator")
        tokens.append(_token(client, user.email, address=f"10.0.1.{n}").get_json()["refresh_token"])
    statuses = [client.post("/identity/token", json={"refresh_token": t}).status_code for t in tokens]
    assert statuses == [200, 200, 200]


def test_one_account_limit_across_every_login_route_and_process(make_app, factory, redis_url):
    """Issue 13, finding 8: the portal form, POST /token and Basic login of two app processes share one
    per-account budget (through Redis): attempt 5 of a 4/minute limit is refused."""
    import base64

    from tests.identity.test_pages import client_for, log_in

    settings = {
        "LOGIN_RATE_LIMIT": "4/minute",
        "LOGIN_IP_RATE_LIMIT": "100/minute",
        "REDIS_URL": redis_url,
        "RATELIMIT_KEY_PREFIX": f"festivals-test-{uuid.uuid4().hex}",
    }
    first, second = make_app(**settings), make_app(**settings)
    user = factory.user("creator")
    basic = {"Authorization": "Basic " + base64.b64encode(f"{user.email}:bad password".encode()).decode()}

    statuses = [
        _token(first.test_client(), user.email, "bad password!").status_code,
        log_in(client_for(second), user.email, "bad password!").status_code,
        first.test_client().get("/identity/users/login", headers=basic).status_code,
        _token(second.test_client(), user.email, "bad password!").status_code,
        log_in(client_for(first), user.email).status_code,  # the right password, but over the limit
        second.test_client().get("/identity/users/login", headers=basic).status_code,
    ]

    assert statuses == [401, 422, 401, 401, 429, 429]
    assert _token(first.test_client(), "someone.else@example.org", "whatever pw").status_code == 401


# --- one sliding budget per account and per client over every password check (issue 20, item 5) -------------


def test_wrong_passwords_over_every_route_share_one_account_budget(make_app, factory):
    import base64

    from tests.identity.test_pages import client_for, log_in, submit

    app = make_app(LOGIN_RATE_LIMIT="6/minute", LOGIN_IP_RATE_LIMIT="100/minute")
    user = factory.user("creator")
    bearer = factory.bearer(user)
    portal = client_for(app)
    assert log_in(portal, user.email).status_code == 303  # 1: the right password counts too
    api = app.test_client()
    basic = {"Authorization": "Basic " + base64.b64encode(f"{user.email}:falsches Passwort".encode()).decode()}
    wrong_old = {"old_password": "falsches Passwort", "new_password": "ein ganz neues Passwort 2027"}
    go_wrong_old = {"old-password": "falsches Passwort", "new-password": "ein ganz neues Passwort 2027"}
    new_password = {"new_password": "ein ganz neues Passwort 2027", "repeat": "ein ganz neues Passwort 2027"}
    statuses = [
        _token(api, user.email, "falsches Passwort").status_code,  # 2
        api.get("/identity/users/login", headers=basic).status_code,  # 3
        api.post("/identity/users/password", json=wrong_old, headers=bearer).status_code,  # 4
        api.post(f"/identity/users/{user.id}/change-password", json=go_wrong_old, headers=bearer).status_code,  # 5
        submit(portal, "/account/password", {"old_password": "falsches Passwort", **new_password}).status_code,
    ]
    assert statuses == [401, 401, 400, 400, 422]
    for refused in (
        api.post("/identity/users/password", json=wrong_old, headers=bearer),
        _token(api, user.email, PASSWORD),  # even the right password
    ):
        assert refused.status_code == 429
        assert set(refused.get_json()) == {"error"} and int(refused.headers["Retry-After"]) > 0
    assert submit(portal, "/account/password", {"old_password": PASSWORD, **new_password}).status_code == 429
    assert log_in(client_for(app), user.email).status_code == 429


def test_two_clients_behind_the_same_slash_24_do_not_lock_each_other_out(make_app, caplog):
    from common.http import CLIENT_HEADER

    app = make_app(BEHIND_PROXY=True, LOGIN_RATE_LIMIT="100/minute", LOGIN_IP_RATE_LIMIT="3/minute")
    client = app.test_client()

    def attempt(visitor: str, number: int):
        # what the gateway passes on: the masked /24 in X-Forwarded-For, the whole address in its own header
        headers = {"X-Forwarded-For": "203.0.113.0", CLIENT_HEADER: visitor}
        body = {"email": f"nachbar{number}@example.org", "password": "falsches Passwort"}
        return client.post("/identity/token", json=body, headers=headers).status_code

    assert [attempt("203.0.113.7", n) for n in range(4)] == [401, 401, 401, 429]
    assert [attempt("203.0.113.8", n) for n in range(3)] == [401, 401, 401]  # the neighbour has its own budget
    assert "203.0.113.7" not in caplog.text and "203.0.113.8" not in caplog.text  # never logged


def test_the_gateway_passes_the_whole_client_address_in_its_own_header():
    from common.http import CLIENT_HEADER
    from gateway.caddy import forwarded_headers

    request = forwarded_headers()["request"]
    assert request["set"][CLIENT_HEADER] == ["{http.request.remote.host}"]  # `set`: a client's own is replaced


def test_two_app_processes_sharing_redis_share_the_budget(tmp_path, serve_app, redis_url):
    from tests.processes import migrated

    url = migrated(f"sqlite:///{tmp_path / 'festivals.sqlite3'}")
    prefix = f"festivals-test-{uuid.uuid4().hex}"
    settings = {
        "FESTIVALS_REDIS_URL": redis_url,
        "FESTIVALS_RATE_LIMIT_PREFIX": prefix,
        "FESTIVALS_LOGIN_RATE_LIMIT": "4/minute",
        "FESTIVALS_LOGIN_IP_RATE_LIMIT": "100/minute",
    }
    folders = [tmp_path / name for name in ("eins", "zwei")]
    for folder in folders:
        folder.mkdir()
    servers = [serve_app(folder, url, **settings) for folder in folders]
    body = {"email": "grosse.buehne@example.org", "password": "falsches Passwort"}
    import requests

    statuses = [requests.post(f"{servers[n % 2].url}/identity/token", json=body, timeout=30) for n in range(6)]
    assert [response.status_code for response in statuses] == [401, 401, 401, 401, 429, 429]
    assert statuses[4].json()["error"] and int(statuses[4].headers["Retry-After"]) > 0
    assert redis.Redis.from_url(redis_url).keys(f"*{prefix}*")
