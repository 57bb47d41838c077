"""The registry's state in Redis (FESTIVALS_REDIS_URL): shared by a restarted registry, stale after two missed
beats plus the grace, one alert per change. Real Redis (the suite's), a key prefix of this test's own."""

from __future__ import annotations

import logging
import os
import time
import uuid

import pytest
import redis

from gateway.registry import Registry, parse_heartbeat
from gateway.settings import load_settings

REDIS_URL = os.environ.get("FESTIVALS_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def settings():
    prefix = f"test:registry:{uuid.uuid4().hex}:"
    yield load_settings(
        redis_url=REDIS_URL, redis_prefix=prefix, heartbeat_s=0.2, grace_s=0.1, admin="127.0.0.1:9"
    )  # no Caddy: these tests never push
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)


def test_redis_state_survives_a_registry_restart_and_goes_stale_once(settings, caplog):
    first = Registry(settings)
    beat = parse_heartbeat({"service": "festivals-server", "host": "https://10.0.0.5:8443", "available": True})
    assert first.beat(beat).state == "live"
    restarted = Registry(settings)  # a new process: same Redis, same prefix
    [known] = restarted.instances()
    assert (known.service, known.host, known.port, known.scheme, known.state) == (
        "app",
        "10.0.0.5",
        8443,
        "https",
        "live",
    )
    assert restarted.upstreams()["api"] == ["10.0.0.5:8443"]
    time.sleep(settings.stale_after_s + 0.1)
    with caplog.at_level(logging.WARNING, logger="festivals.gateway"):
        restarted.refresh()
        restarted.refresh()
        first.refresh()  # the same change seen again by another registry: no second alert
    assert [instance.state for instance in restarted.instances()] == ["stale"]
    assert restarted.upstreams()["api"] == []
    alerts = [record.getMessage() for record in caplog.records if "ALERT" in record.getMessage()]
    assert alerts == [f"ALERT instance app 10.0.0.5:8443 is stale (was live, last beat {known.public()['last_beat']})"]
