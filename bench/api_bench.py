"""Read speed against its ceilings, from one run; prints markdown tables (also written to bench/out/).

    .venv/bin/python bench/api_bench.py [--pg-url postgresql://postgres@127.0.0.1:5432/fa_bench]

1. SQLite: seeds festivals of 300 events (each with an artist and one of 10 stages), serves the app with gunicorn
   twice (response cache on, and off), and measures with wrk, for the 300-event read
   (`/festivals/1/events?include=artist,location`) and the one-festival read (`/festivals/1`): our uncached,
   cached and 304 (If-None-Match) answers, next to the ceilings for the same bytes: Flask + gunicorn answering
   them as a constant (bench/constant_app.py) and Caddy serving them as a static file. Ratios are to the Flask
   ceiling.
2. With --pg-url: bench/pg_bench.py's table (databases of 10,000 and 1,000,000 events seeded once and kept;
   per read the p50/p95/p99 at one connection and req/s at 16, response cache off, cycling through several
   names / festivals / times) of `/events?name=…&limit=50`, `/festivals/{id}/events?include=artist,location`
   and `/events?updated_since=…&limit=100`, and EXPLAIN ANALYZE of their queries (bench/explain_reads.py).

Everything runs on 127.0.0.1 and is stopped at the end, also on errors and Ctrl-C. wrk and caddy come from
`scripts/setup wrk caddy`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common.launch import gunicorn_command, process_env  # noqa: E402

HOST = "127.0.0.1"  # only ever local targets


class BenchError(Exception):
    pass


@dataclass
class Result:
    endpoint: str
    status: int | None = None  # status of the single check request before the run
    requests: int | None = None
    rps: float | None = None
    avg_ms: float | None = None
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    non_2xx: int = 0
    socket_errors: dict[str, int] = field(default_factory=dict)
    raw: str = ""
    failed: str = ""

    @property
    def errors(self) -> int:
        return self.non_2xx + sum(self.socket_errors.values())


# ---------------------------------------------------------------------------------------------------------------
# wrk output parsing


_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def to_ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text.strip())
    if not m:
        raise ValueError(f"unknown duration {text!r}")
    return float(m.group(1)) * _UNIT_MS[m.group(2)]


def parse_wrk(out: str, result: Result) -> None:
    result.raw = out
    m = re.search(r"^\s*Latency\s+(\S+)\s+(\S+)\s+(\S+)", out, re.M)
    if m:
        result.avg_ms = to_ms(m.group(1))
    for pct, attr in (("50", "p50_ms"), ("99", "p99_ms")):
        m = re.search(rf"^\s*{pct}(?:\.0+)?%\s+(\S+)", out, re.M)
        if m:
            setattr(result, attr, to_ms(m.group(1)))
    m = re.search(r"^\s*Requests/sec:\s+([\d.]+)", out, re.M)
    if m:
        result.rps = float(m.group(1))
    m = re.search(r"^\s*(\d+) requests in", out, re.M)
    if m:
        result.requests = int(m.group(1))
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    if m:
        result.non_2xx = int(m.group(1))
    m = re.search(r"Socket errors:\s+(.*)", out)
    if m:
        for kind, count in re.findall(r"(\w+) (\d+)", m.group(1)):
            if int(count):
                result.socket_errors[kind] = int(count)
    if result.rps is None:
        result.failed = "could not parse wrk output"


# ---------------------------------------------------------------------------------------------------------------
# processes


def venv_python() -> str:
    candidate = ROOT / ".venv" / "bin" / "python"
    return str(candidate) if candidate.exists() else sys.executable


def port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((HOST, port))
        except OSError:
            return False
    return True


def flask(env: dict[str, str], *args: str) -> str:
    cmd = [venv_python(), "-m", "flask", "--app", "wsgi", *args]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        raise BenchError(
            f"`flask --app wsgi {' '.join(args)}` failed (exit {proc.returncode}):\n{proc.stdout}{proc.stderr}"
        )
    return proc.stdout


def http_get(url: str, headers: dict[str, str] | None = None, timeout: float = 5.0) -> tuple[int, bytes]:
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def wait_healthy(base: str, proc: subprocess.Popen, log: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(f"gunicorn exited with {proc.returncode} during start-up:\n{tail(log)}")
        try:
            if http_get(base + "/health", timeout=2)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise BenchError(f"{base}/health did not answer 200 within {timeout:.0f} s:\n{tail(log)}")


def stop(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        pass


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def git_describe() -> str:
    proc = subprocess.run(
        ["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    return proc.stdout.strip() or "no commit"


def wait_answering(url: str, proc: subprocess.Popen, log: Path, timeout: float = 60.0) -> None:
    """Until `url` answers at all (any status)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(f"{proc.args[0]} exited with {proc.returncode} during start-up:\n{tail(log)}")
        try:
            http_get(url, timeout=2)
            return
        except OSError:
            time.sleep(0.3)
    raise BenchError(f"{url} did not answer within {timeout:.0f} s:\n{tail(log)}")


