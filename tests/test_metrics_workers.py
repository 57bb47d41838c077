"""A scrape of a real gunicorn process with 2 workers counts the requests of both (prometheus_client's
multiprocess mode, set up by common/gunicorn_hooks.py), also those of a worker that has died since."""

from __future__ import annotations

import os
import re
import signal
import time
from concurrent.futures import ThreadPoolExecutor

import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.processes import migrated, seed


def served_by(log: str) -> dict[str, int]:
    """Worker pid -> GET /version requests it answered (gunicorn's access log, `access pid=<pid> ...`)."""
    counts: dict[str, int] = {}
    for pid in re.findall(r"access pid=<?(\d+)>? GET /version ", log):
        counts[pid] = counts.get(pid, 0) + 1
    return counts


def sample(url: str, name: str, **labels) -> float:
    text = requests.get(f"{url}/metrics", timeout=10).text
    for family in text_string_to_metric_families(text):
        for found in family.samples:
            if found.name == name and found.labels == labels:
                return found.value
    return 0.0


def version_count(url: str) -> float:
    return sample(url, "festivals_http_requests_total", route="/version", method="GET", status="200")


def answered(url: str) -> bool:
    try:
        return requests.get(f"{url}/version", timeout=10).ok
    except requests.RequestException:  # the killed worker's connection
        return False


def send(url: str, pool, n: int = 40) -> int:
    """How many of n concurrent GET /version were answered."""
    return sum(pool.map(lambda _: answered(url), range(n)))


def test_a_scrape_sums_every_worker_and_keeps_a_dead_workers_counts(tmp_path, serve_app):
    url = migrated(f"sqlite:///{tmp_path / 'festivals.sqlite3'}")
    seed(tmp_path / "instance", url)
    stale = tmp_path / "instance" / "metrics" / "999999999"  # a master that is gone: cleaned at start
    stale.mkdir(parents=True)
    server = serve_app(tmp_path, url)
    assert not stale.exists()

    sent = 0
    with ThreadPoolExecutor(8) as pool:
        for _ in range(20):  # until both workers have answered some
            sent += send(server.url, pool)
            time.sleep(0.2)  # the access log is written after the answer
            if len(served_by(server.log())) == 2:
                break
        workers = served_by(server.log())
        assert len(workers) == 2 and all(workers.values()), workers
        assert version_count(server.url) == sent  # whichever worker answers the scrape
        max_connections = sample(server.url, "festivals_db_pool_connections", state="max")
        assert max_connections == 2 * 16  # each live worker's pool (a gauge summed over live processes)

        killed = next(iter(workers))
        os.kill(int(killed), signal.SIGKILL)  # gunicorn starts another worker; the counts stay
        for _ in range(40):  # until the new worker has answered too
            time.sleep(0.25)
            sent += send(server.url, pool, 8)
            if len(set(served_by(server.log())) - {killed}) == 2:
                break
    assert len(set(served_by(server.log())) - {killed}) == 2
    assert version_count(server.url) == sent
    # child_exit dropped the dead worker's gauges: two live pools, not three
    assert sample(server.url, "festivals_db_pool_connections", state="max") == 2 * 16

    folders = list((tmp_path / "instance" / "metrics").iterdir())
    assert [folder.name for folder in folders] == [str(server.process.pid)]
    server.stop()
    assert not folders[0].exists()  # a clean stop takes its folder along
