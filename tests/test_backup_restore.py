"""Backup and restore as docs/deploy.md tells them: `pg_dump --format=custom` of a database with the demo data,
`pg_restore` into a fresh, empty database, and the API answers the same from it (bodies and ETags), keys and
logins included; new rows get new ids (the sequences came along). PostgreSQL on both runs of the suite (on the
SQLite run the server of FESTIVALS_TEST_POSTGRES_URL, which scripts/test starts): production's database is a
PostgreSQL one."""

from __future__ import annotations

import shutil
import subprocess

import orjson
import pytest

from tests.conftest import create_postgres_database, worker_database_name
from tests.processes import factory_for, migrated
from tools.demo import load_demo_data

pytestmark = pytest.mark.processes  # every test starts a process itself

READS = [
    "/api/v1/festivals?include=image,link,place,tag",
    "/api/v1/festivals/1/events?include=artist,location",
    "/api/v1/events?limit=500",
    "/api/v1/artists?limit=500",
    "/api/v1/locations",
    "/api/v1/tags",
]


def answers(instance, url: str, headers: dict) -> list[tuple]:
    with factory_for(instance, url) as factory:
        client = factory.app.test_client()
        return [
            (path, response.status_code, response.headers.get("ETag"), response.get_data(as_text=True))
            for path in READS
            for response in [client.get(path, headers=headers)]
        ]


def test_pg_dump_restored_into_a_fresh_database_answers_the_same(tmp_path):
    for tool in ("pg_dump", "pg_restore"):
        assert shutil.which(tool), f"{tool} is missing (Debian package postgresql-client)"
    source = migrated(create_postgres_database(worker_database_name("backup")))
    restored = create_postgres_database(worker_database_name("restored"))  # empty: no tables
    instance = tmp_path / "instance"
    with factory_for(instance, source) as factory:
        load_demo_data(echo=lambda *args, **kwargs: None)
        api_key = factory.api_key_headers()
    before = answers(instance, source, api_key)
    assert [status for _, status, _, _ in before] == [200] * len(READS)
    assert before[1][3].count('"event_id"') >= 24  # a festival's programme, not an empty list

    dump = tmp_path / "festivals.dump"
    subprocess.run(["pg_dump", "--format=custom", "--no-owner", f"--file={dump}", source], check=True, timeout=300)
    subprocess.run(
        ["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={restored}", str(dump)], check=True, timeout=300
    )

    assert answers(instance, restored, api_key) == before
    with factory_for(instance, restored) as factory:
        client = factory.app.test_client()
        admin = factory.user("admin", email="wiederherstellung@festspiele.example")
        created = client.post(
            "/api/v1/festivals", json={"festival_name": "Nach der Wiederherstellung"}, headers=factory.bearer(admin)
        )
    assert created.status_code == 201, created.get_data(as_text=True)
    known = [row["festival_id"] for row in orjson.loads(before[0][3])["data"]]
    assert created.get_json()["data"][0]["festival_id"] > max(known)
