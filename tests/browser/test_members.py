"""Co-organizers in Chromium, at a phone's and a desktop's width: the owner adds an editor by the email of their
account (an unknown address is answered next to the field), the editor finds the festival on their dashboard,
edits an event, and is offered no way to delete the festival (and is refused the delete page)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from app.db import db
from app.models import Event, Festival
from tests.browser.conftest import _page
from tests.browser.test_creator_portal import log_in
from tests.browser.test_portal_fixes import festival_with_an_event

WIDTHS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1440, "height": 900}}


def fits(page) -> bool:
    """Nothing sticks out sideways (a long email address in the members section wraps)."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize("width", list(WIDTHS))
def test_owner_adds_an_editor_who_edits_an_event_and_cannot_delete_the_festival(browser, server, screenshot, width):
    owner = server.user("creator", email=f"katharina.mueller-luedenscheidt.{width}@elbhangfest.example")
    editor = server.user("creator", email=f"juergen.weiss.{width}@elbhangfest.example")
    festival_id, event_id = festival_with_an_event(server, owner)
    owner_context, as_owner = _page(browser, server, viewport=WIDTHS[width])
    editor_context, as_editor = _page(browser, server, viewport=WIDTHS[width])
    try:
        log_in(as_owner, owner.email)
        as_owner.goto(f"/festivals/{festival_id}")
        members = as_owner.locator("#festival-members")
        email = members.get_by_label("Email address of their account")
        email.fill("niemand@elbhangfest.example")
        members.get_by_role("button", name="Add editor").click()
        expect(members.locator(".field-error")).to_have_text("No account has this email address; they sign up first.")
        email = as_owner.locator("#festival-members").get_by_label("Email address of their account")
        email.fill(editor.email)
        as_owner.locator("#festival-members").get_by_role("button", name="Add editor").click()
        expect(as_owner.locator("#members-notice")).to_have_text(f"{editor.email} edits this festival now.")
        expect(as_owner.locator("#festival-members .member-email")).to_have_text([owner.email, editor.email])
        assert fits(as_owner), "the page scrolls sideways"
        screenshot(as_owner, f"members-owner-added-editor-{width}")

        log_in(as_editor, editor.email)
        dashboard = as_editor.locator("#festival-table")
        expect(dashboard).to_contain_text("Elbufer-Klänge Dresden")
        expect(dashboard.locator(".member-role")).to_have_text("editor")
        dashboard.get_by_role("link", name="Elbufer-Klänge Dresden").click()
        expect(as_editor.locator("#festival-title")).to_have_text("Elbufer-Klänge Dresden")
        expect(as_editor.get_by_role("link", name="Delete…")).to_have_count(0)
        expect(as_editor.get_by_role("button", name="Publish")).to_have_count(0)
        expect(as_editor.locator("#festival-members").get_by_role("button", name="Leave")).to_be_visible()
        assert fits(as_editor), "the page scrolls sideways"
        screenshot(as_editor, f"members-editor-festival-{width}")

        as_editor.get_by_role("navigation", name="Festival").get_by_role("link", name="Events").click()
        row = as_editor.locator(f"#event-{event_id}")
        row.get_by_role("button", name="Edit", exact=True).click()
        form = as_editor.locator(f"#event-{event_id} form")
        form.get_by_label("Name").fill("Lieder von der Elbe – mit Jürgen")
        form.get_by_role("button", name="Save event").click()
        expect(as_editor.locator(f"#event-{event_id}")).to_contain_text("Lieder von der Elbe – mit Jürgen")
        screenshot(as_editor, f"members-editor-edited-event-{width}")

        refused = as_editor.goto(f"/festivals/{festival_id}/delete")
        assert refused.status == 403
        expect(
            as_editor.get_by_text("only the owner of this festival or an admin can delete it", exact=False)
        ).to_be_visible()
        with server.app.app_context(), db.connection_context():
            assert Event.get_by_id(event_id).name == "Lieder von der Elbe – mit Jürgen"
            assert Festival.get_or_none(Festival.id == festival_id) is not None
    finally:
        owner_context.close()
        editor_context.close()
    assert not server.outside_requests
