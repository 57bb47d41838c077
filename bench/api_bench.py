"""Load test of the read API with wrk; prints a markdown table.

Run from anywhere with the project's virtual environment:

    .venv/bin/python bench/api_bench.py --festivals 200 --events 5000 --duration 10s --connections 32 --threads 2

What it does: makes a temporary instance folder (SQLite database inside it, unless FESTIVALS_DATABASE_URL is set,
which is then used as is), runs `flask migrate`, `flask bench-seed` and `flask create-api-key`, serves the app with
gunicorn on 127.0.0.1 (2 workers per core by default), runs wrk against each endpoint with the API key, and stops
gunicorn at the end, also on errors and Ctrl-C. It installs nothing: wrk comes from `scripts/setup wrk`.
The table is also written to bench/out/.
"""

from __future__ import annotations

import argparse
import datetime as dt
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
HOST = "127.0.0.1"  # only ever local targets
ENDPOINTS = [
    "/api/v1/festivals",
    "/api/v1/festivals?include=image,link,place,tag",
    "/api/v1/festivals/1",
    "/api/v1/festivals/1/events?include=artist,location",
    "/api/v1/events?limit=100",
]


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


# ---------------------------------------------------------------------------------------------------------------
# report


def fmt_ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f} ms"


def fmt_errors(r: Result) -> str:
    if r.failed:
        return f"run failed: {r.failed}"
    parts = []
    if r.non_2xx:
        parts.append(f"{r.non_2xx} non-2xx")
    parts += [f"{n} {kind}" for kind, n in r.socket_errors.items()]
    text = str(r.errors) + (f" ({', '.join(parts)})" if parts else "")
    if r.status is not None and r.status != 200:
        text += f"; check request answered {r.status}"
    return text


def table(results: list[Result]) -> str:
    rows = ["| endpoint | req/s | avg | p50 | p99 | errors |", "|---|---:|---:|---:|---:|---|"]
    for r in results:
        rps = "–" if r.rps is None else f"{r.rps:,.0f}"
        rows.append(
            f"| `{r.endpoint}` | {rps} | {fmt_ms(r.avg_ms)} | {fmt_ms(r.p50_ms)} | {fmt_ms(r.p99_ms)}"
            f" | {fmt_errors(r)} |"
        )
    return "\n".join(rows)


