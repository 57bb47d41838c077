"""The festival editor's members section through the Flask test client: the owner adds and removes editors by
email (messages next to the field), editors edit the festival and its events but are offered no publish, delete
or members form and are refused them, and the dashboard lists the festivals one edits."""

import re

import pytest

from app.models import Artist, Event, FestivalMember, Location
from tests.identity.test_pages import client_for, csrf_token, log_in, text
from tests.portal.test_creator_pages import JULY_3, add_event

HTMX = {"HX-Request": "true"}
FESTIVAL = "Elbhangfest Dresden – Kultur zwischen Loschwitz und Pillnitz"


class Team:
    """Katharina owns the draft festival (one event on the Hauptbühne); Jürgen has an account; each has a
    logged-in client."""

    def __init__(self, app, factory):
        self.owner = factory.user("creator", email="katharina.müller-lüdenscheidt@elbhangfest.example")
        self.editor = factory.user("creator", email="jürgen.weiß@elbhangfest.example")
        self.festival = factory.create(
            "festival",
            self.owner,
            name=FESTIVAL,
            is_valid=False,
            start=1783072800,  # 2026-07-03 10:00 UTC
            end=1783288800,  # 2026-07-05 22:00 UTC
        )["festival_id"]
        self.as_owner, self.as_editor = client_for(app), client_for(app)
        assert log_in(self.as_owner, self.owner.email).status_code == 303
        assert log_in(self.as_editor, self.editor.email).status_code == 303
        response = add_event(
            self.as_owner,
            self.festival,
            "Sächsische Bläserphilharmonie",
            "18:00",
            "19:30",
            "Bläserphilharmonie",
            "Hauptbühne",
        )
        assert response.status_code == 303, text(response)
        self.event = Event.get(Event.name == "Sächsische Bläserphilharmonie").id

    @property
    def page(self) -> str:
        return f"/festivals/{self.festival}"

    def add(self, email: str, headers=None):
        data = {"csrf_token": csrf_token(self.as_owner, self.page), "member_email": email}
        return self.as_owner.post(f"{self.page}/members", data=data, headers=headers or {})


@pytest.fixture
def team(app, factory) -> Team:
    return Team(app, factory)


def member_emails(page: str) -> list[str]:
    return re.findall(r'class="member-email">([^<]+)<', page)


def test_the_owner_adds_an_editor_and_sees_them_listed(team):
    response = team.add("  Jürgen.Weiß@Elbhangfest.example ", HTMX)

    assert response.status_code == 200
    fragment = text(response)
    assert fragment.lstrip().startswith('<div id="festival-members">')
    assert "jürgen.weiß@elbhangfest.example edits this festival now." in fragment
    assert member_emails(fragment) == [team.owner.email, team.editor.email]
    assert FestivalMember.select().where(FestivalMember.festival == team.festival).count() == 1


def test_without_javascript_adding_redirects_to_the_members_notice(team):
    response = team.add(team.editor.email)

    assert response.status_code == 303 and response.headers["Location"].endswith("#members-notice")
    page = text(team.as_owner.get(team.page))
    assert "edits this festival now." in page and team.editor.email in member_emails(page)


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("niemand@elbhangfest.example", "No account has this email address; they sign up first."),
        ("katharina.müller-lüdenscheidt@elbhangfest.example", "Owns this festival already."),
    ],
)
def test_a_refused_address_gets_its_message_next_to_the_field(team, email, message):
    response = team.add(email, HTMX)

    assert response.status_code == 422
    assert re.search(r'id="member_email-error" class="field-error">[^<]*' + re.escape(message), text(response))
    assert f'value="{email}"' in text(response)  # what was typed stays


def test_adding_someone_twice_says_they_are_already_an_editor(team):
    team.add(team.editor.email)

    response = team.add(team.editor.email, HTMX)

    assert response.status_code == 422
    assert "Is already an editor of this festival." in text(response)
    assert FestivalMember.select().count() == 1


def test_an_editor_sees_the_draft_without_publish_delete_or_the_members_form(team):
    team.add(team.editor.email)

    page = text(team.as_editor.get(team.page))

    assert FESTIVAL in page
    assert "Publish" not in page and "Delete…" not in page
    assert 'name="member_email"' not in page
    assert "Only the owner publishes it, deletes it and chooses its editors." in page
    assert ">Leave<" in page
    owner_page = text(team.as_owner.get(team.page))
    assert "Publish" in owner_page and "Delete…" in owner_page and 'name="member_email"' in owner_page