# ---------------------------------------------------------------------------------------------------------------
# the run


@dataclass(frozen=True)
class Read:
    label: str
    path: str  # on festival 1 (300 events)
    suffix: str  # of its body file: the constant app answers it with that content type
    uncached_target: str  # "30%" of the ceiling, or "300/s" (an absolute rate), or "" (none)
    cached_target: str


SQLITE_READS = [
    Read(
        "300 events `include=artist,location`",
        "/api/v1/festivals/1/events?include=artist,location",
        "json",
        "30%",
        "90%",
    ),
    Read("one festival `/festivals/1`", "/api/v1/festivals/1", "json", "60%", "90%"),
    *(
        Read(f"`{kind}` of 300 events", f"/api/v1/festivals/1/{kind}", kind.rsplit(".", 1)[1], "300/s", "80%")
        for kind in ("schedule.json", "schedule.ics", "schedule.xml", "events.csv")
    ),
]
SUSTAINED = SQLITE_READS[:2]  # also cached under wrk for `--sustained` straight, next to their ceiling


class Bench:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.folder = Path(tempfile.mkdtemp(prefix="festivals-bench-"))
        self.processes: list[subprocess.Popen] = []
        self.raw: list[str] = []
        self.next_port = args.port

    def port(self) -> int:
        while not port_free(self.next_port):
            self.next_port += 1
        self.next_port += 1
        return self.next_port - 1

    def start(self, name: str, cmd: list[str], env: dict[str, str], ready: str) -> None:
        log = self.folder / f"{name}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                cmd,
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.processes.append(proc)
        wait_answering(ready, proc, log)

    def gunicorn(self, name: str, target: str, env: dict[str, str]) -> str:
        port = self.port()
        options = ["--log-level", "warning"]
        cmd = gunicorn_command(
            target, f"{HOST}:{port}", workers=self.args.workers, threads=1, hooks=False, options=options
        )
        self.start(name, cmd, env, f"http://{HOST}:{port}/")
        return f"http://{HOST}:{port}"

    def wrk(
        self,
        label: str,
        url: str,
        headers: dict[str, str],
        connections: int | None = None,
        duration: str | None = None,
        paths: list[str] | None = None,
        threads: int | None = None,
    ) -> Result:
        result = Result(label)
        cmd = [
            shutil.which("wrk") or "wrk",
            "--latency",
            "--timeout",
            "5s",
            "-t",
            str(threads or self.args.threads),
            "-c",
            str(connections or self.args.connections),
            "-d",
            duration or self.args.duration,
        ]
        for name, value in headers.items():
            cmd += ["-H", f"{name}: {value}"]
        if paths:
            cmd += ["-s", str(ROOT / "bench" / "latency.lua"), url, "--", *paths]
        else:
            cmd.append(url)
        print(f"bench: wrk {label}", flush=True)
        proc = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL)
        self.raw.append(f"### {label}\n{proc.stdout}{proc.stderr}")
        if proc.returncode != 0:
            result.failed = f"wrk exit {proc.returncode}: {proc.stderr.strip()[:200]}"
            return result
        parse_wrk(proc.stdout, result)
        found = re.search(r"BENCH requests=(\d+) errors=(\d+) p50=([\d.]+) p95=([\d.]+) p99=([\d.]+)", proc.stdout)
        if found:
            result.p50_ms, result.p95_ms, result.p99_ms = (float(found.group(i)) for i in (3, 4, 5))
            result.non_2xx = max(result.non_2xx, int(found.group(2)))
        return result

    def stop_all(self) -> None:
        for proc in self.processes:
            stop(proc)


