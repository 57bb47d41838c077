"""The admin pages through the Flask test client: forms posted as a browser posts them (CSRF token from
the page), answers as an admin sees them (status, redirects, htmx headers, page text) and the rows the
services wrote."""

import re
from datetime import datetime, timedelta

import pytest

from app.models import ApiKey, AuditEntry, Festival, User
from app.services import api_keys
from tests.identity.test_pages import client_for, log_in, text

HTMX = {"HX-Request": "true"}
PAGES = ["/admin/users", "/admin/keys", "/admin/festivals", "/admin/audit"]


@pytest.fixture
def admin(factory):
    return factory.user("admin", email="boss@example.org")


@pytest.fixture
def admin_client(app, admin):
    client = client_for(app)
    assert log_in(client, admin.email).status_code == 303
    return client


META_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def token(client, page="/admin/users") -> str:
    """The page's CSRF token (from its meta tag, which every page has, as the hidden fields do)."""
    response = client.get(page)
    assert response.status_code == 200, response.status_code
    return META_CSRF.search(text(response)).group(1)


def post(client, path, data=None, headers=None, page="/admin/users"):
    return client.post(path, data={"csrf_token": token(client, page), **(data or {})}, headers=headers or {})


# --- who may enter ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", PAGES)
def test_admin_pages_redirect_anonymous_visitors_to_login(app, path):
    response = client_for(app).get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize("role", ["creator", "user"])
@pytest.mark.parametrize("path", PAGES)
def test_admin_pages_refuse_non_admins_with_403(app, factory, role, path):
    client = client_for(app)
    assert log_in(client, factory.user(role).email).status_code == 303
    response = client.get(path)
    assert response.status_code == 403
    assert "Not allowed" in text(response) and "only admins" in text(response).lower()


def test_admin_posts_refuse_non_admins_and_change_nothing(app, factory):
    creator, victim = factory.user("creator"), factory.user("user")
    client = client_for(app)
    log_in(client, creator.email)
    data = {"csrf_token": token(client, "/festivals"), "role": "admin"}
    assert client.post(f"/admin/users/{victim.id}/role", data=data).status_code == 403
    assert User.get_by_id(victim.id).role == "user"


@pytest.mark.parametrize("path", PAGES)
def test_admin_pages_render_for_admins_with_nav_and_vary(admin_client, path):
    response = admin_client.get(path)
    assert response.status_code == 200
    page = text(response)
    assert "<!doctype html>" in page.lower() and 'aria-label="Admin"' in page
    assert "HX-Request" in response.headers["Vary"]
    assert "no-store" in response.headers["Cache-Control"]


def test_nav_shows_the_admin_link_to_admins_only(app, factory, admin_client):
    assert 'href="/admin/users"' in text(admin_client.get("/admin/users"))
    creator_client = client_for(app)
    log_in(creator_client, factory.user("creator").email)
    assert 'href="/admin/users"' not in text(creator_client.get("/festivals"))


# --- users -----------------------------------------------------------------------------------------


def test_users_page_lists_accounts_with_last_login(admin_client, factory, admin):
    factory.user("creator", email="carla@example.org")
    page = text(admin_client.get("/admin/users"))
    assert "carla@example.org" in page and "boss@example.org" in page
    row = re.search(rf'<tr id="user-{admin.id}".*?</tr>', page, re.S).group(0)
    assert re.search(r"<time datetime=\"\d{4}-\d\d-\d\dT", row.split("</td>")[-3])  # last login of the admin


def test_user_search_answers_a_fragment_to_htmx_and_a_page_to_plain_requests(admin_client, factory):
    factory.user("creator", email="carla@example.org")
    factory.user("creator", email="dora@example.org")
    fragment = admin_client.get("/admin/users?q=CARLA", headers=HTMX)
    assert fragment.status_code == 200
    body = text(fragment)
    assert body.strip().startswith('<div id="user-results"') and "<html" not in body
    assert "carla@example.org" in body and "dora@example.org" not in body
    plain = text(admin_client.get("/admin/users?q=carla"))
    assert "<html" in plain and 'value="carla"' in plain and "dora@example.org" not in plain
    boosted = text(admin_client.get("/admin/users?q=carla", headers={**HTMX, "HX-Boosted": "true"}))
    assert "<html" in boosted


