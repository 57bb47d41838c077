"""Linking and unlinking: to-one replace, to-many without duplicates, cascades, versions, audit."""

import pytest

from app.db import db
from app.models import AuditEntry

pytestmark = pytest.mark.both_read_paths  # each test with the fast read path on and off (tests/api/conftest.py)


@pytest.fixture
def owner(factory):
    return factory.user("creator")


@pytest.fixture
def auth(factory, owner):
    return factory.bearer(owner)


def ids_of(response, key):
    assert response.status_code == 200, response.get_json()
    return [item[key] for item in response.get_json()["data"]]


def test_link_to_one_replaces_previous(client, factory, owner, auth):
    festival = factory.create("festival", owner)["festival_id"]
    first = factory.create("image", owner)["image_id"]
    second = factory.create("image", owner)["image_id"]
    assert client.post(f"/api/v1/festivals/{festival}/image/{first}", headers=auth).get_json() == {"data": []}
    assert client.post(f"/api/v1/festivals/{festival}/image/{second}", headers=auth).status_code == 200
    assert ids_of(client.get(f"/api/v1/festivals/{festival}/image", headers=auth), "image_id") == [second]


def test_link_to_many_twice_is_one_link(client, factory, owner, auth):
    festival = factory.create("festival", owner)["festival_id"]
    tag = factory.create("tag", owner)["tag_id"]
    for _ in range(2):
        assert client.post(f"/api/v1/festivals/{festival}/tags/{tag}", headers=auth).status_code == 200
    assert ids_of(client.get(f"/api/v1/festivals/{festival}/tags", headers=auth), "tag_id") == [tag]


def test_unlink_removes_only_that_pair(client, factory, owner, auth):
    festival = factory.create("festival", owner)["festival_id"]
    links = [factory.create("link", owner)["link_id"] for _ in range(2)]
    for link in links:
        client.post(f"/api/v1/festivals/{festival}/links/{link}", headers=auth)
    response = client.delete(f"/api/v1/festivals/{festival}/links/{links[0]}", headers=auth)
    assert response.get_json() == {"data": []}
    assert ids_of(client.get(f"/api/v1/festivals/{festival}/links", headers=auth), "link_id") == [links[1]]
    assert client.get(f"/api/v1/links/{links[0]}", headers=auth).status_code == 200  # entity stays


def test_link_unknown_related_is_404(client, factory, owner, auth):
    festival = factory.create("festival", owner)["festival_id"]
    response = client.post(f"/api/v1/festivals/{festival}/tags/9999", headers=auth)
    assert response.status_code == 404
    assert "tag" in response.get_json()["error"]


def test_link_unknown_relation_is_404(client, factory, owner, auth):
    festival = factory.create("festival", owner)["festival_id"]
    assert client.post(f"/api/v1/festivals/{festival}/artist/1", headers=auth).status_code == 404
    assert client.get(f"/api/v1/festivals/{festival}/nonsense", headers=auth).status_code == 404


def test_reverse_relations_are_read_only(client, factory, owner, auth):
    festival = factory.create("festival", owner)["festival_id"]
    event = factory.create("event", owner)["event_id"]
    response = client.post(f"/api/v1/events/{event}/festival/{festival}", headers=auth)
    assert response.status_code == 405
    assert "error" in response.get_json()


def test_event_festival_reverse_read(client, factory, owner, auth):
    festival = factory.create("festival", owner)["festival_id"]
    event = factory.create("event", owner)["event_id"]
    client.post(f"/api/v1/festivals/{festival}/events/{event}", headers=auth)
    assert ids_of(client.get(f"/api/v1/events/{event}/festival", headers=auth), "festival_id") == [festival]
    tag = factory.create("tag", owner)["tag_id"]
    client.post(f"/api/v1/festivals/{festival}/tags/{tag}", headers=auth)
    assert ids_of(client.get(f"/api/v1/tags/{tag}/festivals", headers=auth), "festival_id") == [festival]


def test_event_belongs_to_one_festival(client, factory, owner, auth):
    first = factory.create("festival", owner)["festival_id"]
    second = factory.create("festival", owner)["festival_id"]
    event = factory.create("event", owner)["event_id"]
    assert client.post(f"/api/v1/festivals/{first}/events/{event}", headers=auth).status_code == 200
    response = client.post(f"/api/v1/festivals/{second}/events/{event}", headers=auth)
    assert response.status_code == 409
    assert ids_of(client.get(f"/api/v1/events/{event}/festival", headers=auth), "festival_id") == [first]


def test_delete_entity_removes_relation_rows_not_related(client, factory, owner, auth):
    festival = factory.create("festival", owner)["festival_id"]
    event = factory.create("event", owner)["event_id"]
    tag = factory.create("tag", owner)["tag_id"]
    client.post(f"/api/v1/festivals/{festival}/events/{event}", headers=auth)
    client.post(f"/api/v1/festivals/{festival}/tags/{tag}", headers=auth)
    assert client.delete(f"/api/v1/festivals/{festival}", headers=auth).get_json() == {"data": []}
    assert client.get(f"/api/v1/events/{event}/festival", headers=auth).get_json() == {"data": []}
    assert client.get(f"/api/v1/tags/{tag}/festivals", headers=auth).get_json() == {"data": []}
    assert client.get(f"/api/v1/events/{event}", headers=auth).status_code == 200


