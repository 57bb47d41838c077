"""Downloads of media kept in an S3 bucket, through the gateway, next to Caddy serving the same bytes from disk.

    .venv/bin/python bench/bucket_bench.py [--duration 3s] [--rounds 3] [--connections 32] [--threads 2]

Starts moto's S3 server (the suite's S3 engine; a Python process, far slower than AWS S3, Spaces or MinIO: the
bucket's own ceiling is printed too), one Caddy with the gateway's config for FESTIVALS_MEDIA_STORE=s3
(gateway/caddy.py) plus a plain `file_server` over a media folder holding the same bytes, and the file server
(gunicorn, 2 workers) on the bucket. A 12-megapixel JPEG and its 320-pixel WebP thumbnail are stored in both.
Then wrk measures, per file, in alternating rounds (median shown):

- proxy: through the gateway, Caddy proxying the object from the bucket (what the gateway does);
- redirect: the other option, the file server answering a presigned redirect (a bench-only route doing what
  such a handler would: read the record, check the thumbnail, sign) through the gateway, and the client then
  fetching the presigned URL from the bucket: two requests, so its rate is 1 / (1/redirects + 1/bucket GETs);
- bucket: the presigned URL straight from the bucket (the bucket's own ceiling);
- disk: Caddy's file_server reading the same bytes from disk.

Needs `scripts/setup wrk caddy`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.gateway_bench import (  # noqa: E402
    DOMAIN,
    free_port,
    photo,
    start_stack,
    stop_stack,
    wait_for,
    wrk,
    wrk_arguments,
)
from fileserver import images  # noqa: E402
from fileserver.s3 import S3Store, public_read_policy  # noqa: E402
from fileserver.storage import LocalStore, object_name, variants_name  # noqa: E402

BUCKET = "festival-media-bench"
REGION = "eu-central-1"
THUMB = images.Variant(320, None, "contain", "webp")


def presigned_app():
    """The file server plus one bench-only route answering a presigned redirect: `gunicorn
    'bench.bucket_bench:presigned_app()'`. The measured alternative to Caddy proxying the bucket."""
    from flask import abort, redirect, request

    from fileserver import create_files_app

    files = create_files_app()
    store = files.extensions["files_storage"]

    @files.get("/presigned/images/<digest>")
    def presigned(digest: str):
        if store.read_meta("images", digest) is None:
            abort(404)
        key = object_name("images", digest)
        if request.args.get("w"):
            key = f"{variants_name(digest)}/{THUMB.name}"
            if not store._head(key):  # a real handler would make it here
                abort(404)
        url = store.client.generate_presigned_url(
            "get_object", Params={"Bucket": store.bucket, "Key": key}, ExpiresIn=300
        )
        return redirect(url, 302)

    return files


def stored_photo(media: Path) -> tuple[str, dict, bytes, bytes]:
    """The photo and its thumbnail in a local media folder: (hash, record, original bytes, thumbnail bytes)."""
    data = images.normalize_upload(photo(), 50_000_000)
    meta = {"mimetype": data.mimetype, "width": data.width, "height": data.height, "alpha": data.alpha}
    local = LocalStore(str(media))
    digest, _ = local.store("images", data.data, {**meta, "uploader": "bench", "uploaded_at": int(time.time())})
    thumb = images.make_variant(local.path("images", digest), THUMB)
    local.put_variant(digest, THUMB.name, thumb, THUMB.mimetype)
    return digest, meta, data.data, thumb


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", default="3s", help="wrk duration of each measurement (default 3s)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating measurements per case; median shown")
    args = wrk_arguments(parser)

    folder = Path(tempfile.mkdtemp(prefix="bucket-bench-"))
    media = folder / "media"
    digest, meta, original, thumb = stored_photo(media)
    moto_port = free_port()
    endpoint = f"http://127.0.0.1:{moto_port}"
    credentials = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench-secret"}
    os.environ.update(credentials)  # for moto, boto3 in this process, the file server
    log = open(folder / "moto.log", "w")  # noqa: SIM115 - closed at the end
    moto = subprocess.Popen(
        [str(ROOT / ".venv/bin/moto_server"), "-H", "127.0.0.1", "-p", str(moto_port)], stdout=log, stderr=log
    )
    stack = None
    try:
        wait_for(f"{endpoint}/moto-api/")
        bucket = S3Store(
            {"INSTANCE_PATH": str(folder), "S3_ENDPOINT": endpoint, "S3_BUCKET": BUCKET, "S3_REGION": REGION}
        )
        s3 = bucket.client
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_bucket_policy(Bucket=BUCKET, Policy=public_read_policy(BUCKET))
        bucket.store("images", original, {**meta, "uploader": "bench", "uploaded_at": int(time.time())})
        bucket.put_variant(digest, THUMB.name, thumb, THUMB.mimetype)
        thumb_key = f"{variants_name(digest)}/{THUMB.name}"
        store = {"FESTIVALS_MEDIA_STORE": "s3", "FESTIVALS_S3_ENDPOINT": endpoint, "FESTIVALS_S3_BUCKET": BUCKET}
        stack = start_stack(
            folder,
            media,
            entry="bench.bucket_bench:presigned_app()",
            env={**store, "FESTIVALS_S3_REGION": REGION},
            media_store="s3",
            s3_endpoint=endpoint,
            s3_bucket=BUCKET,
            s3_region=REGION,
        )
        gateway_port, direct_port = stack.gateway_port, stack.direct_port
        host = {"Host": f"files.{DOMAIN}"}
        gateway = f"http://127.0.0.1:{gateway_port}"
        wait_for(f"{gateway}/health", host)
        query = "?w=320&format=webp"
        cases = (
            ("warm thumbnail w=320 webp", query, thumb_key, f"/variants/{digest[:2]}/{digest}/{THUMB.name}"),
            ("original (12 MP JPEG)", "", object_name("images", digest), f"/images/{digest[:2]}/{digest}.jpg"),
        )
        rows = []
        for name, asked, key, on_disk in cases:
            presigned = s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": key}, ExpiresIn=3600)
            wait_for(f"{gateway}/images/{digest}{asked}", host)
            measured = {"proxy": [], "redirects": [], "bucket": [], "disk": []}
            for _ in range(args.rounds):  # alternating, so that a busy moment of the machine hits every case
                measured["proxy"].append(wrk(f"{gateway}/images/{digest}{asked}", host["Host"], args))
                redirect_url = f"{gateway}/presigned/images/{digest}{asked}"
                measured["redirects"].append(wrk(redirect_url, host["Host"], args, redirects=True))
                measured["bucket"].append(wrk(presigned, None, args))
                measured["disk"].append(wrk(f"http://127.0.0.1:{direct_port}{on_disk}", None, args))
            rates = {case: statistics.median(values) for case, values in measured.items()}
            rates["redirect"] = 1 / (1 / rates["redirects"] + 1 / rates["bucket"])
            rows.append((name, rates))
        print(
            f"\nwrk -t{args.threads} -c{args.connections} -d{args.duration}, median of {args.rounds} alternating "
            f"measurements, {os.cpu_count()} cores (load average {os.getloadavg()[0]:.1f}); bucket: moto_server\n"
        )
        print(
            "| file | gateway proxies the bucket (req/s) | presigned redirect + bucket GET (req/s) "
            "| bucket directly (req/s) | Caddy from disk (req/s) | proxy / disk | proxy / redirect |"
        )
        print("|---|---|---|---|---|---|---|")
        for name, r in rows:
            print(
                f"| {name} | {r['proxy']:,.0f} | {r['redirect']:,.0f} (302s: {r['redirects']:,.0f}) "
                f"| {r['bucket']:,.0f} | {r['disk']:,.0f} | {r['proxy'] / r['disk']:.0%} "
                f"| {r['proxy'] / r['redirect']:.1f}x |"
            )
    finally:
        if stack is not None:
            stop_stack(stack)
        moto.terminate()
        moto.wait(timeout=15)
        log.close()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
