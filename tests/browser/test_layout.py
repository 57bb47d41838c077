"""Every portal and admin page in Chromium at a phone's, a tablet's and a desktop's width, with realistic data
(a 255-character tag, a long link, 24 events with long German names on 3 days and 3 stages, in Europe/Berlin):
nothing scrolls the page sideways or sticks out of its box (no control outside the viewport), no button is cut
off, the events' times and the admin's emails fit on a line or two, the console stays clean and no request
fails; axe-core (from node_modules, served to the page by the test only) finds no serious or critical
accessibility issue on the main pages. Screenshots of each width go to screenshots/."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from app.db import db
from app.permissions import Actor
from app.services import api_keys, details, timetable
from tests.browser.conftest import SCREENSHOTS, _page
from tests.browser.test_admin_pages import log_in_admin
from tests.factories import Factory

WIDTHS = {"phone": (390, 844), "tablet": (768, 1024), "desktop": (1440, 900)}
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
AXE_URL = "/__test__/axe.min.js"  # answered by the test's route, never by the app
LONG_TAG = ("Neo-psychedelic-kraut-" * 12)[:255]
LONG_LINK = "https://example.org/festivals/2027/lineup/" + "a-rather-long-path-segment-" * 6 + "?ref=newsletter"
DAY = 1814090400  # Sun 2027-06-27 10:00 UTC

# What a page may not show: measured in the page, one sentence per problem.
# The events table's times and the admin's email addresses: a line or two each, never a word per line.
TIME_CELLS = "#event-rows > tr:not(.editing) > td.time > span, tr[data-email] .email"
CHECKS = """(TIME_CELLS) => {
  const problems = [];
  const width = window.innerWidth;
  const root = document.documentElement;
  const classes = (el) => typeof el.className === 'string' ? el.className.trim().split(/\\s+/).join('.') : '';
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (classes(el) ? '.' + classes(el) : '')
      + ' "' + (el.innerText || el.value || '').trim().slice(0, 30) + '"';
  const mayScroll = (el) => el.closest('.timetable-scroll');  // the timetable's grid scrolls sideways on purpose
  const shown = (el) => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  if (root.scrollWidth > width + 1) problems.push(`the page scrolls sideways (${root.scrollWidth}px wide)`);
  for (const el of document.body.querySelectorAll('*')) {
    if (mayScroll(el) || !shown(el) || el.closest('.visually-hidden')) continue;
    const box = el.getBoundingClientRect();
    if (box.right > width + 1 || box.left < -1) { problems.push('sticks out of the window: ' + name(el)); continue; }
    const style = getComputedStyle(el);
    const clips = ['auto', 'scroll', 'hidden', 'clip'].includes(style.overflowX);
    if (clips && !el.matches('input, textarea, select') && el.scrollWidth > el.clientWidth + 1) {
      problems.push(`cuts off or scrolls its content (${el.scrollWidth}px in ${el.clientWidth}px): ` + name(el));
    }
  }
  for (const button of document.body.querySelectorAll('button, [role=button], input[type=submit]')) {
    if (mayScroll(button) || !shown(button)) continue;
    const box = button.getBoundingClientRect();
    for (let box2, up = button.parentElement; up && up !== document.body; up = up.parentElement) {
      if (getComputedStyle(up).overflowX === 'visible') continue;
      box2 = up.getBoundingClientRect();
      if (box.right > box2.right + 1 || box.left < box2.left - 1) {
        problems.push('button cut off: ' + name(button));
        break;
      }
    }
  }
  // Text stays inside its box (the nearest element that is not inline: a cell, a button, a timetable block) and
  // wraps between words: a word of two or more letters or digits split across lines is broken mid-word. Links,
  // emails and tags may break at their hyphens, dots, slashes and @ (those end a word here).
  const range = document.createRange();
  const texts = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const skip = '.visually-hidden, script, style, template, select, textarea, [aria-hidden="true"]';
  for (let node = texts.nextNode(); node; node = texts.nextNode()) {
    const holder = node.parentElement;
    if (!node.textContent.trim() || holder.closest(skip) || !shown(holder)) continue;
    let box = holder;
    while (getComputedStyle(box).display.startsWith('inline') && box.parentElement) box = box.parentElement;
    range.selectNodeContents(node);
    const text = range.getBoundingClientRect(), outer = box.getBoundingClientRect();
    if (text.right > outer.right + 2 || text.left < outer.left - 2 || text.bottom > outer.bottom + 4) {
      const past = [text.left - outer.left, outer.right - text.right, outer.bottom - text.bottom].map(Math.round);
      problems.push(`text overflows its box (left, right, bottom: ${past.join(', ')}px): ` + name(box));
      continue;
    }
    for (const word of node.textContent.matchAll(/[\\p{L}\\p{N}]{2,}/gu)) {
      range.setStart(node, word.index);
      range.setEnd(node, word.index + word[0].length);
      const lines = new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top)));
      if (lines.size > 1) { problems.push(`a word is broken across lines: "${word[0]}" in ` + name(box)); break; }
    }
  }
  for (const cell of document.querySelectorAll(TIME_CELLS)) {
    const text = document.createRange();  // the text's own height: the cell is as tall as its row
    text.selectNodeContents(cell);
    const lines = text.getBoundingClientRect().height / parseFloat(getComputedStyle(cell).lineHeight);
    if (lines > 2.6) problems.push(`a time or an email takes ${Math.round(lines)} lines: ` + name(cell));
  }
  return [...new Set(problems)].slice(0, 20);
}"""

AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.filter((v) => ['serious', 'critical'].includes(v.impact))
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ` + v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', '));
}"""


