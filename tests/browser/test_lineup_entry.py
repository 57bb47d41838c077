"""Entering a line-up fast, by keyboard only: a skip link, the add form a few Tab presses from the page top,
and after each act the form keeps the day and the stage, proposes the next start and has the focus again.
24 acts on 3 days and 2 stages of a festival in Berlin, typed as an organizer in Dresden would."""

from __future__ import annotations

from playwright.sync_api import expect

from app.db import db
from app.models import Event
from tests.browser.conftest import _page
from tests.browser.test_creator_portal import log_in
from tests.browser.test_schedule_editor import BERLIN, festival_in_berlin

ACTS = [  # per day and stage: 4 acts of an hour, the first start typed, the others proposed
    "Jördis Müller-Lüdenscheidt",
    "Blechbläserensemble Görlitz",
    "Die Dresdner Straßenmusikanten",
    "Kammerchor Frauenkirche",
    "Ölmühlen-Trio",
    "Sächsische Bläserphilharmonie",
    "Überlandexpress",
    "Käthe Köhler Quartett",
]
DAYS = ["12", "13", "14"]  # Fri 12 – Sun 14 Jun 2026
STAGES = {"Hauptbühne am Blauen Wunder": "16:00", "Zelt am Elbufer": "16:30"}


def tab_to(page, field_id: str, limit: int = 40) -> int:
    """Press Tab until the field has the focus; how many presses it took."""
    for presses in range(limit):
        if page.evaluate("document.activeElement && document.activeElement.id") == field_id:
            return presses
        page.keyboard.press("Tab")
    raise AssertionError(f"{field_id} not reached in {limit} Tab presses")


def test_a_24_act_lineup_is_entered_by_keyboard(browser, server, screenshot):
    context, page = _page(browser, server, **BERLIN)
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    owner = server.user("creator")
    log_in(page, owner.email)
    festival_id = festival_in_berlin(page, "Elbhangfest Dresden")
    page.goto(f"/festivals/{festival_id}/events")

    # From the page top: the skip link comes first and shows; the add form is under 20 Tab presses away.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to the content")).to_be_focused()
    assert page.get_by_role("link", name="Skip to the content").bounding_box()["y"] >= 0  # visible when focused
    presses = 1 + tab_to(page, "event_name")
    assert presses < 20, presses
    outline = page.evaluate(
        "getComputedStyle(document.activeElement).outlineStyle + getComputedStyle(document.activeElement).boxShadow"
    )
    assert outline.strip() not in ("none", "nonenone"), outline  # the focus is visible

    count = 0
    for day in DAYS:
        for stage, first_start in STAGES.items():
            for number in range(4):
                name = f"{ACTS[(count + number) % len(ACTS)]} ({count + 1})"
                page.keyboard.type(name)
                if number == 0:  # a new day or stage: its first start and the stage are typed
                    # Chromium's date widget takes no typed digits under playwright: its value is set.
                    page.locator("#event_start").fill(f"2026-06-{day}T{first_start}")
                tab_to(page, "artists")
                page.keyboard.type(ACTS[(count + number) % len(ACTS)])
                if number == 0:
                    tab_to(page, "location")
                    page.keyboard.press("Control+a")
                    page.keyboard.type(stage)
                page.keyboard.press("Enter")
                expect(page.get_by_test_id("added")).to_contain_text(name)
                count += 1
                expect(page.locator("#event_name")).to_be_focused()
    expect(page.locator("#event-rows tr")).to_have_count(24)
    screenshot(page, "lineup-entered")

    with server.app.app_context(), db.connection_context():
        events = list(Event.select().order_by(Event.start, Event.name))
    assert len(events) == 24
    assert all(event.end - event.start == 3600 for event in events)
    page.goto(f"/festivals/{festival_id}/events")
    expect(page.locator("#event-rows tr.flagged")).to_have_count(0)  # no overlaps: each act after the one before
    row = page.locator("#event-rows tr", has_text="(4)")
    expect(row).to_contain_text("Fri 12 Jun 19:00 – 20:00")
    expect(row).to_contain_text("Hauptbühne am Blauen Wunder")
    expect(page.locator("#event-rows tr", has_text="(24)")).to_contain_text("Sun 14 Jun 19:30 – 20:30")
    assert not errors, errors
    context.close()
