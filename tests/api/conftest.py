"""Fixtures shared by the API tests: a creator, their Bearer headers, an admin's Bearer headers."""

import pytest


@pytest.fixture
def creator(factory):
    return factory.user("creator")


@pytest.fixture
def writer(factory, creator):
    return factory.bearer(creator)


@pytest.fixture
def admin(factory):
    return factory.bearer(factory.user("admin"))
