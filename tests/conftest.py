"""A fresh app and a fresh database per test.

SQLite (default): a migrated template file is copied into each test's temp folder.
PostgreSQL (FESTIVALS_DATABASE_URL=postgresql://...): each pytest-xdist worker creates its own
database on that server once, migrates it, and every test starts from emptied tables."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import psycopg2
import pytest

from app import create_app
from app.db import close_database, db, open_database
from app.migrations import migrate
from app.services.api_keys import KEY_USE
from common.settings import AppSettings, Suite, load
from tests.factories import Factory
from tests.processes import Gunicorn, app_env, starts_process

SUITE = load(Suite)  # the suite's own settings (FESTIVALS_TEST_*), common/settings.py
BASE_URL = load(AppSettings).database_url
USE_POSTGRES = urlparse(BASE_URL).scheme.startswith("postgres")
# The server of the few tests that need PostgreSQL on a SQLite run too (scripts/test starts it)
POSTGRES_URL = BASE_URL if USE_POSTGRES else SUITE.test_postgres_url
CHEAP_ARGON2 = {"ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 1024}
# Last uses of keys are written by the tests' own KEY_USE.flush() (each test's end, or the test itself): a
# background write in the middle of a test would show in count_queries.
KEY_USE.FLUSH_S = 24 * 3600


# --- lanes: `processes` and `browser` marks (pyproject.toml; scripts/test --fast runs the tests with neither) ----
LANE_MARKS = ("processes", "browser")


@pytest.hookimpl(tryfirst=True)  # before pytest-random-order reads the marks
def pytest_collection_modifyitems(items):
    """A test using a fixture under @starts_process / @starts_chromium (tests/processes.py) gets its mark; a test
    that starts a process itself carries the mark in its module.

    A random order (.ci/run's SQLite phase) shuffles the modules of process tests but not the tests within one:
    they share a module's running stack (gateway, registry, instances) and a test there may leave it changed on
    purpose (an instance killed, a registration refused) for the next one's set-up."""
    for item in items:
        for definitions in item._fixtureinfo.name2fixturedefs.values():
            if marker := getattr(definitions[-1].func, "starts_process", None):
                item.add_marker(marker)
        if item.get_closest_marker("processes"):
            item.add_marker(pytest.mark.random_order(disabled=True))


_current_test: list[pytest.Item] = []  # the test whose setup, call or teardown runs now in this process


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    _current_test.append(item)
    try:
        return (yield)
    finally:
        _current_test.pop()


_popen_init = subprocess.Popen.__init__


def _popen_of_a_marked_test(self, args, *rest, **options):
    """The marks stay exact: a test without one that starts a process fails, naming the command."""
    test = _current_test[-1] if _current_test else None
    if test is not None and not any(test.get_closest_marker(mark) for mark in LANE_MARKS):
        raise RuntimeError(
            f"{test.nodeid} starts a process ({args!r}) but is not marked: add pytestmark = pytest.mark.processes"
            " (or @pytest.mark.processes), or put its fixture under @starts_process"
        )
    _popen_init(self, args, *rest, **options)


subprocess.Popen.__init__ = _popen_of_a_marked_test


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def postgres_url(database: str) -> str:
    assert POSTGRES_URL, (
        "no PostgreSQL server: set FESTIVALS_DATABASE_URL or FESTIVALS_TEST_POSTGRES_URL (scripts/test does)"
    )
    return urlunparse(urlparse(POSTGRES_URL)._replace(path="/" + database))


def worker_database_name(purpose: str = "") -> str:
    """This worker's database name, derived from FESTIVALS_DATABASE_URL's, so that runs against the same
    server with other base names (other checkouts, CI) never drop each other's databases."""
    base = urlparse(POSTGRES_URL).path.lstrip("/") or "festivals_test"
    return f"{base}_{purpose}_{_worker()}" if purpose else f"{base}_{_worker()}"


def create_postgres_database(name: str) -> str:
    """(Re)create a database on the server of FESTIVALS_DATABASE_URL; fails loudly when unreachable."""
    admin = psycopg2.connect(postgres_url("postgres"))
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    return postgres_url(name)


@pytest.fixture(scope="session")
def database_template(tmp_path_factory):
    """URL of the per-worker PostgreSQL database, or path of a migrated SQLite template file."""
    if USE_POSTGRES:
        url = create_postgres_database(worker_database_name())
        database = open_database(url)
        migrate(database)
        close_database(database)
        return url
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    database = open_database(f"sqlite:///{path}")
    migrate(database)
    close_database(database)
    return str(path)


_EMPTYING: dict[str, str] = {}


def _empty_postgres(url: str) -> None:
    """Empty every table and restart the id sequences. DELETE on these small tables is much faster
    than TRUNCATE, which replaces each table's files; FK checks are off for this session only."""
    connection = psycopg2.connect(url)
    connection.autocommit = True
    with connection.cursor() as cursor:
        if url not in _EMPTYING:
            cursor.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migration'"
            )
            deletes = "".join(f'DELETE FROM "{row[0]}";' for row in cursor.fetchall())
            cursor.execute("SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'")
            restarts = "".join(f"SELECT setval('\"{row[0]}\"', 1, false);" for row in cursor.fetchall())
            _EMPTYING[url] = f"SET session_replication_role = replica;{deletes}{restarts}"
        cursor.execute(_EMPTYING[url])
    connection.close()


@pytest.fixture
def database_url(database_template, tmp_path) -> str:
    if USE_POSTGRES:
        _empty_postgres(database_template)
        return database_template
    path = tmp_path / "festivals.sqlite3"
    shutil.copy(database_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def make_app(database_url, tmp_path):
    """Build the app with extra config (e.g. READ_ONLY); the same database for every build in a test."""
    built = []

    def build(**config):
        settings = {
            "TESTING": True,
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "DATABASE_URL": database_url,
            **CHEAP_ARGON2,
            **config,
        }
        application = create_app(settings)
        built.append(application)
        return application

    yield build
    KEY_USE.flush()  # keys' last uses go to this test's database, never to a later test's
    for application in built:
        close_database(application.extensions["database"])


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def factory(app):
    """Users, tokens, keys and entities made directly through the services (fast, no HTTP)."""
    with app.app_context():
        db.connect(reuse_if_open=True)
        yield Factory(app)
        if not db.is_closed():
            db.close()


class QueryCounter(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.count = 0
        self.sql: list[str] = []  # the statements themselves (from the start, or since `reset`)

    def emit(self, record):
        self.count += 1
        self.sql.append(str(record.msg[0]) if isinstance(record.msg, tuple) else record.getMessage())

    def reset(self) -> None:
        self.count = 0
        self.sql.clear()


@pytest.fixture
def count_queries():
    """Counts the SQL statements peewee runs while the test runs (`count`, and `sql` the statements; the test
    may reset them)."""
    logger = logging.getLogger("peewee")
    counter = QueryCounter()
    old_level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(counter)
    yield counter
    logger.removeHandler(counter)
    logger.setLevel(old_level)


@pytest.fixture
@starts_process
def serve_app():
    """serve_app(folder, url, **env): the app under gunicorn on that database; stopped after the test."""
    started: list[Gunicorn] = []

    def start(folder: Path, url: str, **env) -> Gunicorn:
        server = Gunicorn("wsgi:app", folder, app_env(folder / "instance", url, **env), name=f"app{len(started)}")
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
@starts_process
def moto(tmp_path_factory):
    """The suite's S3 server process (moto's standalone server); each user makes its own bucket."""
    from tests.s3 import MotoServer

    server = MotoServer(tmp_path_factory.mktemp("moto"))
    yield server
    server.stop()
