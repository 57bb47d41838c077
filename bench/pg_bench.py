"""PostgreSQL reads as the table grows: service time at one connection, throughput at 16; prints a markdown table.

    .venv/bin/python bench/pg_bench.py [--pg-url postgresql://postgres@127.0.0.1:5432/fa_bench]
        [--sizes 10000,1000000] [--names words,realistic] [--duration 10s]

For each size (events; a festival per 100) and kind of names (`words`: the seed's 40-word list, where every
`name=` trigram matches a 40th of the events; `realistic`: 1-5 word names like a line-up's), a database
`<pg-url's name>_s<SEED_VERSION>_<names>_<events>` is seeded once with `bench-seed` and kept: later runs reuse it
(it is built under a `_loading` name and renamed when complete, so an interrupted seed is never reused; a new
tools/bench_seed.py SEED_VERSION seeds again). Then gunicorn serves it (response cache off) and each read is
measured twice, cycling through its paths: wrk -c1 (p50/p95/p99, the service time without queueing) and
wrk -c16 (req/s); during the one-connection run, the CPU time of gunicorn's processes and of the database's
backends (read from /proc: a local server) per request, which a busy machine does not change as it does
latencies. Targets (issue 24): p95 at one connection under 20 ms at the largest size, and its throughput
within 1.5x of the smallest size's. `bench/api_bench.py --pg-url` runs this too.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import subprocess
import sys
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.api_bench import ROOT, Bench, BenchError, flask, fmt_ms, http_get, rps, venv_python  # noqa: E402
from common.launch import process_env  # noqa: E402
from tools.bench_seed import SEED_VERSION, WORDS  # noqa: E402

READS = (
    "`/events?name=…&limit=50`",
    "`/festivals/{id}/events?include=artist,location`",
    "`/events?updated_since=…&limit=100`",
)
SINCE_ROWS = range(500, 5001, 500)  # an updated_since read finds this many newer events, at every size


def database_url(url: str, name: str) -> str:
    return urllib.parse.urlunparse(urllib.parse.urlparse(url)._replace(path="/" + name))


def seeded(url: str, events: int, names: str, env: dict[str, str]) -> str:
    """The URL of a database holding the seed of `events` events with `names`, seeded now when missing."""
    import psycopg2

    base = urllib.parse.urlparse(url).path.lstrip("/") or "fa_bench"
    name = f"{base}_s{SEED_VERSION}_{names}_{events}"
    admin = psycopg2.connect(database_url(url, "postgres"))
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cursor.fetchone() is None:
                loading = f"{name}_loading"
                cursor.execute(f'DROP DATABASE IF EXISTS "{loading}" WITH (FORCE)')
                cursor.execute(f'CREATE DATABASE "{loading}"')
                seed_env = {**env, "FESTIVALS_DATABASE_URL": database_url(url, loading)}
                flask(seed_env, "migrate")
                festivals = max(1, events // 100)
                print(f"bench: seeding {name}: {festivals} festivals / {events} events ({names} names)", flush=True)
                print(
                    "bench: "
                    + flask(
                        seed_env, "bench-seed", "--festivals", str(festivals), "--events", str(events), "--names", names
                    )
                    .strip()
                    .splitlines()[-1],
                    flush=True,
                )
                cursor.execute(f'ALTER DATABASE "{loading}" RENAME TO "{name}"')
    finally:
        admin.close()
    target = database_url(url, name)
    flask({**env, "FESTIVALS_DATABASE_URL": target}, "migrate")  # migrations newer than the seed
    return target


def cpu_seconds(pids: set[int]) -> dict[int, float]:
    """Each process's CPU time so far (user + system, all its threads), for those that still run."""
    tick = os.sysconf("SC_CLK_TCK")
    found = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found[pid] = (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return found


def app_pids(master: int) -> set[int]:
    """gunicorn's master and its workers."""
    pids = {master}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == master:
                pids.add(int(stat.parent.name))
        except (OSError, ValueError):
            continue
    return pids


def backend_pids(url: str) -> set[int]:
    """The PostgreSQL backends connected to the database of `url` (their CPU is readable when the server is local)."""
    import psycopg2

    name = urllib.parse.urlparse(url).path.lstrip("/")
    with psycopg2.connect(database_url(url, "postgres")) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [name])
        return {row[0] for row in cursor.fetchall()}


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float | None:
    """CPU seconds spent between two `cpu_seconds` readings (a process new since the first counts from zero)."""
    return sum(after[pid] - before.get(pid, 0.0) for pid in after) if after else None