def ratio(value: float | None, ceiling: float | None) -> str:
    if not value or not ceiling:
        return "–"
    return f"{value / ceiling:.0%}"


def rps(result: Result) -> str:
    if result.failed or result.rps is None:
        return f"failed ({result.failed or 'no figure'})"
    bad = f", {result.errors} errors" if result.errors else ""
    return f"{result.rps:,.0f}{bad}"


def interleaved(bench: Bench, label: str, targets: dict[str, tuple[str, dict]]) -> dict[str, Result]:
    """Each target measured in `--rounds` slices of the duration, taking turns: load from other work on the
    machine then weighs on every figure alike, so the ratios hold even when that load changes during the run."""
    rounds = bench.args.rounds
    seconds = max(1, round(to_ms(bench.args.duration) / 1000 / rounds))
    slices: dict[str, list[Result]] = {name: [] for name in targets}
    for number in range(rounds):
        for name, (url, headers) in targets.items():
            slices[name].append(bench.wrk(f"{name} {label} ({number + 1}/{rounds})", url, headers, None, f"{seconds}s"))
    return {name: combined(f"{name} {label}", results) for name, results in slices.items()}


def combined(label: str, results: list[Result]) -> Result:
    """Equal slices: the mean rate, every error counted."""
    out = Result(label, failed=next((r.failed for r in results if r.failed), ""))
    if not out.failed:
        out.rps = sum(r.rps or 0 for r in results) / len(results)
        out.requests = sum(r.requests or 0 for r in results)
    out.non_2xx = sum(r.non_2xx for r in results)
    for result in results:
        for kind, count in result.socket_errors.items():
            out.socket_errors[kind] = out.socket_errors.get(kind, 0) + count
    return out


def selected_reads(only: str) -> list[Read]:
    """The reads whose path holds one of the comma-separated words of `--only` (all without it)."""
    words = [word for word in only.split(",") if word]
    return [read for read in SQLITE_READS if not words or any(word in read.path for word in words)]


