"""A festival's members on /api/v1 (design/api.md, wave 3): the owner adds editors by the email of an existing
account; editors edit the festival and its events and link its parts; only the owner (or an admin) publishes,
unpublishes, deletes and manages members. Every answer is checked as a client sees it (status, envelope, a
follow-up read)."""

from __future__ import annotations

import pytest

from app.models import AuditEntry
from app.permissions import Actor
from app.services import audit, writes

API = "/api/v1"


class Crew:
    """Katharina owns the draft "Elbhangfest Dresden" with an event; Jürgen is her editor; Ole a creator who is
    not a member; an admin; and an Api-Key."""

    def __init__(self, client, factory):
        self.client = client
        self.owner = factory.user("creator", email="katharina.müller-lüdenscheidt@elbhangfest.example")
        self.editor = factory.user("creator", email="jürgen.weiß@elbhangfest.example")
        self.other = factory.user("creator", email="ole.østergård@kulturpalast.example")
        self.admin = factory.user("admin", email="verwaltung@elbhangfest.example")
        self.headers = {name: factory.bearer(getattr(self, name)) for name in ("owner", "editor", "other", "admin")}
        self.headers["api_key"] = factory.api_key_headers()
        self.festival = factory.create(
            "festival", self.owner, name="Elbhangfest Dresden – Kultur zwischen Loschwitz und Pillnitz", is_valid=False
        )["festival_id"]
        self.event = factory.create("event", self.owner, name="Sächsische Bläserphilharmonie")["event_id"]
        factory.link("festival", self.festival, "events", self.event, self.owner)
        added = self.call("post", f"/festivals/{self.festival}/members", "owner", {"member_email": self.editor.email})
        assert added.status_code == 201, added.get_json()

    def call(self, method: str, path: str, caller: str, body: dict | None = None):
        return getattr(self.client, method)(API + path, json=body, headers=self.headers[caller])


@pytest.fixture
def crew(client, factory) -> Crew:
    return Crew(client, factory)


def error_of(response, status: int) -> str:
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    body = response.get_json()
    assert set(body) <= {"error", "fields"} and body["error"], body
    return body["error"]


def data_of(response, status: int = 200) -> list:
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    return response.get_json()["data"]


def test_members_list_the_owner_first_then_the_editors(crew):
    listed = data_of(crew.call("get", f"/festivals/{crew.festival}/members", "editor"))

    assert listed == [
        {"member_user_id": crew.owner.id, "member_email": crew.owner.email, "member_role": "owner"},
        {"member_user_id": crew.editor.id, "member_email": crew.editor.email, "member_role": "editor"},
    ]


@pytest.mark.parametrize("caller", ["owner", "editor", "admin"])
def test_members_see_the_draft_and_its_events(crew, caller):
    festivals = data_of(crew.call("get", "/festivals", caller))
    events = data_of(crew.call("get", f"/festivals/{crew.festival}/events", caller))

    assert crew.festival in [festival["festival_id"] for festival in festivals]
    assert [event["event_id"] for event in events] == [crew.event]


@pytest.mark.parametrize("caller", ["other", "api_key"])
def test_others_do_not_see_the_draft(crew, caller):
    festivals = data_of(crew.call("get", "/festivals", caller))

    assert crew.festival not in [festival["festival_id"] for festival in festivals]
    error_of(crew.call("get", f"/festivals/{crew.festival}", caller), 404)
    error_of(crew.call("get", f"/events/{crew.event}", caller), 404)


@pytest.mark.parametrize(("caller", "status"), [("owner", 200), ("editor", 200), ("admin", 200), ("other", 404)])
def test_draft_exports_are_for_members_and_admins(crew, caller, status):
    response = crew.call("get", f"/festivals/{crew.festival}/events.csv", caller)

    assert response.status_code == status
    if status == 200:
        assert "Sächsische Bläserphilharmonie" in response.get_data(as_text=True)


@pytest.mark.parametrize(("caller", "status"), [("owner", 200), ("editor", 200), ("admin", 200), ("other", 403)])
def test_changing_the_festival_follows_the_rule(crew, caller, status):
    # `other` needs to see the festival to be refused rather than not find it
    crew.call("patch", f"/festivals/{crew.festival}", "owner", {"festival_is_valid": True})

    response = crew.call("patch", f"/festivals/{crew.festival}", caller, {"festival_price": "ab 12,50 €"})

    assert response.status_code == status
    price = data_of(crew.call("get", f"/festivals/{crew.festival}", "owner"))[0]["festival_price"]
    assert price == ("ab 12,50 €" if status == 200 else "")