def read_paths(url: str, names: str) -> dict[str, list[str]]:
    """Each read's paths: 20 searches, 20 published festivals, 10 points in time."""
    import psycopg2

    with psycopg2.connect(url) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*), MIN(event_id), MAX(event_id) FROM event")
        count, first, last = cursor.fetchone()
        if names == "words":
            searches = [f"{a} {b}" for a in WORDS[:8] for b in WORDS[:8] if a != b][:20]
        else:  # the first word of names spread over the table: what a visitor types to find an act
            step = max(1, (last - first) // 20)
            cursor.execute(
                "SELECT event_name FROM event WHERE event_id >= %s AND (event_id - %s) %% %s = 0 ORDER BY event_id "
                "LIMIT 20",
                [first, first, step],
            )
            searches = [row[0].split()[0] for row in cursor.fetchall()]
        cursor.execute("SELECT COUNT(*) FROM festival WHERE festival_is_valid")
        cursor.execute(  # published festivals past the first hundred (past the first half of a small database)
            "SELECT festival_id FROM festival WHERE festival_is_valid ORDER BY festival_id LIMIT 20 OFFSET %s",
            [min(100, cursor.fetchone()[0] // 2)],
        )
        festivals = [row[0] for row in cursor.fetchall()]
        since = []
        for rows in SINCE_ROWS:
            cursor.execute(
                "SELECT event_version FROM event ORDER BY event_version DESC LIMIT 1 OFFSET %s", [min(rows, count - 1)]
            )
            since.append(cursor.fetchone()[0].strftime("%Y-%m-%dT%H:%M:%SZ"))
    quote = urllib.parse.quote
    name_read, festival_read, since_read = READS
    return {
        name_read: [f"/api/v1/events?name={quote(name)}&limit=50" for name in searches],
        festival_read: [f"/api/v1/festivals/{fid}/events?include=artist,location" for fid in festivals],
        since_read: [f"/api/v1/events?updated_since={t}&limit=100" for t in since],
    }


def measure(bench: Bench, env: dict[str, str], url: str, events: int, names: str) -> dict[str, dict]:
    """Per read: p50/p95/p99 at one connection, req/s at 16, errors, the paths (the app is stopped after)."""
    target = seeded(url, events, names, env)
    paths = read_paths(target, names)
    app_env = {**env, "FESTIVALS_DATABASE_URL": target, "FESTIVALS_READ_CACHE_BYTES": "0"}
    key = flask(app_env, "create-api-key", "--comment", "pg bench").strip().splitlines()[-1].strip()
    headers = {"Api-Key": key}
    started = len(bench.processes)
    base = bench.gunicorn(f"app-{names}-{events}", "wsgi:app", app_env)
    figures = {}
    try:
        for label, read in paths.items():
            statuses = {http_get(base + path, headers, timeout=60)[0] for path in read}  # also warms the caches
            app, backends = app_pids(bench.processes[started].pid), backend_pids(target)
            app_before, pg_before = cpu_seconds(app), cpu_seconds(backends)
            one = bench.wrk(f"{label} {names} {events} c1", base, headers, 1, bench.args.pg_duration, read, threads=1)
            app_cpu = cpu_used(app_before, cpu_seconds(app_pids(bench.processes[started].pid)))
            pg_cpu = cpu_used(pg_before, cpu_seconds(backends | backend_pids(target)))
            per_request = {  # CPU ms per request at one connection: what load on the machine does not change
                "app": app_cpu * 1000 / one.requests if app_cpu is not None and one.requests else None,
                "pg": pg_cpu * 1000 / one.requests if pg_cpu is not None and one.requests else None,
            }
            many = bench.wrk(f"{label} {names} {events} c16", base, headers, 16, bench.args.pg_duration, read)
            figures[label] = {"one": one, "many": many, "statuses": statuses - {200}, "paths": read, "cpu": per_request}
    finally:
        for proc in bench.processes[started:]:
            proc.terminate()
            proc.wait(timeout=30)
        del bench.processes[started:]
    return figures


def pg_tables(bench: Bench, env: dict[str, str], url: str, sizes: list[int], kinds: list[str]) -> tuple[str, str]:
    """The table (markdown) and EXPLAIN ANALYZE of each read's first path on the largest database."""
    smallest, largest = min(sizes), max(sizes)
    rows = [
        "| read | names | events | p50 (1 conn) | p95 (1 conn) | p99 (1 conn) | req/s (16 conn) "
        f"| vs {smallest:,} | p95 < 20 ms | within 1.5x | CPU/request (1 conn): app + PostgreSQL |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|---|---|",
    ]
    plans = ""
    for names in kinds:
        results = {events: measure(bench, env, url, events, names) for events in sorted(set(sizes))}
        for label in READS:
            base_rps = results[smallest][label]["many"].rps
            for events, figures in results.items():
                one, many = figures[label]["one"], figures[label]["many"]
                errors = one.errors + many.errors + len(figures[label]["statuses"])
                slower = base_rps / many.rps if base_rps and many.rps else None
                p95_met = "yes" if one.p95_ms is not None and one.p95_ms < 20 else "no"
                within = "–" if events == smallest else ("yes" if slower is not None and slower <= 1.5 else "no")
                rows.append(
                    f"| {label} | {names} | {events:,} | {fmt_ms(one.p50_ms)} | {fmt_ms(one.p95_ms)} "
                    f"| {fmt_ms(one.p99_ms)} | {rps(many)}{f', {errors} errors' if errors else ''} "
                    f"| {'–' if slower is None else f'{slower:.2f}x'} | {p95_met if events == largest else '–'} "
                    f"| {within} | {cpu_cell(figures[label]['cpu'])} |"
                )
        if bench.args.explain:
            target = seeded(url, largest, names, env)
            first_paths = [results[largest][label]["paths"][0] for label in READS]
            explained = subprocess.run(
                [venv_python(), str(ROOT / "bench" / "explain_reads.py"), *first_paths],
                cwd=ROOT,
                env={**env, "FESTIVALS_DATABASE_URL": target, "FESTIVALS_LOG_LEVEL": "WARNING"},
                capture_output=True,
                text=True,
            )
            plans += f"#### {names} names, {largest:,} events\n\n" + explained.stdout
            plans += explained.stderr[-2000:] if explained.returncode else ""
    uptime = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    heading = (
        f"PostgreSQL, response cache off; gunicorn {bench.args.workers} workers on {os.cpu_count()} cores; "
        f"wrk {bench.args.pg_duration} per figure, cycling through each read's paths; `uptime` at the end: {uptime}\n"
    )
    return "\n".join([heading, *rows]), plans


def cpu_cell(cpu: dict) -> str:
    """CPU ms per request of the app (gunicorn) and of its PostgreSQL backends (– when not readable here)."""
    app, pg = cpu["app"], cpu["pg"]
    if app is None or pg is None:
        return "–"
    return f"{app:.1f} + {pg:.1f} = {app + pg:.1f} ms"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--pg-duration", default="10s", help="wrk duration per PostgreSQL figure (default 10s)")
    parser.add_argument(
        "--pg-sizes", default="10000,1000000", help="events per seeded database, comma-separated (default 10k and 1M)"
    )
    parser.add_argument(
        "--pg-names", default="words,realistic", help="kinds of names, comma-separated: words, realistic (both)"
    )
    parser.add_argument("--no-explain", dest="explain", action="store_false", help="skip EXPLAIN ANALYZE")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/fa_bench", help="server, name prefix")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads at 16 connections (default 2)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="gunicorn workers (default: cores)")
    parser.add_argument("--port", type=int, default=5199, help="first local port to use (default 5199)")
    parser.add_argument("--out", default=str(ROOT / "bench" / "out"), help="folder for the table (default bench/out)")
    add_arguments(parser)
    args = parser.parse_args(argv)
    bench = Bench(args)
    env = process_env({"FESTIVALS_INSTANCE_PATH": str(bench.folder), "FESTIVALS_LOG_LEVEL": "WARNING"})
    sizes = [int(size) for size in args.pg_sizes.split(",")]
    try:
        table, plans = pg_tables(bench, env, args.pg_url, sizes, args.pg_names.split(","))
    except BenchError as exc:
        print(f"bench: ERROR: {exc}", file=sys.stderr)
        return 1
    finally:
        bench.stop_all()
        shutil.rmtree(bench.folder, ignore_errors=True)
    now = dt.datetime.now().astimezone()
    report = f"## PostgreSQL read bench {now:%Y-%m-%d %H:%M %Z}\n\n{table}\n"
    print(report)
    if plans:
        print("### EXPLAIN ANALYZE\n\n" + plans)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    explained = "\n### EXPLAIN ANALYZE\n\n" + plans if plans else ""
    (out / f"pg-bench-{now:%Y%m%d-%H%M%S}.md").write_text(report + explained)
    return 0


if __name__ == "__main__":
    sys.exit(main())
