"""EXPLAIN (ANALYZE, BUFFERS) of the row queries behind API reads, on the database of FESTIVALS_DATABASE_URL.

    .venv/bin/python bench/explain_reads.py '/api/v1/events?name=Aurora%20Bass&limit=50' ...

Each path is read once through the app (as an API-key caller, response cache off); the SQL it runs is captured
from peewee's log and explained with the same parameters. Prints one plan per statement."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import create_app  # noqa: E402
from app.db import db  # noqa: E402
from app.services.api_keys import create_key  # noqa: E402


class Capture(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.statements = []

    def emit(self, record):
        if isinstance(record.msg, tuple):
            self.statements.append(record.msg)


def main(paths: list[str]) -> int:
    app = create_app({"READ_CACHE_BYTES": 0})
    with app.app_context():
        db.connect(reuse_if_open=True)
        key, _ = create_key("explain-reads")
        db.close()
    client = app.test_client()
    logger = logging.getLogger("peewee")
    capture = Capture()
    logger.addHandler(capture)
    logger.setLevel(logging.DEBUG)
    for path in paths:
        capture.statements.clear()
        response = client.get(path, headers={"Api-Key": key})
        print(f"### {path} -> {response.status_code}, {len(response.data)} bytes")
        rows = [  # a PREPARE (app/sql_shapes.py) is explained as its EXECUTE: the app's one pooled connection
            (sql, params)
            for sql, params in capture.statements
            if not any(table in sql for table in ('"api_key"', '"data_version"'))
            and not sql.startswith(("SET plan_cache_mode", "PREPARE"))
        ]
        with app.app_context():
            db.connect(reuse_if_open=True)
            for sql, params in rows:
                print(f"\n{sql}\n")
                postgres = "postgres" in app.config["DATABASE_URL"]
                prefix = "EXPLAIN (ANALYZE, BUFFERS) " if postgres else "EXPLAIN QUERY PLAN "
                for line in db.execute_sql(prefix + sql, params).fetchall():
                    print("    " + " ".join(str(part) for part in line))
            db.close()
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