@pytest.mark.parametrize(("caller", "status"), [("owner", 200), ("editor", 200), ("admin", 200)])
def test_changing_its_event_follows_the_rule(crew, caller, status):
    response = crew.call("patch", f"/events/{crew.event}", caller, {"event_name": "Dresdner Kreuzchor"})

    assert data_of(response, status)[0]["event_name"] == "Dresdner Kreuzchor"


def test_an_editor_adds_an_event_and_links_its_parts(crew):
    event = data_of(crew.call("post", "/events", "editor", {"event_name": "Banda Comunale"}), 201)[0]["event_id"]
    tag = data_of(crew.call("post", "/tags", "editor", {"tag_name": "Blasmusik"}), 201)[0]["tag_id"]

    data_of(crew.call("post", f"/festivals/{crew.festival}/events/{event}", "editor"))
    data_of(crew.call("post", f"/festivals/{crew.festival}/tags/{tag}", "editor"))
    data_of(crew.call("delete", f"/festivals/{crew.festival}/events/{crew.event}", "editor"))

    events = data_of(crew.call("get", f"/festivals/{crew.festival}/events", "owner"))
    assert [item["event_id"] for item in events] == [event]
    assert [item["tag_id"] for item in data_of(crew.call("get", f"/festivals/{crew.festival}/tags", "owner"))] == [tag]


def test_an_editor_deletes_an_event_of_the_festival(crew):
    data_of(crew.call("delete", f"/events/{crew.event}", "editor"))

    assert data_of(crew.call("get", f"/festivals/{crew.festival}/events", "owner")) == []


@pytest.mark.parametrize("published", [True, False])
def test_an_editor_may_not_publish_or_unpublish(crew, published):
    crew.call("patch", f"/festivals/{crew.festival}", "owner", {"festival_is_valid": not published})

    response = crew.call("patch", f"/festivals/{crew.festival}", "editor", {"festival_is_valid": published})

    assert "owner" in error_of(response, 403)
    assert data_of(crew.call("get", f"/festivals/{crew.festival}", "owner"))[0]["festival_is_valid"] is not published


def test_an_editor_sending_the_whole_festival_unchanged_in_published_state_may_save(crew):
    [festival] = data_of(crew.call("get", f"/festivals/{crew.festival}", "editor"))

    response = crew.call("patch", f"/festivals/{crew.festival}", "editor", {**festival, "festival_price": "frei"})

    assert data_of(response)[0]["festival_price"] == "frei"


@pytest.mark.parametrize(("caller", "status"), [("owner", 200), ("admin", 200), ("editor", 403)])
def test_publishing_is_for_the_owner_and_admins(crew, caller, status):
    response = crew.call("patch", f"/festivals/{crew.festival}", caller, {"festival_is_valid": True})

    assert response.status_code == status
    assert data_of(crew.call("get", f"/festivals/{crew.festival}", "owner"))[0]["festival_is_valid"] is (status == 200)


@pytest.mark.parametrize(("caller", "status"), [("editor", 403), ("owner", 200), ("admin", 200)])
def test_deleting_the_festival_is_for_the_owner_and_admins(crew, caller, status):
    response = crew.call("delete", f"/festivals/{crew.festival}", caller)

    assert response.status_code == status
    if status == 403:
        assert "owner" in error_of(response, 403)
    still_there = crew.call("get", f"/festivals/{crew.festival}", "owner").status_code == 200
    assert still_there is (status == 403)


def test_other_creators_may_not_read_the_members_of_a_published_festival(crew):
    crew.call("patch", f"/festivals/{crew.festival}", "owner", {"festival_is_valid": True})

    error_of(crew.call("get", f"/festivals/{crew.festival}/members", "other"), 403)
    error_of(crew.call("get", f"/festivals/{crew.festival}/members", "api_key"), 403)


@pytest.mark.parametrize("caller", ["owner", "admin"])
def test_the_owner_and_admins_add_and_remove_editors(crew, caller):
    added = crew.call(
        "post", f"/festivals/{crew.festival}/members", caller, {"member_email": " OLE.østergård@Kulturpalast.example "}
    )

    assert data_of(added, 201) == [
        {"member_user_id": crew.other.id, "member_email": crew.other.email, "member_role": "editor"}
    ]
    assert added.headers["Location"].endswith(f"/api/v1/festivals/{crew.festival}/members")
    assert crew.call("patch", f"/events/{crew.event}", "other", {"event_type": 3}).status_code == 200

    data_of(crew.call("delete", f"/festivals/{crew.festival}/members/{crew.other.id}", caller))

    assert [m["member_user_id"] for m in data_of(crew.call("get", f"/festivals/{crew.festival}/members", "owner"))] == [
        crew.owner.id,
        crew.editor.id,
    ]
    error_of(crew.call("patch", f"/events/{crew.event}", "other", {"event_type": 4}), 404)