def sqlite_part(bench: Bench, env: dict[str, str]) -> str:
    args = bench.args
    reads = selected_reads(args.only)
    if not reads:
        raise BenchError(f"--only {args.only!r} names none of the reads")
    print(f"bench: sqlite: bench-seed --festivals {args.festivals} --events {args.events}", flush=True)
    flask(env, "migrate")
    flask(env, "bench-seed", "--festivals", str(args.festivals), "--events", str(args.events))
    key = flask(env, "create-api-key", "--comment", "bench").strip().splitlines()[-1].strip()
    headers = {"Api-Key": key}
    cached = bench.gunicorn("app-cached", "wsgi:app", env)
    uncached = bench.gunicorn("app-uncached", "wsgi:app", {**env, "FESTIVALS_READ_CACHE_BYTES": "0"})

    bodies = bench.folder / "bodies"
    bodies.mkdir()
    etags, sizes, files = {}, {}, {}
    for n, read in enumerate(reads):
        request = urllib.request.Request(cached + read.path, headers=headers)
        with urllib.request.urlopen(request, timeout=30) as response:
            body, etags[read] = response.read(), response.headers["ETag"]
        with urllib.request.urlopen(urllib.request.Request(uncached + read.path, headers=headers), timeout=30) as other:
            if other.read().replace(uncached.encode(), cached.encode()) != body:  # schedules name their server
                raise BenchError(f"{read.path}: the cached and the uncached server answer different bytes")
        sizes[read], files[read] = len(body), f"body{n}.{read.suffix}"
        (bodies / files[read]).write_bytes(body)
    constant = bench.gunicorn(
        "flask-constant", "bench.constant_app:app", {**env, "FESTIVALS_BENCH_BODIES": str(bodies)}
    )
    caddy_port = bench.port()
    bench.start(
        "caddy",
        ["caddy", "file-server", "--root", str(bodies), "--listen", f"{HOST}:{caddy_port}"],
        env,
        f"http://{HOST}:{caddy_port}/{files[reads[0]]}",
    )

    rows = [
        "| read | bytes | Flask constant (ceiling) | Caddy static | ours uncached | ours cached | ours 304 |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    targets = [
        "| read | figure | ours req/s | ceiling req/s | ratio | target | met? |",
        "|---|---|---:|---:|---:|---|---|",
    ]
    for read in reads:
        measured = {
            "Flask constant": (f"{constant}/{files[read]}", {}),
            "uncached": (uncached + read.path, headers),
            "cached": (cached + read.path, headers),
        }
        if read in SUSTAINED:
            measured["Caddy static"] = (f"http://{HOST}:{caddy_port}/{files[read]}", {})
            measured["304"] = (cached + read.path, {**headers, "If-None-Match": etags[read]})
        figures = interleaved(bench, read.label, measured)
        ceiling = figures["Flask constant"]
        cells = [
            f"{rps(figures[name])} ({ratio(figures[name].rps, ceiling.rps)})" if name in figures else "–"
            for name in ("Caddy static", "uncached", "cached", "304")
        ]
        rows.append(f"| {read.label} | {sizes[read]:,} | {rps(ceiling)} | {' | '.join(cells)} |")
        first, repeated = ("first", "repeated") if read not in SUSTAINED else ("cache off", "cached")
        targets.append(target_row(read.label, first, figures["uncached"], ceiling, read.uncached_target))
        targets.append(target_row(read.label, repeated, figures["cached"], ceiling, read.cached_target))
    for read in (read for read in SUSTAINED if read in reads):
        ceiling = bench.wrk(f"{read.label} ceiling, sustained", f"{constant}/{files[read]}", {}, 16, args.sustained)
        ours = bench.wrk(f"{read.label} cached, sustained", cached + read.path, headers, 16, args.sustained)
        targets.append(
            target_row(read.label, f"cached, wrk -c16 -d{args.sustained}", ours, ceiling, read.cached_target)
        )
    return "\n".join(rows) + "\n\nTargets (issue 24), from the same run:\n\n" + "\n".join(targets)


def target_row(label: str, figure: str, ours: Result, ceiling: Result, target: str) -> str:
    """One line of the targets table: `target` is a share of the ceiling ("90%") or a rate ("300/s")."""
    met = "–"
    if target and ours.rps and ceiling.rps and not ours.errors:
        if target.endswith("%"):
            met = "yes" if ours.rps / ceiling.rps >= float(target[:-1]) / 100 else "no"
        else:
            met = "yes" if ours.rps >= float(target.removesuffix("/s")) else "no"
    elif ours.errors:
        met = f"no ({ours.errors} errors)"
    return (
        f"| {label} | {figure} | {rps(ours)} | {rps(ceiling)} | {ratio(ours.rps, ceiling.rps)} "
        f"| {'≥ ' + target if target else '–'} | {met} |"
    )


def pg_part(bench: Bench, env: dict[str, str]) -> tuple[str, str]:
    from bench import pg_bench

    args = bench.args
    sizes = [int(size) for size in args.pg_sizes.split(",")]
    return pg_bench.pg_tables(bench, env, args.pg_url, sizes, args.pg_names.split(","))