def test_users_are_paginated_with_links_that_keep_the_search(admin_client, factory):
    for number in range(55):
        factory.user("user", email=f"fan{number:02}@example.org")
    first = text(admin_client.get("/admin/users?q=fan"))
    assert first.count('<tr id="user-') == 50 and "55 accounts" in first
    assert 'href="/admin/users?page=2&amp;q=fan"' in first
    second = text(admin_client.get("/admin/users?page=2&q=fan"))
    assert second.count('<tr id="user-') == 5 and 'rel="prev"' in second


@pytest.mark.parametrize("bad", ["abc", "0", "-1", "99999999"])
def test_bad_page_numbers_show_a_message_and_the_first_page(admin_client, bad):
    response = admin_client.get(f"/admin/users?page={bad}")
    assert response.status_code == 200
    assert "is not a page number" in text(response) and "boss@example.org" in text(response)


def test_page_after_the_last_says_so(admin_client):
    page = text(admin_client.get("/admin/users?page=7"))
    assert "There is no page 7" in page and 'href="/admin/users?page=1"' in page


def test_role_change_with_a_plain_form_answers_303_back_to_the_list_with_a_flash(admin_client, factory):
    user = factory.user("user")
    response = post(admin_client, f"/admin/users/{user.id}/role", {"role": "creator", "back": "/admin/users?q=x"})
    assert response.status_code == 303 and response.headers["Location"] == "/admin/users?q=x"
    assert User.get_by_id(user.id).role == "creator"
    assert f"{user.email} is now creator." in text(admin_client.get("/admin/users"))
    assert AuditEntry.select().where(AuditEntry.action == "role", AuditEntry.entity_id == user.id).count() == 1


def test_role_change_with_htmx_answers_the_row(admin_client, factory):
    user = factory.user("user")
    response = post(admin_client, f"/admin/users/{user.id}/role", {"role": "admin"}, HTMX)
    assert response.status_code == 200 and "HX-Redirect" not in response.headers
    row = text(response).strip()
    assert row.startswith(f'<tr id="user-{user.id}"') and row.endswith("</tr>")
    assert '<option value="admin" selected>' in row and "is now admin" in row
    assert User.get_by_id(user.id).role == "admin"


def test_unknown_role_is_a_message_not_an_error_page(admin_client, factory):
    user = factory.user("user")
    htmx = post(admin_client, f"/admin/users/{user.id}/role", {"role": "emperor"}, HTMX)
    assert htmx.status_code == 422 and "Role must be one of admin, creator, user." in text(htmx)
    plain = post(admin_client, f"/admin/users/{user.id}/role", {"role": "emperor"})
    assert plain.status_code == 303
    assert "Role must be one of" in text(admin_client.get(plain.headers["Location"]))
    assert User.get_by_id(user.id).role == "user"


def test_role_change_of_an_unknown_user_is_a_404_page(admin_client):
    response = post(admin_client, "/admin/users/9999/role", {"role": "user"})
    assert response.status_code == 404 and "No user with id 9999" in text(response)


def test_back_address_outside_admin_is_ignored(admin_client, factory):
    user = factory.user("user")
    response = post(admin_client, f"/admin/users/{user.id}/role", {"role": "creator", "back": "//evil.example/"})
    assert response.headers["Location"] == "/admin/users"


def test_post_without_csrf_token_is_refused(admin_client, factory):
    user = factory.user("user")
    response = admin_client.post(f"/admin/users/{user.id}/role", data={"role": "admin"})
    assert response.status_code == 400 and "expired" in text(response)
    assert User.get_by_id(user.id).role == "user"


