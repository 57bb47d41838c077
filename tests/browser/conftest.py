"""Real-browser tests: the app served over HTTP from a background thread (werkzeug, a free port on
127.0.0.1, the test's own temporary database), driven by Debian's Chromium through playwright."""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from app.db import db
from tests.factories import Factory
from tests.processes import starts_chromium

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"  # gitignored; for a reviewer's eyes


@dataclass
class Served:
    app: Flask
    url: str
    outside_requests: list[str] = field(default_factory=list)

    def user(self, role: str = "creator", **kwargs):
        """An account made through the services, in the served app's database."""
        with self.app.app_context(), db.connection_context():
            return Factory(self.app).user(role, **kwargs)


@pytest.fixture
def server(make_app):
    app = make_app()
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, name="browser-test-server", daemon=True)
    thread.start()
    yield Served(app, f"http://127.0.0.1:{http.server_port}")
    http.shutdown()
    thread.join(timeout=10)
    http.server_close()


# What a locator does to the page (a click, typing, a choice) waits first for the page to have loaded, as a person
# waits for it: after a click that loads a new page, its elements show before its deferred scripts (htmx) ran, and
# an action on them then did what it does without JavaScript (a plain form post) and the test failed on a busy
# machine. Immediate when the page has loaded.
WAITING_ACTIONS = (
    "check",
    "click",
    "dblclick",
    "drag_to",
    "fill",
    "press",
    "press_sequentially",
    "select_option",
    "set_checked",
    "set_input_files",
    "tap",
    "type",
    "uncheck",
)


_NOT_WAITING: set[int] = set()  # id() of the pages inside `while_loading`


@contextmanager
def while_loading(page):
    """Actions on `page` inside do not wait for it to load: for a test of what one does before its scripts ran."""
    _NOT_WAITING.add(id(page))
    try:
        yield page
    finally:
        _NOT_WAITING.discard(id(page))


@pytest.fixture(scope="session", autouse=True)
def actions_wait_for_the_loaded_page():
    from playwright.sync_api import Locator

    def waiting(action):
        def act(self, *args, **kwargs):
            if id(self.page) not in _NOT_WAITING:
                self.page.wait_for_load_state()
            return action(self, *args, **kwargs)

        return act

    with pytest.MonkeyPatch.context() as patch:
        for name in WAITING_ACTIONS:
            patch.setattr(Locator, name, waiting(getattr(Locator, name)))
        yield


@pytest.fixture(scope="session")
@starts_chromium
def browser():
    if not os.path.isfile(CHROMIUM) or not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"The browser tests need Debian's Chromium at {CHROMIUM}, and it is missing. "
            "Install it with `apt-get install chromium`.",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _page(browser, server: Served, extra_origins: tuple[str, ...] = (), **options):
    """A fresh browser context on the served app; `extra_origins` (e.g. a file server) may be loaded too."""
    context = browser.new_context(base_url=server.url, **options)
    context.set_default_timeout(10_000)
    allowed = tuple(origin + "/" for origin in (server.url, *extra_origins))

    def only_our_server(route):  # pages load nothing from the network: anything else is refused and noted
        if route.request.url.startswith(allowed):
            route.continue_()
        else:
            server.outside_requests.append(route.request.url)
            route.abort()

    context.route("**/*", only_our_server)
    return context, context.new_page()


@pytest.fixture
def page(browser, server):
    context, page = _page(browser, server)
    yield page
    context.close()
    assert not server.outside_requests, f"pages asked for outside resources: {server.outside_requests}"


@pytest.fixture
def page_without_js(browser, server):
    context, page = _page(browser, server, java_script_enabled=False)
    yield page
    context.close()


@pytest.fixture
def screenshot():
    SCREENSHOTS.mkdir(exist_ok=True)

    def take(page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


# A 5-minute row's top and height in the window: rows grow where an event's text needs the room, so they are read
# from the grid's laid-out rows (its first row holds the stages' names).
ROW = """(grid, row) => {
  const heights = getComputedStyle(grid).gridTemplateRows.split(' ').slice(1).map(parseFloat);
  const top = grid.querySelector('.tt-body').getBoundingClientRect().top;
  return {top: top + heights.slice(0, row).reduce((sum, height) => sum + height, 0), height: heights[row]};
}"""


def row_box(grid, at: int) -> dict:
    """The top and height of the row of the moment `at` on `grid` (a day's timetable)."""
    return grid.evaluate(ROW, (at - int(grid.get_attribute("data-day-start"))) // 300)