def import_part(bench: Bench, env: dict[str, str]) -> str:
    """The CSV import row: bench/import_bench.py (the portal's pages in process, a fresh SQLite database)."""
    rows = bench.args.import_rows
    print(f"bench: CSV import of {rows} rows", flush=True)
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "import_bench.py"), "--rows", str(rows), "--json"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        raise BenchError(f"bench/import_bench.py failed: {done.stderr[-2000:]}")
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    steps, goal = measured["steps"], measured["goal"]
    total = steps[0][1] + steps[1][1]  # preview and confirm of the new line-up
    met = "yes" if total < goal else "no"
    return "\n".join(
        [
            "| CSV import | rows | preview | confirm | together | target | met? |",
            "|---|---:|---:|---:|---:|---|---|",
            f"| portal, one transaction | {rows:,} | {steps[0][1]:.2f} s | {steps[1][1]:.2f} s | {total:.2f} s "
            f"| < {goal:g} s | {met} |",
        ]
    )


def fmt_ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f} ms"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--festivals", type=int, default=20, help="SQLite festivals to seed (default 20)")
    p.add_argument("--events", type=int, default=6000, help="SQLite events (default 6000: 300 per festival)")
    p.add_argument("--duration", default="10s", help="wrk duration per figure (default 10s)")
    p.add_argument("--sustained", default="8s", help="wrk duration of the straight cached runs (default 8s)")
    p.add_argument("--rounds", type=int, default=5, help="slices per figure, measured in turns (default 5)")
    p.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    p.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="gunicorn workers (default: cores)")
    p.add_argument("--port", type=int, default=5099, help="first local port to use (default 5099)")
    p.add_argument(
        "--only", default="", help="comma-separated words: only the SQLite reads whose path holds one (schedule,csv)"
    )
    p.add_argument("--import-rows", type=int, default=2000, help="rows of the CSV import figure (0: skip it)")
    p.add_argument("--pg-url", help="PostgreSQL server and database name prefix: bench/pg_bench.py's reads too")
    from bench.pg_bench import add_arguments

    add_arguments(p)
    p.add_argument("--keep", action="store_true", help="keep the temporary folder (logs, bodies, database)")
    p.add_argument("--out", default=str(ROOT / "bench" / "out"), help="folder for the tables (default bench/out)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    for tool in ("wrk", "caddy"):
        if not shutil.which(tool):
            print(f"{tool} not found: install it with `scripts/setup wrk caddy`", file=sys.stderr)
            return 2
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    bench = Bench(args)
    env = process_env({"FESTIVALS_INSTANCE_PATH": str(bench.folder), "FESTIVALS_LOG_LEVEL": "WARNING"})
    try:
        sqlite_table = sqlite_part(bench, env)
        bench.stop_all()
        import_table = import_part(bench, env) if args.import_rows else "(--import-rows 0: CSV import skipped)"
        bench.processes.clear()
        pg_table, plans = pg_part(bench, env) if args.pg_url else ("(no --pg-url: PostgreSQL part skipped)", "")
    except BenchError as exc:
        print(f"bench: ERROR: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        return 130
    finally:
        bench.stop_all()
        if args.keep:
            print(f"bench: kept {bench.folder}", file=sys.stderr)
        else:
            shutil.rmtree(bench.folder, ignore_errors=True)

    now = dt.datetime.now().astimezone()
    report = (
        f"## API read bench {now:%Y-%m-%d %H:%M %Z} ({git_describe()})\n\n"
        f"SQLite, {args.festivals} festivals / {args.events} events (every event with an artist and a stage); "
        f"gunicorn {args.workers} workers on {os.cpu_count()} cores; wrk -t{args.threads} "
        f"-c{args.connections}, {args.duration} per figure in {args.rounds} slices taken in turns; "
        f"load average at the end {os.getloadavg()[0]:.1f} (other work on the machine depresses every figure); "
        f"req/s (ratio to the Flask constant-bytes ceiling)\n\n"
        f"{sqlite_table}\n\n{import_table}\n\n{pg_table}\n"
    )
    print()
    print(report)
    if plans:
        print("### EXPLAIN ANALYZE\n")
        print(plans)
    out_dir = Path(args.out).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = out_dir / f"api-bench-{now:%Y%m%d-%H%M%S}"
    stem.with_suffix(".md").write_text(report + ("\n### EXPLAIN ANALYZE\n\n" + plans if plans else ""))
    Path(f"{stem}-wrk.txt").write_text("\n".join(bench.raw))
    print(f"bench: written to {stem}.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