def test_suspended_users_session_stops_working(app, admin_client, factory):
    victim = factory.user("creator")
    victim_client = client_for(app)
    log_in(victim_client, victim.email)
    assert victim_client.get("/festivals").status_code == 200
    response = post(admin_client, f"/admin/users/{victim.id}/suspension", {"suspend": "1"}, HTMX)
    assert response.status_code == 200 and "Suspended" in text(response) and "Unsuspend" in text(response)
    assert User.get_by_id(victim.id).suspended
    assert victim_client.get("/festivals").status_code == 302  # back to the login page
    assert log_in(victim_client, victim.email).status_code == 422  # and no new login
    post(admin_client, f"/admin/users/{victim.id}/suspension", {"suspend": "0"})
    assert not User.get_by_id(victim.id).suspended
    assert log_in(victim_client, victim.email).status_code == 303


def test_admins_cannot_suspend_themselves(admin_client, admin):
    response = post(admin_client, f"/admin/users/{admin.id}/suspension", {"suspend": "1"}, HTMX)
    assert response.status_code == 422 and "Admins cannot suspend themselves." in text(response)
    assert not User.get_by_id(admin.id).suspended


def test_suspension_with_a_bad_value_is_a_message(admin_client, factory):
    user = factory.user("user")
    response = post(admin_client, f"/admin/users/{user.id}/suspension", {"suspend": "maybe"}, HTMX)
    assert response.status_code == 422 and "Choose whether" in text(response)


def test_reset_link_is_shown_once_and_works(app, admin_client, factory):
    user = factory.user("creator")
    response = post(admin_client, f"/admin/users/{user.id}/reset-link")
    assert response.status_code == 200 and "no-store" in response.headers["Cache-Control"]
    link = re.search(r'value="(http://localhost/reset/[^"]+)"', text(response)).group(1)
    token = link.rsplit("/", 1)[1]
    assert token not in text(admin_client.get("/admin/users"))  # never shown again
    assert client_for(app).get(f"/reset/{token}").status_code == 200
    again = post(admin_client, f"/admin/users/{user.id}/reset-link", headers=HTMX)
    fragment = text(again)
    assert fragment.strip().startswith('<article class="secret" id="reset-link"') and "<html" not in fragment
    assert token not in fragment  # a new link each time


# --- keys ------------------------------------------------------------------------------------------


def test_key_create_shows_the_key_once_and_stores_a_hash(admin_client):
    response = post(admin_client, "/admin/keys", {"kind": "api", "comment": "iOS app"}, page="/admin/keys")
    assert response.status_code == 200
    key = re.search(r'data-testid="new-key-value">', text(response)) and re.search(
        r'value="(fa_[0-9a-f]{8}_[^"]+)"', text(response)
    ).group(1)
    row = ApiKey.get(ApiKey.comment == "iOS app")
    assert row.kind == "api" and key.startswith(row.prefix) and key not in row.key_hash and len(row.key_hash) == 64
    listing = text(admin_client.get("/admin/keys"))
    assert row.prefix in listing and "iOS app" in listing and key not in listing


def test_service_key_created_with_htmx_answers_its_section(admin_client):
    response = post(admin_client, "/admin/keys", {"kind": "service", "comment": "search"}, HTMX, page="/admin/keys")
    body = text(response)
    assert response.status_code == 200 and body.strip().startswith('<section id="keys-service"')
    assert re.search(r'value="fs_[0-9a-f]{8}_', body) and "<html" not in body
    assert ApiKey.get(ApiKey.comment == "search").kind == "service"


def test_key_comment_too_long_is_a_field_message(admin_client):
    response = post(admin_client, "/admin/keys", {"kind": "api", "comment": "x" * 300}, HTMX, page="/admin/keys")
    assert response.status_code == 422 and "At most 255 characters." in text(response)
    assert ApiKey.select().count() == 0


