"""The portal's login pages in Chromium: what a creator sees and does, over real HTTP."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.factories import PASSWORD

NEW_PASSWORD = "a brand new passphrase"


def fill_login(page, email: str, password: str) -> None:
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(password)


def account_link(page):
    return page.get_by_test_id("account")


def test_creator_logs_in_through_the_form(page, server, screenshot):
    user = server.user("creator")
    page.goto("/login")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    expect(page.get_by_label("Email")).to_be_focused()
    fill_login(page, user.email, PASSWORD)
    screenshot(page, "login-page")
    with page.expect_response(lambda r: r.url.endswith("/login") and r.request.method == "POST") as answer:
        page.get_by_role("button", name="Log in").click()
    # htmx posted the form (CSRF token in its header) and the server answered HX-Redirect
    assert answer.value.headers.get("hx-redirect") == "/"
    expect(page).to_have_url(server.url + "/festivals")  # a creator lands on the dashboard
    expect(account_link(page)).to_have_text(user.email)
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    screenshot(page, "logged-in")


def test_wrong_password_shows_the_error_and_keeps_the_email(page, server, screenshot):
    user = server.user("creator")
    page.goto("/login")
    fill_login(page, user.email, "not the password")
    page.get_by_role("button", name="Log in").click()
    error = page.locator("#login-error")
    expect(error).to_have_text("The email or password is wrong.")
    expect(error).to_have_attribute("role", "alert")
    expect(page.get_by_label("Email")).to_have_value(user.email)
    expect(page.get_by_label("Password", exact=True)).to_have_value("")
    expect(page.get_by_label("Password", exact=True)).to_be_focused()
    expect(page.get_by_label("Password", exact=True)).to_have_attribute("aria-describedby", "login-error")
    expect(page).to_have_url(server.url + "/login")
    expect(account_link(page)).to_have_count(0)
    screenshot(page, "login-wrong-password")
    # and the form still works after the error was swapped in
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(account_link(page)).to_have_text(user.email)


def test_logout(page, server):
    user = server.user("creator")
    page.goto("/login")
    fill_login(page, user.email, PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(account_link(page)).to_have_text(user.email)
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(server.url + "/login")
    expect(page.get_by_text("You are logged out.")).to_be_visible()
    expect(account_link(page)).to_have_count(0)
    page.goto("/account/password")
    expect(page).to_have_url(re.compile(r"/login\?next="))


def test_signup_then_login(page, server, screenshot):
    page.goto("/login")
    page.get_by_role("link", name="Sign up").first.click()
    expect(page.get_by_role("heading", name="Create an account")).to_be_visible()
    page.get_by_label("Email").fill("new.creator@example.org")
    page.get_by_label("Password", exact=True).fill("too short")
    page.get_by_label("Repeat the password").fill("too short")
    page.get_by_role("button", name="Create account").click()
    expect(page.locator("#password-error")).to_have_text("Must have at least 10 characters.")
    expect(page.get_by_label("Email")).to_have_value("new.creator@example.org")
    screenshot(page, "signup-error")
    page.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Repeat the password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(server.url + "/login")
    expect(page.get_by_text("Account created — you can log in now.")).to_be_visible()
    fill_login(page, "new.creator@example.org", NEW_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(account_link(page)).to_have_text("new.creator@example.org")


def test_login_returns_to_the_page_asked_for_and_password_change(page, server, screenshot):
    user = server.user("creator")
    page.goto("/account/password")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Faccount%2Fpassword$"))
    expect(page.get_by_text("Please log in to access this page.")).to_be_visible()
    fill_login(page, user.email, PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(server.url + "/account/password")
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Repeat the new password").fill("something else")
    page.get_by_role("button", name="Change password").click()
    expect(page.locator("#repeat-error")).to_have_text("Does not match the password above.")
    screenshot(page, "password-mismatch")
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Repeat the new password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_text("Your password has been changed.")).to_be_visible()


def test_pages_load_their_own_styles_and_scripts(page, server):
    answers = {}
    page.on("response", lambda response: answers.setdefault(response.url.removeprefix(server.url), response.status))
    page.goto("/login")
    page.wait_for_load_state("load")
    assets = [
        "/static/vendor/@picocss/pico/pico.min.css",
        "/static/css/app.css",
        "/static/vendor/htmx.org/htmx.min.js",
        "/static/js/app.js",
    ]
    assert {asset: answers.get(asset) for asset in assets} == dict.fromkeys(assets, 200)
    assert page.evaluate("getComputedStyle(document.documentElement).getPropertyValue('--pico-primary')").strip()
    assert page.evaluate("typeof window.htmx") == "object"


def test_login_and_logout_work_without_javascript(page_without_js, server):
    page = page_without_js
    user = server.user("creator")
    page.goto("/login")
    fill_login(page, user.email, "not the password")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#login-error")).to_have_text("The email or password is wrong.")
    expect(page.get_by_label("Email")).to_have_value(user.email)
    fill_login(page, user.email, PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(server.url + "/festivals")
    expect(account_link(page)).to_have_text(user.email)
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_text("You are logged out.")).to_be_visible()