POST_FORM = """([path, fields]) => {  // a plain form (htmx never sees it), with the page's CSRF token
  const form = Object.assign(document.createElement('form'), {method: 'post', action: path});
  const token = document.querySelector('meta[name="csrf-token"]').content;
  for (const [name, value] of Object.entries({csrf_token: token, ...fields})) {
    form.appendChild(Object.assign(document.createElement('textarea'), {name, value}));
  }
  document.body.appendChild(form);
  form.submit();
}"""
CSV = "name,day,start,end,stage,artists\nLate set with a long name,2027-06-27,22:00,23:30,Main stage,Ada Lovelace\n"
ODD_CSV = "Programmpunkt;Tag;Beginn;Ende;Bühne\nLesung;2027-06-27;11:00;12:00;Zelt\n"


class Visit:
    """One browser tab that notes console errors and failed requests, and checks pages at every width."""

    def __init__(self, browser, server):
        self.context, self.page = _page(browser, server)
        self.problems: list[str] = []
        self.where = ""
        self.page.on("console", self.console)
        self.page.on("pageerror", lambda error: self.note(f"script error: {error}"))
        self.expected_status = 200  # a page opened to show its error (a 403 page) is no failed request
        self.page.on(
            "response",
            lambda r: (
                r.status >= 400
                and r.status != self.expected_status
                and self.note(f"{r.status} for {r.request.method} {r.url}")
            ),
        )
        self.page.on(
            "requestfailed",
            lambda r: "ERR_ABORTED" not in (r.failure or "") and self.note(f"failed: {r.url} ({r.failure})"),
        )
        axe = AXE.read_text(encoding="utf-8")
        self.context.route("**" + AXE_URL, lambda route: route.fulfill(body=axe, content_type="text/javascript"))

    def console(self, message) -> None:
        if message.type == "error" and f"status of {self.expected_status}" not in message.text:
            self.note(f"console: {message.text}")

    def note(self, problem: str) -> None:
        self.problems.append(f"{self.where}: {problem}")

    def check(self, path: str, shot: str | None = None, axe: bool = False, act=None, status: int = 200) -> None:
        """Open `path`, do `act(page)` (typing that sends htmx requests), then measure it at each width."""
        self.where, self.expected_status = path, status
        self.page.set_viewport_size({"width": WIDTHS["desktop"][0], "height": WIDTHS["desktop"][1]})
        response = self.page.goto(path)
        assert response is not None and response.status == status, f"{path}: {response and response.status}"
        if act is not None:
            act(self.page)
        self.measure(path, shot)
        if axe:
            self.where = f"{path} (axe)"
            self.page.add_script_tag(url=AXE_URL)
            for violation in self.page.evaluate(AXE_RUN):
                self.note(violation)

    def measure(self, path: str, shot: str | None) -> None:
        for label, (width, height) in WIDTHS.items():
            self.where = f"{path} at {width}px"
            self.page.set_viewport_size({"width": width, "height": height})
            for problem in self.page.evaluate(CHECKS, TIME_CELLS):
                self.note(problem)
            if shot:
                self.page.screenshot(path=str(SCREENSHOTS / f"layout-{shot}-{label}.png"), full_page=True)

    def check_post(self, path: str, fields: dict, shot: str | None = None) -> None:
        """A page that answers a form (a confirmation, an import preview): posted as a plain form, as without
        JavaScript, then measured like the others."""
        self.where = path
        self.page.set_viewport_size({"width": WIDTHS["desktop"][0], "height": WIDTHS["desktop"][1]})
        with self.page.expect_navigation() as answer:
            self.page.evaluate(POST_FORM, [path, fields])
        assert answer.value.status == 200, f"POST {path}: {answer.value.status}"
        self.measure(path, shot)

    def close(self) -> list[str]:
        self.context.close()
        return self.problems


