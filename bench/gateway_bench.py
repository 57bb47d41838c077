"""Files through the gateway vs. the same files served by Caddy directly: the static ceiling.

    .venv/bin/python bench/gateway_bench.py [--duration 5s] [--connections 32] [--threads 2]

Starts one Caddy (a temporary folder, free loopback ports) with two servers: the gateway's config as
`gateway/caddy.py` builds it (files.<domain> with a file server behind it), and a plain `file_server` over the
same media folder. A 12-megapixel JPEG is stored the way the file server stores it; its 320-pixel WebP thumbnail
is made once through the gateway (the file server answers that miss). Then wrk measures, in one run, the warm
thumbnail and the original through the gateway and straight from the plain file server (alternating, the median
of a few measurements each), and prints requests per second and the gateway's share of the ceiling (the target
is at least 50%). Needs `scripts/setup wrk caddy`.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common.launch import gunicorn_command, process_env  # noqa: E402
from fileserver.images import normalize_upload  # noqa: E402
from fileserver.storage import LocalStore  # noqa: E402
from gateway.caddy import CaddyAdmin, build_config  # noqa: E402
from gateway.settings import load_settings  # noqa: E402

DOMAIN = "festivals.localhost"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, headers: dict | None = None, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer within {seconds}s")


def photo() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    image = Image.radial_gradient("L").resize((4000, 3000)).convert("RGB")
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def wrk(url: str, host: str | None, args, headers: list[str] = (), redirects: bool = False) -> float:
    """Requests per second; any answer other than 2xx fails (3xx too, unless `redirects` are the answer)."""
    command = ["wrk", "-t", str(args.threads), "-c", str(args.connections), "-d", args.duration]
    for header in ([f"Host: {host}"] if host else []) + list(headers):
        command += ["-H", header]
    out = subprocess.run(command + [url], capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in out and not redirects:
        raise SystemExit(f"wrk saw errors on {url}:\n{out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def start_stack(
    folder: Path,
    media: Path,
    log_files: bool = False,
    gunicorn_args: tuple = (),
    entry: str = "files",
    env: dict | None = None,
    **settings_overrides,
) -> SimpleNamespace:
    """Caddy with the gateway's config (files.<domain> with a file server behind it) plus a plain `file_server`
    over the same media folder on its own port, and gunicorn `entry` (2 workers; `env`: more settings for it and
    Caddy, `settings_overrides`: the gateway's); every port a free loopback one, every file in `folder`. Stop
    with stop_stack."""
    gateway_port, direct_port, admin_port, files_port = free_port(), free_port(), free_port(), free_port()
    settings = load_settings(
        domain=DOMAIN,
        port=gateway_port,
        admin=f"127.0.0.1:{admin_port}",
        media_dir=str(media),
        access_log=str(folder / "access.log"),
        log_files=log_files,
        public_tls="off",
        **settings_overrides,
    )  # plain HTTP on both sides: the routing cost, not TLS's
    config = build_config(settings, {"files": [f"127.0.0.1:{files_port}"]})
    config["apps"]["http"]["servers"]["direct"] = {
        "listen": [f":{direct_port}"],
        "automatic_https": {"disable": True},
        "routes": [{"handle": [{"handler": "file_server", "root": str(media)}]}],
    }
    boot = folder / "boot.json"
    boot.write_bytes(orjson.dumps({"admin": {"listen": settings.admin, "config": {"persist": False}}}))
    env = process_env(
        {
            "FESTIVALS_INSTANCE_PATH": str(folder),
            "FESTIVALS_MEDIA_DIR": str(media),
            "XDG_DATA_HOME": str(folder),
            "XDG_CONFIG_HOME": str(folder),
            **(env or {}),
        }
    )
    log = open(folder / "processes.log", "w")  # noqa: SIM115 - closed by stop_stack
    gunicorn = gunicorn_command(
        entry, f"127.0.0.1:{files_port}", workers=2, threads=1, hooks=False, options=gunicorn_args
    )
    processes = [
        subprocess.Popen(["caddy", "run", "--config", str(boot)], env=env, stdout=log, stderr=log),
        subprocess.Popen(gunicorn, cwd=ROOT, env=env, stdout=log, stderr=log),
    ]
    try:
        # Caddy's admin endpoint listens a moment after the process starts (seconds on a loaded machine)
        wait_for(f"http://{settings.admin}/config/")
        CaddyAdmin(settings.admin).load(config)
    except BaseException:  # wait_for gives up with SystemExit
        stop_stack(SimpleNamespace(processes=processes, log=log))
        raise
    return SimpleNamespace(
        gateway_port=gateway_port, direct_port=direct_port, files_port=files_port, processes=processes, log=log
    )


def stop_stack(stack: SimpleNamespace) -> None:
    for process in stack.processes:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:  # a worker still in a long read
            process.kill()
            process.wait(timeout=5)
    stack.log.close()


def wrk_arguments(parser: argparse.ArgumentParser, connections: int = 32) -> argparse.Namespace:
    """The command line with wrk's load settings added; wrk and Caddy must be installed."""
    parser.add_argument("--connections", type=int, default=connections)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    for tool in ("wrk", "caddy"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is not installed: scripts/setup wrk caddy")
    return args


def creator_token(keys_folder: str, ttl: int) -> str:
    """An access token of a creator, signed with the keys in `keys_folder` (the file server's embedded default)."""
    from common.access_tokens import issue_access_token
    from identity.keys import KeyStore

    creator = SimpleNamespace(id="1", role="creator")
    return issue_access_token(
        creator, KeyStore(keys_folder), issuer="festivals-identity", audience="festivals", ttl=ttl, sid="0" * 32
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", default="3s", help="wrk duration of each measurement (default 3s)")
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="measurements per case, gateway and direct alternating; the median is shown",
    )
    parser.add_argument(
        "--log-files",
        action="store_true",
        help="with files.<domain> in Caddy's access log (FESTIVALS_GATEWAY_LOG_FILES=1)",
    )
    args = wrk_arguments(parser)

    folder = Path(tempfile.mkdtemp(prefix="gateway-bench-"))
    media = folder / "media"
    data = normalize_upload(photo(), 50_000_000)
    digest, _ = LocalStore(str(media)).store(
        "images",
        data.data,
        {
            "mimetype": data.mimetype,
            "width": data.width,
            "height": data.height,
            "alpha": data.alpha,
            "uploader": "bench",
            "uploaded_at": int(time.time()),
        },
    )
    stack = start_stack(folder, media, log_files=args.log_files)
    gateway_port, direct_port = stack.gateway_port, stack.direct_port
    try:
        host = {"Host": f"files.{DOMAIN}"}
        gateway = f"http://127.0.0.1:{gateway_port}/images/{digest}"
        direct = f"http://127.0.0.1:{direct_port}/images/{digest[:2]}/{digest}.jpg"
        wait_for(f"http://127.0.0.1:{gateway_port}/health", host)
        thumb = "?w=320&format=webp"
        wait_for(gateway + thumb, host, seconds=60)  # makes the thumbnail once (the file server)
        direct_thumb = f"http://127.0.0.1:{direct_port}/variants/{digest[:2]}/{digest}/w320-h0-contain.webp"
        wait_for(direct_thumb)
        rows = []
        for name, through, straight in (
            ("warm thumbnail w=320 webp", gateway + thumb, direct_thumb),
            ("original (12 MP JPEG)", gateway, direct),
        ):
            via, ceiling = [], []
            for _ in range(args.rounds):  # alternating, so that a busy moment of the machine hits both
                via.append(wrk(through, host["Host"], args))
                ceiling.append(wrk(straight, None, args))
            rows.append((name, statistics.median(via), statistics.median(ceiling)))
        print(
            f"\nwrk -t{args.threads} -c{args.connections} -d{args.duration}, median of {args.rounds} alternating "
            f"measurements, {os.cpu_count()} cores (load average {os.getloadavg()[0]:.1f}), files.<domain> "
            f"{'in' if args.log_files else 'not in'} the access log\n"
        )
        print("| file | through the gateway (req/s) | Caddy file_server directly (req/s) | ratio |")
        print("|---|---|---|---|")
        for name, via, ceiling in rows:
            print(f"| {name} | {via:,.0f} | {ceiling:,.0f} | {via / ceiling:.0%} |")
    finally:
        stop_stack(stack)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
