"""Video upload in the festival editor and an artist's page, in Chromium: the trailer goes from the page straight
to a real file server process (progress bar, then the poster the file server takes at 10%), the app records it,
and it can be removed again."""

from __future__ import annotations

import io
import re

import requests
from PIL import Image
from playwright.sync_api import expect

from app.db import db
from app.models import Festival
from app.models.relations import FestivalVideo
from tests.browser.conftest import while_loading
from tests.browser.test_image_upload import festival_editor, files_for  # noqa: F401 - files_for: the file server beside the app
from tests.fileserver.conftest import image_bytes
from tests.videos import TRAILER_METADATA, make_video


def test_creator_uploads_a_festival_trailer_and_sees_its_poster(browser, server, files_for, tmp_path, screenshot):  # noqa: F811
    trailer = make_video(
        tmp_path / "Trailer Sommerklänge 2027.mp4", seconds=4, size=(640, 360), metadata=TRAILER_METADATA
    )
    context, page = festival_editor(browser, server, files_for, "Sommerklänge am Wörthersee")

    page.get_by_label("Choose a video").set_input_files(str(trailer))
    expect(page.locator("[data-video-status]")).to_contain_text("Uploaded (4 s, 640×360)", timeout=60_000)
    poster = page.locator("[data-video-poster]")
    expect(poster).to_be_visible()
    page.wait_for_function("document.querySelector('[data-video-poster]').naturalWidth > 0", timeout=60_000)
    page.get_by_role("button", name="Save video").click()
    expect(page.get_by_text("The video is saved.")).to_be_visible()
    current = page.get_by_test_id("current-video-poster")
    expect(current).to_have_attribute(
        "src", re.compile(re.escape(files_for.url) + r"/videos/[0-9a-f]{64}/poster\?w=320$")
    )
    page.wait_for_function("document.querySelector('[data-testid=current-video-poster]').naturalWidth === 320")
    screenshot(page, "festival-editor-video")
    with server.app.app_context(), db.connection_context():
        festival = Festival.get(Festival.name == "Sommerklänge am Wörthersee")
        linked = FestivalVideo.select().where(FestivalVideo.owner == festival.id).count()
    assert linked == 1
    shown = Image.open(io.BytesIO(requests.get(current.get_attribute("src"), timeout=30).content)).convert("RGB")
    red, green, _ = shown.getpixel((60, 90))
    assert red > 120 and green < 120, (red, green)  # the red of the picture, not the black fade-in

    page.get_by_role("button", name="Remove video").click()
    expect(page.get_by_text("The video is removed.")).to_be_visible()
    expect(page.get_by_test_id("current-video-poster")).to_have_count(0)
    assert server.outside_requests == []
    context.close()


def test_files_chosen_before_the_scripts_ran_are_uploaded_too(browser, server, files_for, tmp_path):  # noqa: F811
    """On a slow phone one may pick a file while the page is still loading: its change event fires before the
    upload scripts listen. Here the scripts are held back until both files are chosen."""
    trailer = make_video(tmp_path / "Trailer.mp4", seconds=2, size=(320, 180), metadata=TRAILER_METADATA)
    picture = tmp_path / "Plakat Sommerklänge.jpg"
    picture.write_bytes(image_bytes("JPEG", (1200, 800)))
    context, page = festival_editor(browser, server, files_for, "Sommerklänge am Wörthersee")
    held = []
    scripts = re.compile(r"/static/js/(app|videos)\.js")
    page.route(scripts, lambda route: held.append(route))

    page.goto(page.url, wait_until="commit")
    with while_loading(page):
        page.get_by_label("Choose an image").set_input_files(str(picture))
        page.get_by_label("Choose a video").set_input_files(str(trailer))
    for _ in range(200):  # the held requests reach the handler while playwright waits
        if len(held) == 2:
            break
        page.wait_for_timeout(50)
    assert len(held) == 2
    expect(page.locator("[data-upload-status]")).to_have_text("")  # nothing listened yet
    for route in held:
        route.continue_()
    page.unroute(scripts)

    expect(page.locator("[data-upload-status]")).to_contain_text("Uploaded", timeout=30_000)
    expect(page.locator("[data-video-status]")).to_contain_text("Uploaded (2 s, 320×180)", timeout=60_000)
    context.close()
