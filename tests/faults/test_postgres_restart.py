"""PostgreSQL stopped and started again while the app serves under gunicorn: 503 with the envelope while it is
down (fast, no hanging threads), /health alive and /ready naming the database, and every answer back to normal
once it is up again, without restarting the app. On a private throwaway cluster (initdb in a temp folder, its
own port): the shared server is never stopped. Runs whatever FESTIVALS_DATABASE_URL says."""

from __future__ import annotations

import time

import requests

from tests.processes import migrated, seed, timed

DOWN_ANSWER_S = 3.0  # a request while the server is down answers within this (connection refused at once)
ENVELOPE = {"error": "the database is unavailable; try again shortly"}


def test_postgres_down_answers_503_and_the_app_recovers_without_a_restart(cluster, tmp_path, serve_app):
    url = migrated(cluster.create_database("festivals"))
    seeded = seed(tmp_path / "instance", url)
    server = serve_app(tmp_path, url)
    base = server.url
    festival = f"{base}/api/v1/festivals/{seeded['festival_id']}"

    def calls():
        return {
            "Api-Key read": lambda: requests.get(festival, headers=seeded["api_key"], timeout=10),
            "Bearer read": lambda: requests.get(f"{festival}/events", headers=seeded["creator"], timeout=10),
            "write": lambda: requests.post(
                f"{base}/api/v1/festivals", json={"festival_name": f"f{time.time_ns()}"}, headers=seeded["creator"]
            ),
        }

    for name, call in calls().items():
        assert call().ok, name  # the pool holds live connections now

    cluster.stop()
    for name, call in calls().items():
        response, seconds = timed(call)
        assert response.status_code == 503, (name, response.text)
        assert response.json() == ENVELOPE and response.headers["Retry-After"], name
        assert seconds < DOWN_ANSWER_S, (name, seconds)
    assert requests.get(f"{base}/health", timeout=5).status_code == 200
    ready = requests.get(f"{base}/ready", timeout=5)
    assert ready.status_code == 503 and ready.json()["database"] == "unreachable"

    cluster.start()
    ready = requests.get(f"{base}/ready", timeout=5)
    assert ready.status_code == 200 and ready.json()["database_write"] == "ok"
    for _ in range(3):  # every pooled connection died with the server: none of them is handed out again
        for name, call in calls().items():
            response = call()
            assert response.ok, (name, response.status_code, response.text)
    assert server.process.poll() is None  # the same app all along
    assert "database unavailable" in server.log()