def test_an_editor_may_not_manage_members(crew):
    error_of(
        crew.call("post", f"/festivals/{crew.festival}/members", "editor", {"member_email": crew.other.email}), 403
    )
    error_of(crew.call("delete", f"/festivals/{crew.festival}/members/{crew.owner.id}", "editor"), 403)

    assert len(data_of(crew.call("get", f"/festivals/{crew.festival}/members", "owner"))) == 2


def test_an_editor_may_leave(crew):
    data_of(crew.call("delete", f"/festivals/{crew.festival}/members/{crew.editor.id}", "editor"))

    error_of(crew.call("get", f"/festivals/{crew.festival}", "editor"), 404)
    error_of(crew.call("patch", f"/events/{crew.event}", "editor", {"event_type": 2}), 404)


def test_a_non_member_may_not_add_themselves(crew):
    crew.call("patch", f"/festivals/{crew.festival}", "owner", {"festival_is_valid": True})

    error_of(crew.call("post", f"/festivals/{crew.festival}/members", "other", {"member_email": crew.other.email}), 403)
    error_of(crew.call("patch", f"/festivals/{crew.festival}", "other", {"festival_price": "0 €"}), 403)


@pytest.mark.parametrize(
    ("email", "status", "message"),
    [
        ("niemand@elbhangfest.example", 400, "no account"),
        ("jürgen.weiß@elbhangfest.example", 409, "already an editor"),
        ("katharina.müller-lüdenscheidt@elbhangfest.example", 409, "owns this festival"),
        ("", 400, "must not be empty"),
    ],
)
def test_adding_refuses_with_a_message_for_the_field(crew, email, status, message):
    response = crew.call("post", f"/festivals/{crew.festival}/members", "owner", {"member_email": email})

    error_of(response, status)
    assert message in response.get_json()["fields"]["member_email"]


def test_adding_a_read_only_account_is_refused(crew, factory):
    reader = factory.user("user", email="leserin@elbhangfest.example")

    response = crew.call("post", f"/festivals/{crew.festival}/members", "owner", {"member_email": reader.email})

    assert "role user" in error_of(response, 400)


@pytest.mark.parametrize(
    "body", [{}, {"member_email": 7}, {"member_email": "a@b.example", "member_role": "owner"}, {"nope": 1}, [1]]
)
def test_a_bad_body_is_400(crew, body):
    error_of(crew.call("post", f"/festivals/{crew.festival}/members", "owner", body), 400)


def test_removing_someone_who_is_not_an_editor_is_404(crew):
    error_of(crew.call("delete", f"/festivals/{crew.festival}/members/{crew.other.id}", "owner"), 404)
    error_of(crew.call("get", "/festivals/987654/members", "owner"), 404)


def test_members_need_credentials(crew):
    response = crew.client.get(f"{API}/festivals/{crew.festival}/members")

    error_of(response, 401)


def test_the_dashboard_query_lists_festivals_one_edits(crew, app):
    from app.services import festivals

    rows, total = festivals.dashboard(Actor("user", user_id=crew.editor.id, role="creator"))

    assert total == 1 and [festival["festival_id"] for festival in rows] == [crew.festival]


def test_member_changes_are_in_the_audit_log_in_words(crew):
    crew.call("post", f"/festivals/{crew.festival}/members", "owner", {"member_email": crew.other.email})
    crew.call("delete", f"/festivals/{crew.festival}/members/{crew.other.id}", "owner")
    crew.call("delete", f"/festivals/{crew.festival}/members/{crew.editor.id}", "editor")
    admin = Actor("user", user_id=crew.admin.id, role="admin")

    entries = audit.in_words(admin, audit.list_entries(admin, audit.AuditFilter(entity="festival"))[0])

    changes = [entry["change"] for entry in entries if entry["action"].startswith("member_")]
    assert changes == [
        f"Left as editor: {crew.editor.email}",
        f"Removed {crew.other.email} (editor)",
        f"Added {crew.other.email} as editor",
        f"Added {crew.editor.email} as editor",
    ]
    assert AuditEntry.select().where(AuditEntry.action.startswith("member_")).count() == 4


def test_an_editor_handed_the_festival_is_listed_once_as_its_owner(crew):
    admin = Actor("user", user_id=crew.admin.id, role="admin")

    writes.transfer_owner("festival", crew.festival, crew.editor.id, admin)

    listed = data_of(crew.call("get", f"/festivals/{crew.festival}/members", "editor"))
    assert listed == [{"member_user_id": crew.editor.id, "member_email": crew.editor.email, "member_role": "owner"}]
    data_of(crew.call("delete", f"/festivals/{crew.festival}", "editor"))  # the owner now: may delete it