def test_an_editor_is_refused_publish_delete_and_managing_members(team, factory):
    team.add(team.editor.email)
    other = factory.user("creator", email="ole.østergård@kulturpalast.example")
    token = csrf_token(team.as_editor, team.page)

    published = team.as_editor.post(f"{team.page}/publish", data={"csrf_token": token})
    delete_page = team.as_editor.get(f"{team.page}/delete")
    deleted = team.as_editor.post(f"{team.page}/delete", data={"csrf_token": token})
    added = team.as_editor.post(f"{team.page}/members", data={"csrf_token": token, "member_email": other.email})
    removed = team.as_editor.post(f"{team.page}/members/{team.owner.id}/remove", data={"csrf_token": token})

    assert [r.status_code for r in (published, delete_page, deleted, added, removed)] == [403] * 5
    assert "owner of this festival or an admin can publish or unpublish it." in text(published)
    assert "Draft" in text(team.as_owner.get(team.page))
    assert FestivalMember.select().count() == 1


def test_an_editor_edits_an_event_in_the_owners_library(team):
    team.add(team.editor.email)
    prefix = f"e{team.event}-"  # the edit form's fields are named per event
    fields = {
        "event_name": "Sächsische Bläserphilharmonie – Abendkonzert",
        "event_start": JULY_3 + "18:30",
        "event_end": JULY_3 + "20:00",
        "event_description": "Open air an der Elbe",
        "artists": "Bläserphilharmonie, Dresdner Kapellknaben",
        "location": "Hauptbühne",
    }
    data = {"csrf_token": csrf_token(team.as_editor, f"{team.page}/events")}
    data |= {prefix + name: value for name, value in fields.items()}

    response = team.as_editor.post(f"{team.page}/events/{team.event}", data=data)

    assert response.status_code == 303, text(response)
    assert Event.get_by_id(team.event).name == "Sächsische Bläserphilharmonie – Abendkonzert"
    # the new artist joins the festival owner's library, next to the one already there (no copy of it)
    assert sorted((a.name, a.owner_id) for a in Artist.select()) == [
        ("Bläserphilharmonie", team.owner.id),
        ("Dresdner Kapellknaben", team.owner.id),
    ]


def test_an_editor_is_offered_the_owners_names_and_a_stranger_none(team, factory):
    factory.create("artist", team.editor, name="Bläser aus Jürgens eigener Sammlung")
    names = f"{team.page}/names/artist?artists=Bläser"
    assert team.as_editor.get(names, headers=HTMX).status_code == 404  # not an editor yet: the draft is hidden

    team.add(team.editor.email)
    offered = text(team.as_editor.get(names, headers=HTMX))

    # the names the event's artists will resolve in: the owner's library, not the editor's own
    assert "Bläserphilharmonie" in offered and "Jürgens" not in offered
    assert "Hauptbühne" in text(team.as_editor.get(f"{team.page}/names/location?location=haupt", headers=HTMX))


def test_the_dashboard_lists_festivals_one_edits_with_the_role(team):
    assert FESTIVAL not in text(team.as_editor.get("/festivals"))
    team.add(team.editor.email)

    page = text(team.as_editor.get("/festivals"))

    assert FESTIVAL in page and '<span class="badge member-role">editor</span>' in page


def test_the_owner_removes_an_editor_who_then_loses_the_draft(team):
    team.add(team.editor.email)
    token = csrf_token(team.as_owner, team.page)

    response = team.as_owner.post(
        f"{team.page}/members/{team.editor.id}/remove", data={"csrf_token": token}, headers=HTMX
    )

    assert response.status_code == 200
    assert "jürgen.weiß@elbhangfest.example no longer edits this festival." in text(response)
    assert member_emails(text(response)) == [team.owner.email]
    assert team.as_editor.get(team.page).status_code == 404


def test_an_editor_leaves_and_is_sent_to_the_dashboard(team):
    team.add(team.editor.email)
    token = csrf_token(team.as_editor, team.page)

    response = team.as_editor.post(f"{team.page}/members/{team.editor.id}/remove", data={"csrf_token": token})

    assert response.status_code == 303 and response.headers["Location"].endswith("/festivals")
    page = text(team.as_editor.get("/festivals"))
    assert "You are no longer an editor of that festival." in page and FESTIVAL not in page


def test_a_stage_an_editor_names_joins_the_owners_library(team):
    team.add(team.editor.email)
    timetable = f"{team.page}/timetable"

    response = team.as_editor.post(
        f"{team.page}/stages", data={"csrf_token": csrf_token(team.as_editor, timetable), "stage_name": "Hauptbühne"}
    )
    added = team.as_editor.post(
        f"{team.page}/stages",
        data={"csrf_token": csrf_token(team.as_editor, timetable), "stage_name": "Zelt am Elbufer"},
    )

    assert response.status_code == 422  # the owner's Hauptbühne is a stage already: no second one
    assert added.status_code == 303
    assert sorted((row.name, row.owner_id) for row in Location.select()) == [
        ("Hauptbühne", team.owner.id),
        ("Zelt am Elbufer", team.owner.id),
    ]