def test_key_of_unknown_kind_is_a_message(admin_client):
    response = post(admin_client, "/admin/keys", {"kind": "root", "comment": "x"}, page="/admin/keys")
    assert response.status_code == 303
    assert "Choose an API key or a service key." in text(admin_client.get("/admin/keys"))


def test_revoke_without_javascript_asks_first_then_revokes_and_the_api_refuses_the_key(admin_client):
    key, row = api_keys.create_key("old app")
    assert admin_client.get("/api/v1/festivals", headers={"Api-Key": key}).status_code == 200
    asked = post(admin_client, f"/admin/keys/{row.id}/revoke", page="/admin/keys")
    assert asked.status_code == 200 and "Revoke this key?" in text(asked)
    assert 'name="confirmed" value="1"' in text(asked)
    assert ApiKey.get_by_id(row.id).revoked is None
    done = post(admin_client, f"/admin/keys/{row.id}/revoke", {"confirmed": "1"}, page="/admin/keys")
    assert done.status_code == 303 and done.headers["Location"] == "/admin/keys#keys-api"
    assert ApiKey.get_by_id(row.id).revoked is not None
    assert admin_client.get("/api/v1/festivals", headers={"Api-Key": key}).status_code == 401
    assert "is revoked" in text(admin_client.get("/admin/keys"))


def test_revoke_with_htmx_answers_the_section_with_the_key_revoked(admin_client):
    _, row = api_keys.create_key("old app")
    response = post(admin_client, f"/admin/keys/{row.id}/revoke", {"confirmed": "1"}, HTMX, page="/admin/keys")
    assert response.status_code == 200 and text(response).strip().startswith('<section id="keys-api"')
    assert "Revoked" in text(response) and ApiKey.get_by_id(row.id).revoked is not None


def test_keys_page_has_confirmations_for_htmx_and_real_forms(admin_client):
    _, row = api_keys.create_key("app")
    page = text(admin_client.get("/admin/keys"))
    assert 'hx-confirm="Revoke the key' in page
    assert f'<form method="post" action="/admin/keys/{row.id}/revoke"' in page


def test_revoking_an_unknown_key_is_a_404_page(admin_client):
    response = post(admin_client, "/admin/keys/4242/revoke", {"confirmed": "1"}, page="/admin/keys")
    assert response.status_code == 404 and "No key with id 4242" in text(response)


# --- festivals -------------------------------------------------------------------------------------


def test_festivals_page_lists_every_festival_with_owner_and_state(admin_client, factory):
    carla = factory.user("creator", email="carla@example.org")
    factory.create("festival", carla, name="Lakeside", is_valid=True)
    factory.create("festival", carla, name="Secret draft", is_valid=False)
    page = text(admin_client.get("/admin/festivals"))
    assert "Lakeside" in page and "Secret draft" in page and "carla@example.org" in page
    assert "Published" in page and "Draft" in page


def test_festivals_page_shows_each_festivals_dates_in_its_own_zone(admin_client, factory):
    carla = factory.user("creator", email="carla@example.org")
    # Sat 2 Aug 2031 23:30 UTC is already Sunday in Berlin and still Saturday evening in New York.
    for name, zone in (("Elbufer", "Europe/Berlin"), ("Hudson", "America/New_York")):
        factory.create("festival", carla, name=name, timezone=zone, start=1943479800, end=1943551800)
    page = text(admin_client.get("/admin/festivals"))
    assert "Sun 3 Aug 2031 – Sun 3 Aug 2031 · Europe/Berlin" in page
    assert "Sat 2 Aug 2031 – Sun 3 Aug 2031 · America/New_York" in page


