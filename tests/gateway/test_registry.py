"""The registry's state in Redis (FESTIVALS_REDIS_URL): shared by a restarted registry, stale after two missed
beats plus the grace, one alert per change. Real Redis (the suite's), a key prefix of this test's own."""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import replace

import pytest
import redis

from gateway.registry import Registry, parse_heartbeat
from gateway.settings import load_settings, parse_upstreams
from tests.conftest import SUITE

REDIS_URL = SUITE.test_redis_url


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
    first.refresh()  # the loop's pass: the app has a live instance (kept in Redis with the states)
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
    assert alerts == [
        f"ALERT instance app 10.0.0.5:8443 is stale (was live, last beat {known.public()['last_beat']})",
        "ALERT service app has no live instance (10.0.0.5:8443 stale)",
    ]


def test_upstream_ranges_allow_only_what_is_configured():
    from gateway.registry import Instance, address_refusal

    settings = load_settings(
        upstreams_allowed=parse_upstreams("10.20.0.0/16:8000-8999,festivals-app-1.internal:5100,[fd00::/8]:443"),
        registry="10.20.0.1:8090",
    )

    def refusal(host, port):
        return address_refusal(settings, Instance("app", host, port))

    assert refusal("10.20.3.4", 8443) is None
    assert refusal("festivals-app-1.internal", 5100) is None
    assert refusal("fd00::12", 443) is None
    for host, port in [("10.20.3.4", 9000), ("10.21.0.1", 8443), ("festivals-app-2.internal", 5100), ("fd00::12", 80)]:
        assert "FESTIVALS_REGISTRY_UPSTREAMS" in refusal(host, port)
    assert "gateway itself" in refusal("10.20.0.1", 8090)  # the registry's own address, inside the range
    default = load_settings()
    assert address_refusal(default, Instance("app", "127.0.0.1", 5100)) is None
    assert "gateway itself" in address_refusal(default, Instance("app", "127.0.0.1", 2019))
    assert address_refusal(default, Instance("app", "169.254.169.254", 80))


@pytest.mark.parametrize("value", ["", " , ", "10.0.0.0/8:80-", "10.0.0.0/8:0", "10.0.0.0/8:90-80", "bad host!", "x:y"])
def test_bad_upstream_ranges_are_refused_at_start(value):
    with pytest.raises(ValueError, match="FESTIVALS_REGISTRY_UPSTREAMS"):
        parse_upstreams(value)


def test_redis_state_caps_instances_per_service_and_forgets_stale_ones(settings):
    from gateway.registry import Full

    registry = Registry(replace(settings, max_instances=2, forget_after_s=0.3))
    for port in (8001, 8002):
        registry.beat(parse_heartbeat({"service": "files", "host": "10.0.0.7", "port": port}))
    with pytest.raises(Full, match="FESTIVALS_REGISTRY_MAX_INSTANCES"):
        registry.beat(parse_heartbeat({"service": "files", "host": "10.0.0.7", "port": 8003}))
    assert registry.beat(parse_heartbeat({"service": "app", "host": "10.0.0.7", "port": 8003})).state == "live"
    assert registry.beat(parse_heartbeat({"service": "files", "host": "10.0.0.7", "port": 8001})).state == "live"
    time.sleep(settings.stale_after_s + 0.1)
    registry.refresh()  # stale now
    assert {row.state for row in registry.instances()} == {"stale"}
    time.sleep(0.4)
    registry.refresh()  # stale for longer than forget_after_s: gone, from Redis too
    assert registry.instances() == [] and Registry(settings).instances() == []
    assert registry.beat(parse_heartbeat({"service": "files", "host": "10.0.0.7", "port": 8003})).state == "live"
