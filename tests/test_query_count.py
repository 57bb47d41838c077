"""A list with includes costs a constant number of queries, whatever the number of rows."""

import pytest


@pytest.fixture
def app(make_app):
    """These tests count the queries of a read that runs: no response cache."""
    return make_app(READ_CACHE_BYTES=0)


def _festivals_with_everything(factory, owner, count):
    for _ in range(count):
        festival = factory.create("festival", owner)["festival_id"]
        for entity, segment in (
            ("image", "image"),
            ("place", "place"),
            ("link", "links"),
            ("link", "links"),
            ("tag", "tags"),
            ("event", "events"),
        ):
            factory.link("festival", festival, segment, factory.create(entity, owner)[f"{entity}_id"], owner)


def _queries_for(client, headers, counter, url):
    counter.count = 0
    response = client.get(url, headers=headers)
    assert response.status_code == 200
    return counter.count, len(response.get_json()["data"])


def test_list_with_includes_query_count_does_not_grow(client, factory, count_queries):
    owner = factory.user("creator")
    headers = factory.api_key_headers()
    url = "/api/v1/festivals?include=image,link,place,tag,events"
    _festivals_with_everything(factory, owner, 2)
    client.get(url, headers=headers)  # a first read, so both counted reads start alike
    few, rows_few = _queries_for(client, headers, count_queries, url)
    _festivals_with_everything(factory, owner, 20)
    many, rows_many = _queries_for(client, headers, count_queries, url)
    assert (rows_few, rows_many) == (2, 22)
    assert many == few
    assert few <= 3 + 5  # key lookup + data versions + rows + one per include


def test_relation_list_with_includes_query_count_does_not_grow(client, factory, count_queries):
    owner = factory.user("creator")
    headers = factory.bearer(owner)
    festival = factory.create("festival", owner)["festival_id"]

    def add_events(n):
        for _ in range(n):
            event = factory.create("event", owner)["event_id"]
            factory.link("festival", festival, "events", event, owner)
            factory.link("event", event, "artist", factory.create("artist", owner)["artist_id"], owner)
            factory.link("event", event, "location", factory.create("location", owner)["location_id"], owner)

    url = f"/api/v1/festivals/{festival}/events?include=artist,location"
    add_events(2)
    few, _ = _queries_for(client, headers, count_queries, url)
    add_events(15)
    many, rows = _queries_for(client, headers, count_queries, url)
    assert rows == 17
    assert many == few
