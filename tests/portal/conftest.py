"""Fixtures of the portal's tests: a creator and a client logged in as that creator."""

import pytest

from tests.identity.test_pages import client_for, log_in


@pytest.fixture
def creator(factory):
    return factory.user("creator")


@pytest.fixture
def browser_client(app, creator):
    client = client_for(app)
    assert log_in(client, creator.email).status_code == 303
    return client
