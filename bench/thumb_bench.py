"""Thumbnail bench of the file server; prints a markdown table.

    .venv/bin/python bench/thumb_bench.py --duration 5s --connections 16 --threads 2

What it does: generates a 12-megapixel JPEG (4000x3000, noisy content), makes a temporary instance folder with a
temporary identity key (the file server finds it in <instance>/identity-keys/, as in the embedded run), starts
`gunicorn wsgi:files` on a free local port, uploads the photo with a token minted from that key, and measures:

- cold thumbnails: the first request of a variant (decode with JPEG draft, resize, encode, write to disk);
- warm thumbnails: later requests (served from disk), one client in a row, then wrk for requests per second;
- the original (a static file served by the same server), with wrk;
- vipsthumbnail (libvips, Debian package libvips-tools) on the same photo, a whole process run each time;
- Pillow in this process, without HTTP (the same function the server calls).

wrk and vipsthumbnail come from `scripts/setup wrk libvips-tools`; rows whose tool is missing say so.
The table is also written to bench/out/.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
HOST = "127.0.0.1"

import requests  # noqa: E402
from PIL import Image  # noqa: E402

from bench.gateway_bench import creator_token  # noqa: E402
from common.launch import gunicorn_command, process_env  # noqa: E402
from fileserver import images  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def photo(path: Path) -> bytes:
    """4000x3000: gradients plus noise (so JPEG has real work to do), saved at quality 90."""
    size = (4000, 3000)
    red = Image.linear_gradient("L").rotate(90).resize(size)
    green = Image.linear_gradient("L").resize(size)
    noise = Image.effect_noise(size, 48)
    base = Image.merge("RGB", (red, green, noise))
    grain = Image.merge("RGB", (Image.effect_noise(size, 24),) * 3)
    Image.blend(base, grain, 0.25).save(path, "JPEG", quality=90)
    return path.read_bytes()


def timed_get(url: str, headers: dict | None = None) -> tuple[float, int, int]:
    started = time.perf_counter()
    response = requests.get(url, headers=headers or {}, timeout=120)
    return (time.perf_counter() - started) * 1000, response.status_code, len(response.content)


def wait_for(url: str, process: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"file server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"file server did not answer {url}")


def wrk(url: str, args) -> dict:
    if not shutil.which("wrk"):
        return {"note": "wrk not installed (scripts/setup wrk)"}
    out = subprocess.run(
        ["wrk", "-t", str(args.threads), "-c", str(args.connections), "-d", args.duration, "--latency", url],
        capture_output=True,
        text=True,
        timeout=600,
    ).stdout
    result = {"raw": out}
    if m := re.search(r"Requests/sec:\s+([\d.]+)", out):
        result["rps"] = float(m.group(1))
    if m := re.search(r"Transfer/sec:\s+([\d.]+)(\w+)", out):
        result["transfer"] = f"{m.group(1)} {m.group(2)}/s"
    for pct in ("50", "99"):
        if m := re.search(rf"^\s*{pct}(?:\.0+)?%\s+(\S+)", out, re.M):
            result[f"p{pct}"] = m.group(1)
    if m := re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out):
        result["non2xx"] = int(m.group(1))
    return result


def vips(source: Path, out_dir: Path, runs: int) -> str:
    if not shutil.which("vipsthumbnail"):
        return "vipsthumbnail not installed (scripts/setup libvips-tools)"
    times = []
    for index in range(runs):
        target = out_dir / f"vips-{index}.jpg"
        started = time.perf_counter()
        subprocess.run(
            ["vipsthumbnail", str(source), "--size", "320", "-o", f"{target}[Q=82,strip]"],
            check=True,
            capture_output=True,
        )
        times.append((time.perf_counter() - started) * 1000)
    size = Image.open(out_dir / "vips-0.jpg").size
    return f"{statistics.median(times):.1f} ms median of {runs} runs (whole process), {size[0]}x{size[1]}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", default="5s", help="wrk duration per run (default 5s)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1), help="gunicorn workers")
    parser.add_argument("--samples", type=int, default=50, help="sequential warm requests to time")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="thumb-bench-"))
    instance = work / "instance"
    token = creator_token(str(instance / "identity-keys"), ttl=3600)
    source = work / "photo.jpg"
    data = photo(source)

    port = free_port()
    base = f"http://{HOST}:{port}"
    env = process_env({"FESTIVALS_INSTANCE_PATH": str(instance), "FESTIVALS_LOG_LEVEL": "WARNING"})
    command = gunicorn_command(
        "files", f"{HOST}:{port}", workers=args.workers, threads=1, hooks=False, options=["--log-level", "warning"]
    )
    server = subprocess.Popen(command, cwd=ROOT, env=env)
    rows: list[tuple[str, str]] = []
    try:
        wait_for(f"{base}/health", server)
        started = time.perf_counter()
        upload = requests.post(
            f"{base}/images/upload",
            files={"image": ("photo.jpg", data, "image/jpeg")},
            headers={"Authorization": f"Bearer {token}"},
            timeout=120,
        )
        upload_ms = (time.perf_counter() - started) * 1000
        upload.raise_for_status()
        digest = upload.json()["data"][0]["image_hash"]
        original = f"{base}/images/{digest}"
        stored = instance / "media" / "images" / digest[:2] / digest

        stored_mb = stored.stat().st_size / 1e6
        rows.append(("photo", f"4000x3000 JPEG, {len(data) / 1e6:.1f} MB; stored copy {stored_mb:.1f} MB"))
        rows.append(("upload (decode, strip, re-encode, hash, store)", f"{upload_ms:.0f} ms"))
        for query, label in (
            ("?w=320", "w=320 jpeg"),
            ("?w=320&format=webp", "w=320 webp"),
            ("?w=1280", "w=1280 jpeg"),
        ):
            ms, status, size = timed_get(original + query)
            rows.append((f"cold thumbnail {label} (first request)", f"{ms:.1f} ms ({status}, {size / 1e3:.1f} kB)"))
        warm = [timed_get(original + "?w=320")[0] for _ in range(args.samples)]
        rows.append(
            (
                "warm thumbnail w=320, one client in a row",
                f"{statistics.median(warm):.2f} ms median, {max(warm):.2f} ms max of {args.samples}",
            )
        )
        result = wrk(original + "?w=320", args)
        rows.append(
            (
                f"warm thumbnail w=320, wrk -c{args.connections}",
                result.get("note")
                or f"{result['rps']:.0f} req/s, p50 {result.get('p50')}, p99 "
                f"{result.get('p99')}, non-2xx {result.get('non2xx', 0)}",
            )
        )
        static = [timed_get(original)[0] for _ in range(10)]
        rows.append(("original (static file), one client in a row", f"{statistics.median(static):.2f} ms median"))
        result = wrk(original, args)
        rows.append(
            (
                f"original (static file), wrk -c{args.connections}",
                result.get("note")
                or f"{result['rps']:.0f} req/s, {result.get('transfer')}, p50 "
                f"{result.get('p50')}, non-2xx {result.get('non2xx', 0)}",
            )
        )
        rows.append(("vipsthumbnail --size 320 (same photo)", vips(source, work, 5)))
        variant = images.Variant(320, None, "contain", "jpeg")
        Image.MAX_IMAGE_PIXELS = 50_000_000
        inproc = []
        for _ in range(5):
            begun = time.perf_counter()
            thumb = images.make_variant(str(stored), variant)
            inproc.append((time.perf_counter() - begun) * 1000)
        size = Image.open(io.BytesIO(thumb)).size
        rows.append(
            (
                "Pillow make_variant w=320 in-process (no HTTP)",
                f"{statistics.median(inproc):.1f} ms median of 5, {size[0]}x{size[1]}",
            )
        )
    finally:
        server.terminate()
        server.wait(timeout=15)

    lines = [
        f"File server thumbnail bench, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, "
        f"{os.cpu_count()} cores, gunicorn {args.workers} sync workers, Pillow {Image.__version__}",
        "",
        "| measurement | result |",
        "|---|---|",
    ]
    lines += [f"| {name} | {value} |" for name, value in rows]
    table = "\n".join(lines)
    print(table)
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"thumb-{dt.datetime.now():%Y%m%d-%H%M%S}.md").write_text(table + "\n")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
