"""Page-or-fragment rendering for htmx, shared by the portal's and the identity pages' handlers.

A URL answers a full page to a plain request (or an `hx-boost` navigation, which swaps the body) and
only its fragment to other htmx requests; both come from one template, the page including the fragment."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Response, redirect, render_template, request


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def wants_fragment() -> bool:
    """htmx asked for a piece of a page: not a boosted navigation and not a history restore
    (after a cache miss htmx reloads the whole page, which must not be a bare fragment)."""
    return (is_htmx() and request.headers.get("HX-Boosted") != "true"
            and request.headers.get("HX-History-Restore-Request") != "true")


def render(template: str, fragment: str | None = None, status: int = 200, **context):
    """The page `template` for a plain request, `fragment` (the partial it includes) for an htmx one."""
    name = fragment if fragment is not None and wants_fragment() else template
    return render_template(name, **context), status


def go(location: str, code: int = 303) -> Response:
    """Redirect after a change; an htmx request gets HX-Redirect (a full page load) instead."""
    if is_htmx():
        current = urlsplit(request.headers.get("HX-Current-URL", ""))
        target = urlsplit(location)
        if (target.path, target.query) == (current.path, current.query) and not target.netloc:
            # Only the #fragment differs: the browser would just scroll, so reload (the flash shows).
            return Response(status=200, headers={"HX-Refresh": "true"})
        return Response(status=200, headers={"HX-Redirect": location})
    return redirect(location, code)


def vary_on_htmx(response: Response) -> Response:
    """For after_request: the same URL answers a page or a fragment, so caches must key on HX-Request."""
    response.vary.add("HX-Request")
    return response


def safe_next(target) -> str:
    """`target` when it is a path on this site, else "/": no scheme or host, no "//" or "/\\" (which
    browsers read as another host), no whitespace or control characters (browsers drop some of them)."""
    if not isinstance(target, str) or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    if "\\" in target or any(char.isspace() or ord(char) < 32 or ord(char) == 127 for char in target):
        return "/"
    parts = urlsplit(target)
    return "/" if parts.scheme or parts.netloc else target
