"""Security headers on every page (issue 13, finding 3): a CSP without inline script, no framing by
other sites, nosniff, Referrer-Policy, Permissions-Policy, and HSTS when the request came over HTTPS."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app import ROOT
from tests.identity.test_pages import client_for, log_in

PAGES = [
    "/login",
    "/signup",
    "/festivals",
    "/admin/users",
    "/account/password",
    "/api/docs",
    "/identity/.well-known/jwks.json",
    "/api/v1/festivals",
    "/nowhere",
]


@pytest.fixture
def browser(app, factory):
    client = client_for(app)
    log_in(client, factory.user("admin").email)
    return client


def directives(policy: str) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


@pytest.mark.parametrize("path", PAGES)
def test_every_answer_carries_the_security_headers(browser, path):
    response = browser.get(path)

    csp = directives(response.headers["Content-Security-Policy"])
    assert csp["script-src"] == ["'self'"]  # no 'unsafe-inline', no 'unsafe-eval'
    assert csp["frame-ancestors"] == ["'none'"] and response.headers["X-Frame-Options"] == "DENY"
    assert csp["object-src"] == ["'none'"] and csp["base-uri"] == ["'self'"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "camera=()" in response.headers["Permissions-Policy"]
    assert "Strict-Transport-Security" not in response.headers  # plain HTTP: a browser would pin it wrongly


def test_hsts_over_https(app, factory):
    client = client_for(app)

    response = client.get("/login", base_url="https://portal.example.org")

    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_the_file_server_may_serve_images_and_take_uploads(make_app):
    app = make_app(FILES_URL="https://files.example.org/base")

    csp = directives(app.test_client().get("/login").headers["Content-Security-Policy"])

    assert "https://files.example.org" in csp["img-src"] and "https://files.example.org" in csp["connect-src"]
    assert "'unsafe-inline'" not in csp["style-src"]


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\ssrc=)[^>]*>", re.IGNORECASE)
HANDLER = re.compile(r"""\son[a-z]+\s*=|\shx-on[:-]|javascript:|["']js:""", re.IGNORECASE)


@pytest.mark.parametrize("template", sorted(str(p.relative_to(ROOT)) for p in Path(ROOT, "templates").rglob("*.html")))
def test_no_template_has_inline_script_or_event_handlers(template):
    source = Path(ROOT, template).read_text()

    assert not INLINE_SCRIPT.search(source)
    assert not HANDLER.search(source), HANDLER.search(source)


def test_htmx_is_told_not_to_inject_style_or_eval(browser):
    page = browser.get("/festivals").get_data(as_text=True)

    assert '"includeIndicatorStyles": false' in page and '"allowEval": false' in page


# --- image_ref only on the file server (finding 12) --------------------------------------------------

FILES = "https://files.example.org"


@pytest.mark.parametrize(
    ("ref", "status"),
    [
        (f"{FILES}/images/{'a' * 64}", 201),
        ("https://evil.example.net/images/x", 400),
        ("https://files.example.org.evil.net/images/x", 400),
        ("http://files.example.org/images/x", 400),
        (FILES, 400),
    ],
)
def test_image_ref_must_be_on_the_file_server(make_app, factory, ref, status):
    app = make_app(FILES_URL=FILES)
    writer = factory.bearer(factory.user("creator"))

    response = app.test_client().post("/api/v1/images", json={"image_ref": ref, "image_hash": "a" * 64}, headers=writer)

    assert response.status_code == status, response.get_json()


def test_the_portal_never_shows_a_foreign_image(make_app, factory):
    """An image stored before the file server was configured (or by an old client) is not loaded."""
    owner = factory.user("creator")
    festival = factory.create("festival", owner)["festival_id"]
    for ref in ("https://evil.example.net/pixel.gif", f"{FILES}/images/{'b' * 64}"):
        image = factory.create("image", owner, ref=ref, hash="b" * 64)["image_id"]
        factory.link("festival", festival, "image", image, owner)
        app = make_app(FILES_URL=FILES)
        browser = client_for(app)
        log_in(browser, owner.email)

        pages = [browser.get(f"/festivals/{festival}{view}").get_data(as_text=True) for view in ("", "/preview")]

        shown = [src for page in pages for src in re.findall(r'<img [^>]*src="([^"]+)"', page)]
        assert shown == ([f"{ref}?w=320", f"{ref}?w=640"] if ref.startswith(FILES) else []), shown