def test_festival_transfer_by_email_plain_and_htmx(admin_client, factory):
    carla, dora = factory.user("creator", email="carla@example.org"), factory.user("creator", email="dora@example.org")
    festival = factory.create("festival", carla, name="Lakeside")
    fid = festival["festival_id"]
    plain = post(admin_client, f"/admin/festivals/{fid}/owner", {"email": "Dora@example.org"}, page="/admin/festivals")
    assert plain.status_code == 303 and plain.headers["Location"] == "/admin/festivals"
    assert Festival.get_by_id(fid).owner_id == dora.id
    assert "now belongs to dora@example.org" in text(admin_client.get("/admin/festivals"))
    htmx = post(admin_client, f"/admin/festivals/{fid}/owner", {"email": carla.email}, HTMX, page="/admin/festivals")
    assert htmx.status_code == 200 and text(htmx).strip().startswith(f'<tr id="festival-{fid}"')
    assert 'data-testid="owner">carla@example.org<' in text(htmx)
    assert Festival.get_by_id(fid).owner_id == carla.id


def test_festival_transfer_to_an_unknown_email_is_a_clear_message(admin_client, factory):
    carla = factory.user("creator")
    fid = factory.create("festival", carla)["festival_id"]
    htmx = post(
        admin_client, f"/admin/festivals/{fid}/owner", {"email": "nobody@example.org"}, HTMX, page="/admin/festivals"
    )
    assert htmx.status_code == 422
    assert "There is no account with the email nobody@example.org." in text(htmx)
    assert 'value="nobody@example.org"' in text(htmx)
    plain = post(admin_client, f"/admin/festivals/{fid}/owner", {"email": ""}, page="/admin/festivals")
    assert plain.status_code == 303
    assert "Please enter an email address." in text(admin_client.get("/admin/festivals"))
    assert Festival.get_by_id(fid).owner_id == carla.id


def test_festival_transfer_of_an_unknown_festival_is_a_404(admin_client, factory):
    response = post(admin_client, "/admin/festivals/777/owner", {"email": "boss@example.org"}, page="/admin/festivals")
    assert response.status_code == 404


# --- audit log -------------------------------------------------------------------------------------


def _entries(n: int, actor_id: int, entity: str = "festival", at: datetime | None = None) -> None:
    start = at or datetime(2026, 1, 10, 12, 0)
    AuditEntry.insert_many(
        [
            {
                "actor_id": actor_id,
                "actor_kind": "user",
                "entity": entity,
                "entity_id": i,
                "action": "update",
                "details": "{}",
                "at": start + timedelta(minutes=i),
            }
            for i in range(n)
        ]
    ).execute()


def test_audit_log_is_newest_first_with_emails_and_50_a_page(admin_client, factory):
    carla = factory.user("creator", email="carla@example.org")
    _entries(60, carla.id, "artist")
    page = text(admin_client.get("/admin/audit?entity=artist"))
    assert page.count("<tr>") == 51  # header + 50
    assert "60 entries" in page and "carla@example.org" in page
    positions = [page.index(f"artist {i}<") for i in (59, 58, 10)]
    assert positions == sorted(positions)
    assert 'href="/admin/audit?page=2&amp;entity=artist"' in page
    second = text(admin_client.get("/admin/audit?page=2&entity=artist"))
    assert second.count("<tr>") == 11 and "artist 0<" in second and 'rel="prev"' in second


def test_audit_filters_by_user_email_or_id_and_dates(admin_client, factory):
    carla, dora = factory.user("creator", email="carla@example.org"), factory.user("creator", email="dora@example.org")
    _entries(3, carla.id, "tag", datetime(2026, 2, 1, 8, 0))
    _entries(2, dora.id, "tag", datetime(2026, 2, 3, 8, 0))
    by_email = text(admin_client.get("/admin/audit?user=DORA@example.org&entity=tag"))
    assert "2 entries" in by_email and "carla@example.org" not in by_email.split("<tbody>")[1]
    by_id = text(admin_client.get(f"/admin/audit?user={carla.id}&entity=tag"))
    assert "3 entries" in by_id
    by_day = text(admin_client.get("/admin/audit?entity=tag&since=2026-02-01&until=2026-02-01"))
    assert "3 entries" in by_day
    after = text(admin_client.get("/admin/audit?entity=tag&since=2026-02-02"))
    assert "2 entries" in after
    # the pager keeps the filters
    _entries(60, carla.id, "link", datetime(2026, 3, 1))
    page = text(admin_client.get(f"/admin/audit?user={carla.id}&entity=link&since=2026-03-01"))
    assert f'href="/admin/audit?page=2&amp;user={carla.id}&amp;entity=link&amp;since=2026-03-01"' in page


