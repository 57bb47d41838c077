"""The Content-Security-Policy in Chromium: the portal's pages, htmx and the API docs run under it with no
violation, and a page of ours cannot be framed by another site."""

from __future__ import annotations

from tests.factories import PASSWORD


def violations_on(page, paths: list[str]) -> list[str]:
    seen: list[str] = []
    page.on("console", lambda message: seen.append(message.text) if "Content Security Policy" in message.text else None)
    for path in paths:
        page.goto(path)
        page.wait_for_load_state("networkidle")
    return seen


def test_pages_and_htmx_run_without_csp_violations(page, server):
    user = server.user("admin")
    page.goto("/login")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/festivals")

    seen = violations_on(page, ["/festivals", "/library/tags", "/admin/users", "/account/password", "/api/docs"])
    page.goto("/library/tags")
    page.get_by_role("searchbox").fill("x")  # an htmx request and swap under the policy
    page.wait_for_load_state("networkidle")

    assert seen == []
    assert server.outside_requests == []


def test_another_site_cannot_frame_the_portal(page, server):
    blocked: list[str] = []
    page.on("console", lambda message: blocked.append(message.text))
    page.set_content(f'<iframe src="{server.url}/login"></iframe>')
    page.wait_for_timeout(1000)

    assert any("frame-ancestors" in text for text in blocked), blocked
