"""What the editor says after a save, in Chromium: next to the button that saved, on screen; deletes ask a
question that names what goes (in the browser with JavaScript, on a page of its own without)."""

from __future__ import annotations

from playwright.sync_api import expect

from app.db import db
from tests.browser.test_creator_portal import log_in
from tests.factories import Factory


def near(page, first: str, second: str) -> float:
    """Vertical distance in px between two elements."""
    return page.evaluate(
        """([a, b]) => Math.abs(document.querySelector(a).getBoundingClientRect().top
                              - document.querySelector(b).getBoundingClientRect().top)""",
        [first, second],
    )


def in_view(page, selector: str) -> bool:
    return page.evaluate(
        """(s) => { const r = document.querySelector(s).getBoundingClientRect();
                    return r.top >= 0 && r.bottom <= window.innerHeight; }""",
        selector,
    )


def test_saved_shows_next_to_its_button_and_deletes_name_what_goes(page, server):
    user = server.user("creator")
    with server.app.app_context(), db.connection_context():
        factory = Factory(server.app)
        festival = factory.create("festival", user, name="Feedback Fest", description="Long text. " * 200)
        festival_id = festival["festival_id"]
        artist = factory.create("artist", user, name="Nina Simone")["artist_id"]
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, user.email)
    page.goto(f"/festivals/{festival_id}")

    details = page.locator("#festival-form")
    details.get_by_label("Price").fill("20 €")
    details.get_by_role("button", name="Save details").click()
    expect(page.locator("#details-notice")).to_have_text("Saved.")
    assert in_view(page, "#details-notice")  # where the person is looking, not 558 px above
    assert near(page, "#details-notice", "#festival-form button[type=submit]") < 80

    page.locator("#place-form").get_by_label("Town").fill("Leipzig")
    page.locator("#place-form").get_by_role("button", name="Save place").click()
    expect(page.locator("#place-notice")).to_have_text("The place is saved.")
    assert in_view(page, "#place-notice")

    page.locator("#festival-links").get_by_label("URL").fill("https://feedback.example.org/")
    page.locator("#festival-links").get_by_role("button", name="Add link").click()
    expect(page.locator("#links-notice")).to_have_text("The link is added.")
    questions = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.accept()))
    page.locator("#festival-links").get_by_role("button", name="Delete https://feedback.example.org/").click()
    expect(page.locator("#links-notice")).to_have_text("“https://feedback.example.org/” is deleted.")
    assert questions == ["Delete the link “https://feedback.example.org/”?"]

    page.goto(f"/library/artists/{artist}")
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.dismiss()))
    page.get_by_role("button", name="Delete artist “Nina Simone”").click()
    assert questions[-1] == "Delete artist “Nina Simone”?"
    expect(page.get_by_role("heading", name="Nina Simone")).to_be_visible()  # said no: still there


def test_deletes_ask_on_a_page_of_their_own_without_javascript(page_without_js, server):
    page = page_without_js
    user = server.user("creator")
    with server.app.app_context(), db.connection_context():
        artist = Factory(server.app).create("artist", user, name="Bo Diddley")["artist_id"]
    log_in(page, user.email)
    page.goto(f"/library/artists/{artist}")
    page.get_by_role("button", name="Delete artist “Bo Diddley”").click()
    expect(page.get_by_role("heading", name="Delete artist “Bo Diddley”?")).to_be_visible()
    page.get_by_role("link", name="No, keep it").click()
    expect(page.get_by_role("heading", name="Bo Diddley")).to_be_visible()
    page.get_by_role("button", name="Delete artist “Bo Diddley”").click()
    page.get_by_test_id("confirm").click()
    expect(page.get_by_text("“Bo Diddley” is deleted.")).to_be_visible()
