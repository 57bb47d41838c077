"""Times the CSV import of a large line-up through the portal's real pages (Flask test client, in process)
and prints a markdown table.

    .venv/bin/python bench/import_bench.py --rows 2000

A temporary SQLite database (or FESTIVALS_DATABASE_URL's, used as is) gets a creator and a festival; a CSV of
`--rows` events on 8 stages with 1–3 artists each is uploaded (preview), confirmed (saved), uploaded again
(every row unchanged) and exported. For comparison, `--per-event` events are saved one by one through the
service the events page uses, and that time is scaled to the same number of rows. The goal (issue 24): preview
and confirm of 2,000 rows under 2 s together, saved in one transaction. The table is also written to bench/out/.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
import tempfile
import time
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402
from app.db import db  # noqa: E402
from app.migrations import migrate  # noqa: E402
from app.permissions import Actor  # noqa: E402
from app.services import timetable, users, writes  # noqa: E402
from common.settings import AppSettings, load  # noqa: E402

PASSWORD = "bench password 1"
GOAL_SECONDS = 2.0  # issue 24: preview + confirm of 2,000 rows under 2 s together


def lineup(rows: int, act: str = "Set", artist: str = "Artist") -> str:
    lines = ["name,day,start,end,stage,artists,type,description"]
    for n in range(rows):
        day = dt.date(2027, 7, 1) + dt.timedelta(days=n // 96)
        slot = (n % 96) // 8  # 12 slots a day on each of 8 stages
        start = dt.time(10 + slot, 0)
        artists = ", ".join(f"{artist} {(n * 7 + k) % 900}" for k in range(1 + n % 3))
        when = f"{day},{start:%H:%M},{start.hour}:50"
        lines.append(f'{act} {n},{when},Stage {n % 8},"{artists}",{n % 4},{act} number {n}.')
    return "\n".join(lines) + "\n"


class Fields(HTMLParser):
    def __init__(self, action: str):
        super().__init__()
        self.action, self.inside, self.fields = action, False, {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = attrs.get("action") == self.action
        elif self.inside and tag == "input" and attrs.get("name"):
            self.fields[attrs["name"]] = attrs.get("value") or ""


def form(html: str, action: str) -> dict:
    parser = Fields(action)
    parser.feed(html)
    return parser.fields


def timed(label: str, results: list, work):
    started = time.perf_counter()
    answer = work()
    results.append((label, time.perf_counter() - started))
    return answer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--per-event", type=int, default=100, help="events saved one by one, for comparison")
    parser.add_argument(
        "--json", action="store_true", help="print only {rows, goal, steps: [[label, seconds], ...]} (api_bench.py)"
    )
    args = parser.parse_args()
    if args.json:
        args.per_event = 0
    folder = tempfile.mkdtemp(prefix="import-bench-")
    url = load(AppSettings).database_url or f"sqlite:///{folder}/bench.sqlite3"
    app = create_app(
        {
            "INSTANCE_PATH": folder,
            "DATABASE_URL": url,
            "WTF_CSRF_ENABLED": True,
            "ARGON2_TIME_COST": 1,
            "ARGON2_MEMORY_COST": 1024,
            "LOG_LEVEL": "WARNING",
        }
    )
    with app.app_context():
        migrate(app.extensions["database"])
        db.connect(reuse_if_open=True)
        email = f"bench-{int(time.time())}@example.org"
        user = users.create_user(email, PASSWORD, "creator")
        actor = Actor("user", user_id=user.id, role="creator")
        festival = writes.create("festival", actor, {"festival_name": f"Import bench {email}"})["festival_id"]
        other = writes.create("festival", actor, {"festival_name": f"One by one {email}"})["festival_id"]
        db.close()
    client = app.test_client()
    login = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login).group(1)
    client.post("/login", data={"csrf_token": token, "email": email, "password": PASSWORD})
    text = lineup(args.rows)
    results: list[tuple[str, float]] = []

    def upload():
        page = client.get(f"/festivals/{festival}/import").get_data(as_text=True)
        csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        return client.post(f"/festivals/{festival}/import", data={"csrf_token": csrf, "text": text})

    preview = timed(f"preview of {args.rows} new rows", results, upload)
    assert preview.status_code == 200 and f"{args.rows} new" in preview.get_data(as_text=True)
    fields = form(preview.get_data(as_text=True), f"/festivals/{festival}/import/confirm")
    saved = timed(
        f"confirm: {args.rows} events saved",
        results,
        lambda: client.post(f"/festivals/{festival}/import/confirm", data=fields),
    )
    assert saved.status_code == 303, saved.status_code
    again = timed(f"the same file again ({args.rows} unchanged)", results, upload)
    assert f"{args.rows} unchanged" in again.get_data(as_text=True)
    text = lineup(args.rows, "Auftritt", "Künstlerin")  # no row matches an event: each is compared with all
    other_lineup = timed(f"preview of another line-up ({args.rows} new beside {args.rows})", results, upload)
    assert f"{args.rows} new" in other_lineup.get_data(as_text=True)
    exported = timed("events.csv export", results, lambda: client.get(f"/festivals/{festival}/export/events.csv"))
    assert exported.data.count(b"\n") == args.rows + 1

    if args.json:
        print(json.dumps({"rows": args.rows, "goal": GOAL_SECONDS, "steps": results}))
        return

    with app.app_context():
        db.connect(reuse_if_open=True)
        started = time.perf_counter()
        for n in range(args.per_event):
            timetable.save_event(
                other,
                None,
                actor,
                {
                    "event_name": f"Set {n}",
                    "event_start": 1_800_000_000 + n * 600,
                    "event_end": 1_800_000_000 + n * 600 + 300,
                },
                [f"Artist {n % 50}"],
                f"Stage {n % 8}",
            )
        one_by_one = (time.perf_counter() - started) / args.per_event * args.rows
        db.close()

    total = results[0][1] + results[1][1]
    lines = [
        f"CSV import bench, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, database: {url.split(':')[0]}",
        "",
        "| step | seconds | rows/s |",
        "|---|---:|---:|",
    ]
    lines += [f"| {label} | {seconds:.2f} | {args.rows / seconds:,.0f} |" for label, seconds in results]
    lines += [
        "",
        f"preview + confirm of {args.rows} rows: {total:.2f} s "
        f"(goal: under {GOAL_SECONDS:.0f} s; {total / GOAL_SECONDS:.2f} × the budget)",
        f"the same events saved one by one through the events page's service: {one_by_one:.1f} s "
        f"(measured on {args.per_event}, scaled) → the import is {one_by_one / total:.1f} × faster",
    ]
    table = "\n".join(lines)
    print(table)
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / f"import-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}.md").write_text(table + "\n")


if __name__ == "__main__":
    main()
