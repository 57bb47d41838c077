"""Videos through the gateway: upload time, first and warm poster, and 1 MB Range reads next to Caddy serving the
same file directly.

    .venv/bin/python bench/video_bench.py [--size-mb 50] [--duration 3s] [--rounds 3] [--connections 8]

Starts one Caddy (the gateway's config as gateway/caddy.py builds it, plus a plain `file_server` over the same
media folder) and the file server (gunicorn, 2 workers) in a temporary folder on free loopback ports. Encodes a
real MP4 (H.264 + AAC, noise pictures so that it is about --size-mb large), uploads it through the gateway with a
creator's token and times it (probe, remux without metadata, hash, store), times the first poster (a decode at
10% and a resize) and measures with wrk the warm poster (made once, then served stored) and 1 MB Range reads of
the video through the gateway and straight from the plain file server (alternating, median of --rounds). Needs
`scripts/setup wrk caddy`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.gateway_bench import DOMAIN, creator_token, start_stack, stop_stack, wait_for, wrk, wrk_arguments  # noqa: E402
from tests.videos import make_video  # noqa: E402

MIB = 1024 * 1024


def trailer(folder: Path, size_mb: int) -> Path:
    """An MP4 of about `size_mb` MiB: 10 s of 960x540 noise at the bit rate that makes that size."""
    seconds = 10
    return make_video(
        folder / "trailer.mp4",
        seconds=seconds,
        size=(960, 540),
        noise=True,
        bitrate=int(size_mb * MIB * 8 / seconds),
    )


def timed(call) -> tuple[float, object]:
    started = time.perf_counter()
    result = call()
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=50, help="size of the uploaded video (default 50 MiB)")
    parser.add_argument("--duration", default="3s", help="wrk duration of each measurement (default 3s)")
    parser.add_argument("--rounds", type=int, default=3, help="measurements per case, alternating (median shown)")
    args = wrk_arguments(parser, connections=8)

    folder = Path(tempfile.mkdtemp(prefix="video-bench-"))
    media = folder / "media"
    encode_seconds, video = timed(lambda: trailer(folder, args.size_mb))
    size = video.stat().st_size
    token = creator_token(str(folder / "identity-keys"), ttl=900)
    stack = start_stack(folder, media, gunicorn_args=("--timeout", "120"))
    gateway_port, direct_port, files_port = stack.gateway_port, stack.direct_port, stack.files_port
    try:
        host = {"Host": f"files.{DOMAIN}"}
        base = f"http://127.0.0.1:{gateway_port}"
        wait_for(f"{base}/health", host)
        wait_for(f"http://127.0.0.1:{files_port}/health")

        def upload():
            with open(video, "rb") as handle:
                answer = requests.post(
                    f"{base}/videos/upload",
                    files={"video": ("trailer.mp4", handle, "video/mp4")},
                    headers={**host, "Authorization": f"Bearer {token}"},
                    timeout=300,
                )
            if answer.status_code not in (200, 201):
                raise SystemExit(f"upload answered {answer.status_code}: {answer.text}")
            return answer.json()["data"][0]

        upload_seconds, stored = timed(upload)
        digest = stored["video_hash"]
        poster = f"{base}/videos/{digest}/poster?w=320&format=webp"
        first_poster, answer = timed(lambda: requests.get(poster, headers=host, timeout=120))
        if answer.status_code != 200:
            raise SystemExit(f"poster answered {answer.status_code}: {answer.text}")
        warm_single = statistics.median(
            timed(lambda: requests.get(poster, headers=host, timeout=30))[0] for _ in range(20)
        )
        stored_size = (media / "videos" / digest[:2] / digest).stat().st_size
        middle = stored_size // 2
        range_header = f"Range: bytes={middle}-{middle + MIB - 1}"
        through = f"{base}/videos/{digest}"
        direct = f"http://127.0.0.1:{direct_port}/videos/{digest[:2]}/{digest}.mp4"
        check = requests.get(through, headers={**host, "Range": range_header.split(": ")[1]}, timeout=30)
        if check.status_code != 206 or len(check.content) != MIB:
            raise SystemExit(f"a Range read answered {check.status_code} with {len(check.content)} bytes")
        via, ceiling, posters = [], [], []
        for _ in range(args.rounds):  # alternating, so that a busy moment of the machine hits both
            via.append(wrk(through, host["Host"], args, [range_header]))
            ceiling.append(wrk(direct, None, args, [range_header]))
            posters.append(wrk(poster, host["Host"], args))
        via_rate, ceiling_rate = statistics.median(via), statistics.median(ceiling)
        print(
            f"\n{os.cpu_count()} cores (load average {os.getloadavg()[0]:.1f}); video {size / MIB:.1f} MiB uploaded "
            f"({stored_size / MIB:.1f} MiB stored), encoded for the bench in {encode_seconds:.1f} s; "
            f"wrk -t{args.threads} -c{args.connections} -d{args.duration}, median of {args.rounds}\n"
        )
        print("| measure | figure |")
        print("|---|---|")
        print(
            f"| upload of {size / MIB:.0f} MiB through the gateway (probe, remux, hash, store) "
            f"| {upload_seconds:.2f} s |"
        )
        print(f"| first poster w=320 webp (decode at 10%, resize, store) | {first_poster * 1000:.0f} ms |")
        print(f"| warm poster, one request | {warm_single * 1000:.1f} ms |")
        print(f"| warm poster through the gateway (file server) | {statistics.median(posters):,.0f} req/s |")
        gbits = via_rate * MIB * 8 / 1e9
        print(
            f"| 1 MiB Range read through the gateway (Caddy from disk) | {via_rate:,.0f} req/s ({gbits:.1f} Gbit/s) |"
        )
        print(f"| 1 MiB Range read, Caddy file_server directly | {ceiling_rate:,.0f} req/s |")
        print(f"| gateway's share of the direct ceiling | {via_rate / ceiling_rate:.0%} |")
    finally:
        stop_stack(stack)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
