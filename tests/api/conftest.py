"""Fixtures shared by the API tests: a creator, their Bearer headers, an admin's Bearer headers; the app with
the fast read path (api/fast_reads.py) on, or on and off in modules marked `both_read_paths`."""

import pytest


def pytest_generate_tests(metafunc):
    if metafunc.definition.get_closest_marker("both_read_paths") and "fast_reads" in metafunc.fixturenames:
        metafunc.parametrize("fast_reads", [True, False], ids=["fast-path", "flask-path"], indirect=True)


@pytest.fixture
def fast_reads(request) -> bool:
    """Whether API-key cache hits and 304s may be answered below Flask (True unless parametrized)."""
    return getattr(request, "param", True)


@pytest.fixture
def app(make_app, fast_reads):
    return make_app(FAST_READS=fast_reads)


@pytest.fixture
def creator(factory):
    return factory.user("creator")


@pytest.fixture
def writer(factory, creator):
    return factory.bearer(creator)


@pytest.fixture
def admin(factory):
    return factory.bearer(factory.user("admin"))