def _queries(client, counter, url) -> int:
    counter.count = 0
    assert client.get(url).status_code == 200
    return counter.count


def test_audit_and_list_pages_cost_the_same_queries_for_1_or_50_rows(admin_client, factory, count_queries):  # noqa: F811
    carla = factory.user("creator")
    _entries(1, carla.id)
    factory.create("festival", carla)
    few = [_queries(admin_client, count_queries, url) for url in ("/admin/audit", "/admin/festivals", "/admin/users")]
    _entries(49, carla.id)
    for _ in range(30):
        factory.create("festival", factory.user("creator"))
    many = [_queries(admin_client, count_queries, url) for url in ("/admin/audit", "/admin/festivals", "/admin/users")]
    assert many == few


@pytest.mark.parametrize(
    "query, message",
    [
        ("since=2026-13-01", "is not a date"),
        ("until=yesterday", "is not a date"),
        ("since=2026-02-05&until=2026-02-01", "Must not be before"),
        ("entity=spaceship", "No entries for the entity"),
    ],
)
def test_bad_audit_filters_are_messages(admin_client, query, message):
    response = admin_client.get(f"/admin/audit?{query}")
    assert response.status_code == 422 and message in text(response)
    assert "Please correct the filters" in text(response)


def test_audit_filter_with_htmx_answers_the_fragment(admin_client):
    response = admin_client.get("/admin/audit?entity=user", headers=HTMX)
    assert response.status_code == 200 and text(response).strip().startswith('<div id="audit-log"')


# --- odd input is a message, never a 500 -------------------------------------------------------------


@pytest.mark.parametrize("path", ["/admin/users?q=%00x", "/admin/festivals?q=a%00", "/admin/audit?user=%00"])
def test_nul_characters_in_searches_are_harmless(admin_client, path):
    assert admin_client.get(path).status_code in (200, 422)


def test_key_comment_with_control_characters_is_a_field_message(admin_client):
    response = post(admin_client, "/admin/keys", {"kind": "api", "comment": "a\x00b"}, HTMX, page="/admin/keys")
    assert response.status_code == 422 and "Only printable characters" in text(response)


@pytest.mark.parametrize(
    "path", ["/admin/users/99999999999/role", "/admin/keys/99999999999/revoke", "/admin/festivals/99999999999/owner"]
)
def test_ids_beyond_the_column_range_are_404(admin_client, path):
    assert post(admin_client, path, {"role": "user", "email": "x@example.org"}).status_code == 404


def test_htmx_post_that_leaves_the_page_gets_hx_redirect_and_plain_gets_303(admin_client):
    htmx = post(admin_client, "/admin/keys", {"kind": "nope"}, HTMX, page="/admin/keys")
    assert htmx.status_code == 200 and htmx.headers["HX-Redirect"] == "/admin/keys"
    plain = post(admin_client, "/admin/keys", {"kind": "nope"}, page="/admin/keys")
    assert plain.status_code == 303 and plain.headers["Location"] == "/admin/keys"


def test_festival_search_answers_a_fragment_to_htmx(admin_client, factory):
    carla = factory.user("creator")
    factory.create("festival", carla, name="Lakeside")
    factory.create("festival", carla, name="Mountain")
    response = admin_client.get("/admin/festivals?q=lake", headers=HTMX)
    body = text(response)
    assert body.strip().startswith('<div id="festival-results"') and "Lakeside" in body and "Mountain" not in body