def test_delete_related_entity_unlinks_and_bumps_owner_version(client, factory, owner, auth, app):
    festival = factory.create("festival", owner)
    tag = factory.create("tag", owner)["tag_id"]
    client.post(f"/api/v1/festivals/{festival['festival_id']}/tags/{tag}", headers=auth)
    linked_version = client.get(f"/api/v1/festivals/{festival['festival_id']}", headers=auth).get_json()
    with app.app_context(), db.connection_context():
        before = _raw_version(festival["festival_id"])
    client.delete(f"/api/v1/tags/{tag}", headers=auth)
    response = client.get(f"/api/v1/festivals/{festival['festival_id']}?include=tags", headers=auth)
    assert response.get_json()["data"][0]["include"]["tags"] == []
    with app.app_context(), db.connection_context():
        assert _raw_version(festival["festival_id"]) > before
    assert linked_version["data"][0]["festival_id"] == festival["festival_id"]


def _raw_version(festival_id):
    from app.models import Festival

    return Festival.get_by_id(festival_id).version


def test_link_and_unlink_bump_owner_version_and_write_audit(client, factory, owner, auth, app):
    festival = factory.create("festival", owner)["festival_id"]
    tag = factory.create("tag", owner)["tag_id"]
    with app.app_context(), db.connection_context():
        created = _raw_version(festival)
    client.post(f"/api/v1/festivals/{festival}/tags/{tag}", headers=auth)
    with app.app_context(), db.connection_context():
        linked = _raw_version(festival)
    client.delete(f"/api/v1/festivals/{festival}/tags/{tag}", headers=auth)
    with app.app_context(), db.connection_context():
        unlinked = _raw_version(festival)
        actions = [
            (e.entity, e.entity_id, e.action, e.actor_id)
            for e in AuditEntry.select().where(AuditEntry.entity == "festival").order_by(AuditEntry.id)
        ]
    assert created < linked < unlinked
    assert actions == [
        ("festival", festival, "create", owner.id),
        ("festival", festival, "link", owner.id),
        ("festival", festival, "unlink", owner.id),
    ]


def test_update_writes_audit_with_changed_fields_only(client, factory, owner, auth, app):
    festival = factory.create("festival", owner, price="10 Euro")
    body = {**festival, "festival_price": "12 Euro"}  # the iOS client sends whole objects
    assert client.patch(f"/api/v1/festivals/{festival['festival_id']}", json=body, headers=auth).status_code == 200
    with app.app_context(), db.connection_context():
        entry = AuditEntry.select().where(AuditEntry.action == "update").get()
    assert entry.details == '{"fields":["festival_price"]}'


def test_unchanged_patch_keeps_version(client, factory, owner, auth):
    festival = factory.create("festival", owner)
    response = client.patch(f"/api/v1/festivals/{festival['festival_id']}", json=festival, headers=auth)
    assert response.get_json()["data"][0]["festival_version"] == festival["festival_version"]


def test_includes_every_relation_kind(client, factory, owner, auth):
    event = factory.create("event", owner)["event_id"]
    artist = factory.create("artist", owner)["artist_id"]
    location = factory.create("location", owner)["location_id"]
    image = factory.create("image", owner)["image_id"]
    for segment, rid in (("artist", artist), ("location", location), ("image", image)):
        assert client.post(f"/api/v1/events/{event}/{segment}/{rid}", headers=auth).status_code == 200
    data = client.get(f"/api/v1/events/{event}?include=artist,location,image,festival", headers=auth).get_json()
    include = data["data"][0]["include"]
    assert [a["artist_id"] for a in include["artist"]] == [artist]
    assert [loc["location_id"] for loc in include["location"]] == [location]
    assert [i["image_id"] for i in include["image"]] == [image]
    assert include["festival"] == []


def test_name_filter_folds_unicode_case(client, factory, owner, auth):
    wanted = factory.create("artist", owner, name="Ärzte am Öresund")["artist_id"]
    factory.create("artist", owner, name="Somebody else")
    response = client.get("/api/v1/artists?name=ärzte AM ö", headers=auth)
    assert ids_of(response, "artist_id") == [wanted]


def test_name_filter_with_nul_is_400(client, auth):
    response = client.get("/api/v1/artists?name=a%00b", headers=auth)
    assert response.status_code == 400
    assert "name" in response.get_json()["fields"]


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/festivals/99999999999999999999",
        "/api/v1/festivals/2147483648/tags",
        "/api/v1/festivals?ids=1,99999999999999999999&offset=0",
    ],
)
def test_huge_ids_never_overflow(client, auth, url):
    response = client.get(url, headers=auth)
    assert response.status_code in (200, 404)
    assert "data" in response.get_json() or response.get_json() == {"error": "not found"}


def test_huge_offset_is_400(client, auth):
    assert client.get("/api/v1/festivals?offset=99999999999999999999", headers=auth).status_code == 400