def seed(server, owner) -> dict:
    """A festival as an organizer fills it in: place, links (one long), tags (one of 255 characters), 8 events
    on 3 days and 3 stages with long German names, one overlap; what the pages below open."""
    with server.app.app_context(), db.connection_context():
        factory, actor = Factory(server.app), Actor("user", user_id=owner.id, role=owner.role)
        festival = factory.create(
            "festival",
            owner,
            name="Lakeside Sounds & Friends Open Air — the Long Weekend Edition",
            start=DAY - 6 * 3600,
            end=DAY + 2 * 86400,
            price="From 49 € (early bird), 79 € at the gate",
            description="Three stages by the lake. " * 20,
            timezone="Europe/Berlin",
        )
        festival_id = festival["festival_id"]
        details.save_to_one(
            "festival", festival_id, "place", actor, {"place_street": "Seestraße 1", "place_town": "Leipzig"}
        )
        for url in (LONG_LINK, "https://lakeside.example.org/"):
            details.create_linked("festival", festival_id, "links", actor, {"link_url": url})
        for tag in (LONG_TAG, "open air", "jazz"):
            details.add_tag("festival", festival_id, tag, actor)
        stages = ["Hauptbühne am Blauen Wunder", "Zelt an der alten Bootshausbrücke", "Waldbühne"]
        events = []
        for number in range(24):  # 3 days, 3 stages, one overlap (a warning) on the first day
            start = DAY + (number // 8) * 86400 + (number % 8) * 5400 - (1800 if number == 3 else 0)
            saved = timetable.save_event(
                festival_id,
                None,
                actor,
                {
                    "event_name": f"Set {number + 1}: Großes Abschlusskonzert des Sächsischen Landesjugendorchesters",
                    "event_start": start,
                    "event_end": start + 4500,
                },
                ["Jördis Müller-Lüdenscheidt und das Kammerensemble Dresden-Neustadt", f"Bö {number}"],
                stages[number % 3],
            )
            events.append(saved["event_id"])
        location = factory.create("location", owner, name="Backyard stage with a rather long name")
        tag = details.find_or_create_tag(LONG_TAG, actor)[0]
        return {"festival": festival_id, "event": events[0], "location": location["location_id"], "tag": tag}


def test_creator_pages_fit_every_width_with_a_clean_console(browser, server):
    from tests.browser.test_creator_portal import log_in

    SCREENSHOTS.mkdir(exist_ok=True)
    creator = server.user("creator", email="organizer.with.a.long.address@festivals.example.org")
    ids = seed(server, creator)
    festival = f"/festivals/{ids['festival']}"
    visit = Visit(browser, server)
    log_in(visit.page, creator.email)

    def edit_price(page):  # inline validation: an htmx request from a field inside the form
        with page.expect_response(lambda r: r.url.endswith("/festivals/check")):
            page.locator("#festival-form").get_by_label("Price").fill("50 €")
            page.locator("#festival-form").get_by_label("Price").blur()

    def type_artist(page):  # suggestions as one types
        with page.expect_response(lambda r: "/names/artist" in r.url):
            page.locator("#event-add-form").get_by_label("Artists").press_sequentially("Ad")

    def search(page):
        with page.expect_response(lambda r: "/library/artists?" in r.url):
            page.get_by_label("Search artists").press_sequentially("ada")

    visit.check("/festivals", shot="dashboard", axe=True)
    visit.check("/festivals/new")
    visit.check(festival, shot="editor", axe=True, act=edit_price)
    visit.check(f"{festival}/events", shot="events", axe=True, act=type_artist)
    assert visit.page.locator(TIME_CELLS).count() == 24  # the time check above measured every event
    visit.check(f"{festival}/events/{ids['event']}/edit", shot="event-edit")
    visit.check(f"{festival}/timetable", shot="timetable", axe=True)

    def open_block(page):  # an event's editor in the timetable's dialog
        page.get_by_test_id("tt-event").first.get_by_role("link").first.click()
        expect(page.locator("#tt-dialog")).to_be_visible()

    visit.check(f"{festival}/timetable", shot="timetable-dialog", act=open_block)
    visit.check(f"{festival}/preview")
    visit.check(f"{festival}/import")
    visit.check(f"{festival}/delete")
    visit.check("/library/artists", shot="library", axe=True, act=search)
    for kind in ("locations", "links", "tags"):
        visit.check(f"/library/{kind}")
    visit.check(f"/library/locations/{ids['location']}", shot="library-item")
    visit.check(f"/library/tags/{ids['tag']}")
    visit.check(f"{festival}/events/{ids['event']}/move")
    visit.check_post(f"/library/locations/{ids['location']}/delete", {}, shot="confirm")
    visit.check_post(f"{festival}/import", {"text": CSV}, shot="import-preview")
    visit.check_post(f"{festival}/import", {"text": ODD_CSV})
    visit.check("/account/password")
    visit.check(f"{festival}/events/new?at={DAY + 3600}&stage=Waldbühne", shot="event-new")
    visit.check(f"/{ids['festival']}", shot="public-schedule", axe=True)  # the visitors' page
    visit.check(f"/{ids['festival']}?q=Abschlusskonzert&stage=Waldbühne")
    visit.check(f"/{ids['festival']}?q=Tango", shot="public-no-match")
    visit.check("/admin/users", shot="forbidden", status=403)  # a creator on an admin page: the 403 page
    problems = visit.close()
    assert not problems, "\n".join(problems)


def test_empty_pages_say_what_to_do_at_every_width(browser, server):
    """A new organizer's pages before anything is in them: each says what is missing and how to add it."""
    from tests.browser.test_creator_portal import log_in

    SCREENSHOTS.mkdir(exist_ok=True)
    creator = server.user("creator", email="neue.veranstalterin@festivals.example.org")
    visit = Visit(browser, server)
    log_in(visit.page, creator.email)
    visit.check("/festivals", shot="empty-dashboard")
    expect(visit.page.get_by_test_id("empty-state")).to_contain_text("No festivals yet")
    with server.app.app_context(), db.connection_context():
        festival = Factory(server.app).create("festival", creator, name="Sächsisches Landesjugendfestival")
    path = f"/festivals/{festival['festival_id']}"
    for page, shot, says in (
        ("/events", "empty-events", "No events yet"),
        ("/timetable", "empty-timetable", "Nothing on the timetable yet"),
        ("/preview", None, "No events with a time yet"),
    ):
        visit.check(path + page, shot=shot)
        expect(visit.page.get_by_test_id("empty-state")).to_contain_text(says)
    expect(visit.page.get_by_test_id("empty-state").get_by_role("link")).to_have_attribute("href", f"{path}/events")
    visit.check(path, shot="empty-editor")
    visit.check("/library/artists", shot="empty-library")
    expect(visit.page.get_by_test_id("empty-state")).to_contain_text("No artists yet")
    visit.check_post(f"{path}/import", {"text": "name,day,start,end,stage\nLesung,2027-06-27,11:00,10:00,Zelt\n"})
    expect(visit.page.get_by_test_id("nothing-to-import")).to_contain_text("Nothing to import")
    problems = visit.close()
    assert not problems, "\n".join(problems)


def test_pages_before_logging_in_fit_every_width(browser, server):
    visit = Visit(browser, server)
    visit.check("/", shot="home", axe=True)
    visit.check("/reset/not-a-token", shot="reset-invalid", status=404)
    visit.check("/logout")
    problems = visit.close()
    assert not problems, "\n".join(problems)


def test_admin_pages_fit_every_width_with_a_clean_console(browser, server):
    SCREENSHOTS.mkdir(exist_ok=True)
    admin = server.user("admin", email="admin.with.a.long.address@festivals.example.org")
    creator = server.user("creator", email="someone.else@example.org")
    for number in range(3):
        server.user("user", email=f"visitor-number-{number}-with-a-long-name@mail.example.org")
    seed(server, creator)
    with server.app.app_context(), db.connection_context():
        _, key = api_keys.create_key("The iOS app's key for the 2027 season (TestFlight builds included)")
        api_keys.create_key("gateway", "service")
    visit = Visit(browser, server)
    visit.check("/login", shot="login", axe=True)
    visit.check("/signup")
    log_in_admin(visit.page, admin.email)
    expect(visit.page.get_by_test_id("account")).to_be_visible()

    def search(page):
        with page.expect_response(lambda r: "/admin/users?" in r.url):
            page.get_by_label("Search by email").press_sequentially("visitor")

    visit.check("/admin/users", shot="admin-users", axe=True, act=search)
    visit.check("/admin/keys", shot="admin-keys", axe=True)
    visit.check("/admin/festivals", shot="admin-festivals", axe=True)
    visit.check("/admin/audit", shot="admin-audit", axe=True)
    visit.check("/admin/audit?entity=event")
    visit.check("/admin/services", shot="admin-services")
    visit.check("/festivals", shot="admin-dashboard")
    visit.check("/library/artists", shot="admin-library", axe=True)
    visit.check_post(f"/admin/keys/{key.id}/revoke", {}, shot="admin-key-revoke")
    visit.check_post(f"/admin/users/{creator.id}/reset-link", {}, shot="admin-reset-link")
    problems = visit.close()
    assert not problems, "\n".join(problems)


def test_the_icon_is_served_where_browsers_look_for_it(app):
    client = app.test_client()
    linked = client.get("/static/favicon.ico")
    assert linked.status_code == 200 and linked.mimetype == "image/vnd.microsoft.icon"
    assert client.get("/favicon.ico").data == linked.data  # pages without the link, e.g. a JSON answer in a tab
    assert 'rel="icon"' in client.get("/api/docs").get_data(as_text=True)
