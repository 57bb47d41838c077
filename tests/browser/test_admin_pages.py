"""An admin at work in Chromium, over real HTTP: log in, change a user's role, create an API key (shown
once), revoke it (the API then refuses it); and the same revoke without JavaScript, through the
confirmation page."""

from __future__ import annotations

import re
import urllib.error
import urllib.request

from playwright.sync_api import expect

from app.db import db
from app.models import User
from tests.browser.test_login_pages import fill_login
from tests.factories import PASSWORD, Factory


def log_in_admin(page, email: str) -> None:
    page.goto("/login")
    fill_login(page, email, PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_test_id("account")).to_have_text(email)


def api_status(server, key: str) -> int:
    request = urllib.request.Request(server.url + "/api/v1/festivals", headers={"Api-Key": key})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def role_of(server, user_id: int) -> str:
    with server.app.app_context(), db.connection_context():
        return User.get_by_id(user_id).role


def create_key(page, comment: str) -> str:
    section = page.locator("#keys-api")
    section.get_by_label("Comment").fill(comment)
    section.get_by_role("button", name="Create API key").click()
    value = page.get_by_test_id("new-key-value")
    expect(value).to_have_value(re.compile(r"^fa_[0-9a-f]{8}_"))
    return value.input_value()


def test_admin_changes_a_role_and_creates_then_revokes_a_key(page, server, screenshot):
    admin = server.user("admin", email="admin@example.org")
    target = server.user("user", email="fan@example.org")
    server.user("creator", email="carla@example.org")
    log_in_admin(page, admin.email)

    page.get_by_role("link", name="Admin", exact=True).click()
    expect(page).to_have_url(server.url + "/admin/users")
    expect(page.get_by_role("heading", name="Users", level=1)).to_be_visible()

    # Search as you type narrows the table without a page load.
    page.get_by_label("Search by email").fill("fan@")
    expect(page.locator("#user-results tbody tr")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"/admin/users\?q=fan%40$"))

    row = page.locator(f"#user-{target.id}")
    row.get_by_label(f"Role of {target.email}", exact=True).select_option("creator")
    row.get_by_role("button", name=f"Change role of {target.email}").click()
    expect(page.locator(f"#user-{target.id}")).to_contain_text("fan@example.org is now creator.")
    assert role_of(server, target.id) == "creator"

    page.get_by_label("Search by email").fill("")
    expect(page.locator("#user-results tbody tr")).to_have_count(3)
    screenshot(page, "admin-users")

    page.get_by_role("navigation", name="Admin").get_by_role("link", name="Keys").click()
    expect(page.get_by_role("heading", name="API and service keys")).to_be_visible()
    key = create_key(page, "Browser test app")
    expect(page.locator("#keys-api tbody tr").first).to_contain_text("Browser test app")
    screenshot(page, "admin-keys-new")
    assert api_status(server, key) == 200

    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#keys-api tbody tr").first.get_by_role("button", name=re.compile("^Revoke the key")).click()
    expect(page.locator("#keys-api")).to_contain_text("is revoked")
    expect(page.locator("#keys-api tbody tr").first).to_contain_text("Revoked")
    expect(page.get_by_test_id("new-key-value")).to_have_count(0)  # the key is never shown again
    assert api_status(server, key) == 401


def test_revoke_without_javascript_goes_through_a_confirmation_page(page_without_js, server):
    page = page_without_js
    admin = server.user("admin", email="admin@example.org")
    log_in_admin(page, admin.email)
    page.goto("/admin/keys")
    key = create_key(page, "No-JS app")
    page.goto("/admin/keys")
    page.locator("#keys-api tbody tr").first.get_by_role("button", name=re.compile("^Revoke the key")).click()
    expect(page.get_by_role("heading", name="Revoke this key?")).to_be_visible()
    assert api_status(server, key) == 200  # nothing revoked before the confirmation
    page.get_by_role("button", name="Revoke the key").click()
    expect(page).to_have_url(re.compile(r"/admin/keys"))
    expect(page.locator(".flash")).to_contain_text("is revoked")
    assert api_status(server, key) == 401


def test_admin_transfers_a_festival_gets_a_reset_link_and_filters_the_audit_log(page, server, screenshot):
    admin = server.user("admin", email="admin@example.org")
    carla = server.user("creator", email="carla@example.org")
    server.user("creator", email="dora@example.org")
    with server.app.app_context(), db.connection_context():
        Factory(server.app).create("festival", carla, name="Lakeside Sounds")
    log_in_admin(page, admin.email)

    page.goto("/admin/users")
    page.get_by_role("button", name=f"Password reset link for {carla.email}").click()
    link = page.get_by_test_id("reset-link")
    expect(link).to_have_value(re.compile(re.escape(server.url) + r"/reset/[A-Za-z0-9_-]{20,}$"))

    page.get_by_role("navigation", name="Admin").get_by_role("link", name="Festivals").click()
    row = page.locator("tbody tr", has_text="Lakeside Sounds")
    expect(row.get_by_test_id("owner")).to_have_text("carla@example.org")
    row.get_by_label("New owner of Lakeside Sounds (email)").fill("nobody@example.org")
    row.get_by_role("button", name="Transfer Lakeside Sounds").click()
    expect(row.get_by_role("alert")).to_have_text("There is no account with the email nobody@example.org.")
    row.get_by_label("New owner of Lakeside Sounds (email)").fill("dora@example.org")
    row.get_by_role("button", name="Transfer Lakeside Sounds").click()
    expect(row.get_by_test_id("owner")).to_have_text("dora@example.org")
    screenshot(page, "admin-festivals")

    page.get_by_role("navigation", name="Admin").get_by_role("link", name="Audit log").click()
    page.get_by_label("User (email or id)").fill(admin.email)
    page.get_by_label("Entity").select_option("festival")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"/admin/audit\?user=admin%40example.org&entity=festival"))
    expect(page.locator("#audit-log tbody tr")).to_have_count(1)
    entry = page.locator("#audit-log tbody tr")
    expect(entry).to_contain_text("festival “Lakeside Sounds”")
    expect(entry).to_contain_text("Handed from carla@example.org to dora@example.org")
    page.get_by_label("From (UTC)").fill("2020-02-01")
    page.get_by_label("To (UTC, inclusive)").fill("2020-01-01")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#until-error")).to_have_text("Must not be before “From”.")
    screenshot(page, "admin-audit")
