"""Page-or-fragment rendering for htmx, on htmx-flask's `request.htmx` and `make_response`.

A URL answers a full page to a plain request (or an `hx-boost` navigation, which swaps the body) and
only its fragment to other htmx requests; both come from one template, the page including the fragment."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Response, redirect, render_template
from htmx_flask import make_response, request


def is_htmx() -> bool:
    return bool(request.htmx)


def wants_fragment() -> bool:
    """htmx asked for a piece of a page: not a boosted navigation and not a history restore
    (after a cache miss htmx reloads the whole page, which must not be a bare fragment)."""
    return is_htmx() and not request.htmx.boosted and not request.htmx.history_restore_request


def render(template: str, fragment: str | None = None, status: int = 200, **context):
    """The page `template` for a plain request, `fragment` (the partial it includes) for an htmx one."""
    name = fragment if fragment is not None and wants_fragment() else template
    return render_template(name, **context), status


def go(location: str, code: int = 303) -> Response:
    """Redirect after a change; an htmx request gets HX-Redirect (a full page load) instead."""
    if is_htmx():
        current = urlsplit(request.htmx.current_url or "")
        target = urlsplit(location)
        if (target.path, target.query) == (current.path, current.query) and not target.netloc:
            # Only the #fragment differs: the browser would just scroll, so reload (the flash shows).
            return make_response("", 200, refresh=True)
        return make_response("", 200, redirect=location)
    return redirect(location, code)


def here() -> str:
    """The page the user is on: for an htmx request the browser's URL, not the fragment's."""
    return (request.htmx.current_url or request.url) if is_htmx() else request.url


def vary_on_htmx(response: Response) -> Response:
    """For after_request: the same URL answers a page or a fragment, so caches must key on HX-Request."""
    response.vary.add("HX-Request")
    return response
