def test_health_answers_ok(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_festival_list_with_api_key_has_contract_shape(client, factory):
    owner = factory.user("creator")
    festival = factory.create("festival", owner, name="Sonnenklang")
    headers = factory.api_key_headers()
    response = client.get("/api/v1/festivals?include=image,link,place,tag", headers=headers)
    assert response.status_code == 200
    [item] = response.get_json()["data"]
    assert item["festival_id"] == festival["festival_id"]
    assert item["include"] == {"image": [], "link": [], "place": [], "tag": []}
