"""Security headers on every answer of the app (portal, identity pages, API, docs).

The Content-Security-Policy allows scripts and style sheets from our own origin only (htmx and the portal
script are files under /static; no inline script, no eval), images and uploads also from the file server
(FESTIVALS_FILES_URL), and no framing by other sites (clickjacking). Inline `style` attributes stay allowed
(the timetable places its cells with them); they cannot run code."""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlsplit

from flask import Flask, Response, request

HSTS = "max-age=31536000"  # only sent over HTTPS: a browser must not pin HTTPS for a plain-HTTP dev server
PERMISSIONS = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), "
    "payment=(), usb=(), interest-cohort=()"
)


def origin_of(url: str) -> str:
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else ""


@lru_cache(maxsize=8)
def content_security_policy(files_url: str) -> str:
    files = origin_of(files_url)
    extra = f" {files}" if files else ""
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "style-src-attr 'unsafe-inline'",
            f"img-src 'self' data:{extra}",
            f"media-src 'self'{extra}",
            f"connect-src 'self'{extra}",
            "font-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


SECURITY_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),  # frame-ancestors for browsers without CSP level 2
    ("Referrer-Policy", "same-origin"),
    ("Permissions-Policy", PERMISSIONS),
)


def init_security_headers(app: Flask) -> None:
    @app.after_request
    def _security_headers(response: Response) -> Response:
        # Each one unless the answer set its own; the names present looked up once (a lookup per header scanned
        # every header each time).
        headers = response.headers
        present = set(headers.keys(lower=True))
        wanted = [
            ("Content-Security-Policy", content_security_policy(app.config.get("FILES_URL") or "")),
            *SECURITY_HEADERS,
        ]
        # Behind the gateway, Caddy sets HSTS (on real domains only); served over HTTPS directly, the app does.
        if request.is_secure and not app.config.get("BEHIND_PROXY"):
            wanted.append(("Strict-Transport-Security", HSTS))
        for name, value in wanted:
            if name.lower() not in present:
                headers.add(name, value)
        return response
