"""Image upload from the festival editor in Chromium: the file goes from the page straight to a real file
server process (token minted by the app for the logged-in user), then the app records it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect

from app.db import db
from app.models import Festival
from tests.browser.conftest import _page
from tests.browser.test_creator_portal import create_festival, log_in
from tests.fileserver.conftest import FileServer, image_bytes, server_env
from tests.processes import starts_process


@pytest.fixture
@starts_process
def files_for(server):
    """The file server beside the served app: the app's instance folder (its identity keys), the app's
    origin allowed to upload; the app told where it is."""
    instance = Path(server.app.instance_path)
    files = FileServer(instance, None, server_env(instance, FESTIVALS_PORTAL_ORIGIN=server.url))
    server.app.config["FILES_URL"] = files.url
    yield files
    files.stop()


def festival_editor(browser, server, files_for, name: str):
    """(context, page): a new creator logged in, on the editor of a festival just created, in a browser that may
    talk to the file server."""
    context, page = _page(browser, server, extra_origins=(files_for.url,))
    log_in(page, server.user("creator").email)
    create_festival(page, name)
    return context, page


@pytest.mark.processes
def test_creator_uploads_a_festival_image(browser, server, files_for, tmp_path, screenshot):
    picture = tmp_path / "poster.jpg"
    picture.write_bytes(image_bytes("JPEG", (1600, 900)))
    context, page = festival_editor(browser, server, files_for, "Poster Fest")

    page.get_by_label("Choose an image").set_input_files(str(picture))
    # the file server strips metadata and answers; on a loaded CI machine that can take longer than expect's 5 s
    expect(page.locator("[data-upload-status]")).to_contain_text("Uploaded", timeout=30_000)
    expect(page.locator("[data-upload-preview]")).to_be_visible()
    page.get_by_label("Caption").fill("The poster")
    page.get_by_role("button", name="Save image").click()
    expect(page.get_by_text("The image is saved.")).to_be_visible()
    current = page.get_by_test_id("current-image")
    expect(current).to_have_attribute("src", re.compile(re.escape(files_for.url) + r"/images/[0-9a-f]{64}\?w=320$"))
    # the thumbnail is made on its first request: wait until the browser has it, then check its width
    page.wait_for_function("document.querySelector('[data-testid=current-image]').complete", timeout=30_000)
    assert page.evaluate("document.querySelector('[data-testid=current-image]').naturalWidth") == 320
    screenshot(page, "festival-editor-image")

    with server.app.app_context(), db.connection_context():
        festival = Festival.get(Festival.name == "Poster Fest")
    ref = page.get_by_test_id("current-image").get_attribute("src").split("?")[0]
    assert requests.get(ref, timeout=5).status_code == 200 and festival.id
    context.close()