# ---------------------------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    cores = os.cpu_count() or 1
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--festivals", type=int, default=100, help="festivals to seed (default 100)")
    p.add_argument("--events", type=int, default=1000, help="events to seed (default 1000)")
    p.add_argument("--duration", default="10s", help="wrk duration per endpoint, e.g. 10s, 1m (default 10s)")
    p.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    p.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    p.add_argument("--port", type=int, default=5099, help="local port for gunicorn (default 5099)")
    p.add_argument("--workers", type=int, default=2 * cores, help=f"gunicorn workers (default 2 x cores = {2 * cores})")
    p.add_argument("--worker-threads", type=int, default=1, help="gunicorn threads per worker (>1: gthread)")
    p.add_argument("--endpoint", action="append", help="benchmark this path instead (repeatable)")
    p.add_argument("--env", action="append", default=[], metavar="KEY=VALUE", help="extra app environment")
    p.add_argument("--keep", action="store_true", help="keep the temporary instance folder")
    args = p.parse_args(argv)
    if not re.fullmatch(r"\d+[smh]?", args.duration):
        p.error("--duration: use e.g. 10s, 30s, 2m")
    if args.threads < 1 or args.connections < args.threads:
        p.error("--connections must be at least --threads (and --threads at least 1)")
    for item in args.env:
        if "=" not in item:
            p.error(f"--env {item!r}: use KEY=VALUE")
    for path in args.endpoint or []:
        if not path.startswith("/"):
            p.error(f"--endpoint {path!r}: give a path starting with /")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    wrk = shutil.which("wrk")
    if not wrk:
        print("wrk not found: install it with `scripts/setup wrk`", file=sys.stderr)
        return 2
    if not port_free(args.port):
        print(f"port {args.port} on {HOST} is in use: stop what runs there or pass --port", file=sys.stderr)
        return 2

    # SIGTERM ends the run like Ctrl-C does: through the finally below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    instance = Path(tempfile.mkdtemp(prefix="festivals-bench-"))
    env = dict(os.environ)
    env["FESTIVALS_INSTANCE_PATH"] = str(instance)
    for key in ("FESTIVALS_PORT", "FESTIVALS_FILES_PORT"):
        env.pop(key, None)
    env.update(item.split("=", 1) for item in args.env)
    database = env.get("FESTIVALS_DATABASE_URL") or f"sqlite (in {instance})"
    base = f"http://{HOST}:{args.port}"
    log = instance / "gunicorn.log"
    server: subprocess.Popen | None = None
    results: list[Result] = []
    try:
        print(f"bench: instance folder {instance}; database {database}", flush=True)
        print("bench: flask migrate", flush=True)
        flask(env, "migrate")
        print(f"bench: flask bench-seed --festivals {args.festivals} --events {args.events}", flush=True)
        t0 = time.monotonic()
        flask(env, "bench-seed", "--festivals", str(args.festivals), "--events", str(args.events))
        print(f"bench: seeded in {time.monotonic() - t0:.1f} s", flush=True)
        lines = [line.strip() for line in flask(env, "create-api-key", "--comment", "bench").splitlines()]
        lines = [line for line in lines if line]
        if not lines:
            raise BenchError("`flask create-api-key` printed no key")
        api_key = lines[-1]
        headers = {"Api-Key": api_key}

        cmd = [
            venv_python(), "-m", "gunicorn", "wsgi:app",
            "--bind", f"{HOST}:{args.port}",
            "--workers", str(args.workers),
            "--no-control-socket",
            "--log-level", "warning",
        ]  # fmt: skip
        if args.worker_threads > 1:
            cmd += ["--threads", str(args.worker_threads)]
        print(f"bench: gunicorn on {base} ({args.workers} workers x {args.worker_threads} threads)", flush=True)
        with log.open("wb") as log_file:
            server = subprocess.Popen(
                cmd, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        wait_healthy(base, server, log)

        for path in args.endpoint or ENDPOINTS:
            result = Result(path)
            results.append(result)
            status, body = http_get(base + path, headers)
            result.status = status
            if status != 200:
                print(f"bench: WARNING {path} answered {status}: {body[:200]!r}", file=sys.stderr, flush=True)
            print(f"bench: wrk {args.duration} {path}", flush=True)
            proc = subprocess.run(
                [
                    wrk, "--latency", "--timeout", "5s",
                    "-t", str(args.threads), "-c", str(args.connections), "-d", args.duration,
                    "-H", f"Api-Key: {api_key}",
                    base + path,
                ],
                capture_output=True, text=True, stdin=subprocess.DEVNULL,
            )  # fmt: skip
            if proc.returncode != 0:
                result.failed = f"wrk exit {proc.returncode}: {proc.stderr.strip()[:200]}"
                result.raw = proc.stdout + proc.stderr
                continue
            parse_wrk(proc.stdout, result)
            if server.poll() is not None:
                raise BenchError(f"gunicorn died during the run (exit {server.returncode}):\n{tail(log)}")
    except BenchError as exc:
        print(f"bench: ERROR: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        return 130
    finally:
        stop(server)
        if args.keep:
            print(f"bench: kept {instance}", file=sys.stderr)
        else:
            shutil.rmtree(instance, ignore_errors=True)

    now = dt.datetime.now().astimezone()
    header = (
        f"## API bench {now:%Y-%m-%d %H:%M %Z} ({git_describe()})\n\n"
        f"{args.festivals} festivals, {args.events} events; database {database.split('(')[0].strip()}; "
        f"gunicorn {args.workers} workers x {args.worker_threads} threads on {os.cpu_count()} cores; "
        f"wrk -t{args.threads} -c{args.connections} -d{args.duration}\n"
    )
    report = f"{header}\n{table(results)}\n"
    print()
    print(report)

    out_dir = ROOT / "bench" / "out"
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = out_dir / f"api-bench-{now:%Y%m%d-%H%M%S}"
    stem.with_suffix(".md").write_text(report)
    raw = "\n".join(f"### {r.endpoint}\n{r.raw}" for r in results)
    Path(f"{stem}-wrk.txt").write_text(raw)
    print(f"bench: written to {stem.relative_to(ROOT)}.md (raw wrk output: {stem.name}-wrk.txt)")
    failed = any(r.failed or r.errors or r.status != 200 for r in results)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
