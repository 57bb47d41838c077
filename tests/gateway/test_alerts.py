"""Alerts on the webhook from the real gateway (tests/gateway fixtures), on a PostgreSQL cluster of this
module alone (tests/faults: initdb into a temp folder) so that the database can be stopped: the database down
and back, a service without a live instance, a certificate close to expiry."""

from __future__ import annotations

import pytest
import requests

from app.db import close_database, open_database
from app.migrations import migrate
from common import pki
from tests.faults.conftest import Cluster
from tests.processes import starts_process


@pytest.fixture(scope="module")
@starts_process
def cluster():
    cluster = Cluster()
    cluster.start()
    yield cluster
    cluster.remove()


@pytest.fixture(scope="module")
def gateway_database(cluster) -> str:
    """Overrides tests/gateway/conftest.py's: this module's processes use the cluster it may stop."""
    url = cluster.create_database("festivals_alerts")
    database = open_database(url)
    migrate(database)
    close_database(database)
    return url


def since(webhook, start: int, kind: str) -> list[dict]:
    return [alert for alert in webhook.alerts[start:] if alert["alert"] == kind]


def test_database_down_raises_an_alert_within_seconds_and_its_return_another(stack, webhook, cluster):
    start = len(webhook.alerts)
    cluster.stop()
    try:
        took = stack.wait_until(lambda: since(webhook, start, "database_down"), 30, "a database_down alert")
        [down] = since(webhook, start, "database_down")
        # said by the first instance that found it (app or identity: the file server has no database)
        assert down["instances"] and {entry.split()[0] for entry in down["instances"]} <= {"app", "identity"}, down
        stack.wait_until(
            lambda: "app" in {alert["service"] for alert in since(webhook, start, "service_down")},
            15,
            "a service_down alert for the app: no instance of it is live",
        )
        assert "files" not in {alert["service"] for alert in since(webhook, start, "service_down")}  # no database
        response = stack.get("api", "/festivals", headers=stack.api_headers)
        assert response.status_code == 503
    finally:
        cluster.start()
    stack.wait_until(lambda: since(webhook, start, "database_back"), 60, "a database_back alert")
    stack.wait_until(
        lambda: "app" in {alert["service"] for alert in since(webhook, start, "service_back")}, 30, "app back"
    )
    assert took < 30
    assert len(since(webhook, start, "database_down")) == 1  # said once, not at every beat
    assert "ALERT the database does not answer" in stack.log("registry")
    assert stack.get("api", "/festivals", headers=stack.api_headers).status_code == 200


def test_certificate_close_to_expiry_raises_an_alert(stack, webhook):
    start = len(webhook.alerts)
    pki.issue(stack.pki, "partner-feed", dns=["feed.festivals.localhost"], days=12)
    stack.terminate("files")  # certificates are read at start (and once a minute)
    stack.start_instance("files")

    def expiring():
        return [alert for alert in since(webhook, start, "certificate_expiring") if alert["service"] == "files"]

    stack.wait_until(lambda: any(a["certificate"] == "partner-feed" for a in expiring()), 60, "an expiry alert")
    [alert] = [a for a in expiring() if a["certificate"] == "partner-feed"]
    assert alert["days_left"] in (11, 12) and alert["port"] == stack.ports["files"]


def test_many_5xx_answers_raise_an_error_rate_alert(stack, webhook, cluster):
    """The instances' 5xx share travels with their heartbeats (from their metric files) to the registry."""
    start = len(webhook.alerts)
    cert = (str(stack.pki / "gateway.pem"), str(stack.pki / "gateway.key"))
    cluster.stop()
    try:
        # straight to an instance (the gateway stops routing to it once its heartbeat says "not available")
        statuses = [
            requests.get(
                f"https://{stack.address('app1')}/api/v1/festivals", headers=stack.api_headers, cert=cert, timeout=30
            ).status_code
            for _ in range(30)
        ]
        assert statuses == [503] * 30
        stack.wait_until(lambda: since(webhook, start, "error_rate_high"), 30, "an error_rate_high alert")
    finally:
        cluster.start()
    [alert] = since(webhook, start, "error_rate_high")
    assert alert["errors"] >= 1 and alert["errors"] / alert["answers"] >= 0.05 and alert["answers"] >= 20
    stack.wait_until(lambda: since(webhook, start, "database_back"), 60, "the database back")
