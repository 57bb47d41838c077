"""The suite's S3 engine: moto's standalone server (`moto_server`), a real process speaking the S3 wire protocol
on a free loopback port. Each user gets its own bucket; a public-read bucket policy on the media prefixes, as
docs/media-store.md asks of an operator, so the gateway can proxy downloads."""

from __future__ import annotations

import itertools
import os
import ssl
import subprocess
import sys
from pathlib import Path

import boto3
from botocore.config import Config

from fileserver.s3 import public_read_policy
from tests.processes import free_port, terminate, wait_for

REGION = "eu-central-1"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "festivals-test", "AWS_SECRET_ACCESS_KEY": "festivals-test-secret"}
_names = itertools.count(1)


class MotoServer:
    """A running moto_server; `env` adds settings (e.g. INITIAL_NO_AUTH_ACTION_COUNT=0: credentials checked).
    With `tls` (certificate, key, CA) it serves HTTPS with that certificate (one for 127.0.0.1), as Spaces or AWS
    do with theirs."""

    def __init__(self, folder: Path, tls: tuple[str, str, str] | None = None, **env: str):
        self.port = free_port()
        self.endpoint = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self.log = open(folder / f"moto-{self.port}.log", "w+")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [
                os.path.join(os.path.dirname(sys.executable), "moto_server"),
                *("-H", "127.0.0.1", "-p", str(self.port)),
                *(("-c", tls[0], "-k", tls[1]) if tls else ()),
            ],
            env={**os.environ, **CREDENTIALS, **env},
            stdout=self.log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        context = ssl.create_default_context(cafile=tls[2]) if tls else None
        try:
            wait_for(f"{self.endpoint}/moto-api/", self.process, 60, "moto_server", self.log, context)
        except Exception:
            self.stop()
            raise
        self.client = boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            verify=tls[2] if tls else None,
            region_name=REGION,
            aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            config=Config(s3={"addressing_style": "path"}, retries={"total_max_attempts": 2}),
        )

    def new_bucket(self, prefix: str = "festival-media") -> str:
        name = f"{prefix}-{os.getpid()}-{next(_names)}"
        self.client.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
        self.client.put_bucket_policy(Bucket=name, Policy=public_read_policy(name))
        return name

    def settings(self, bucket: str) -> dict:
        """The file server's environment for this bucket."""
        return {
            "FESTIVALS_MEDIA_STORE": "s3",
            "FESTIVALS_S3_ENDPOINT": self.endpoint,
            "FESTIVALS_S3_BUCKET": bucket,
            "FESTIVALS_S3_REGION": REGION,
            **CREDENTIALS,
        }

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))

    def read(self, bucket: str, key: str) -> bytes:
        return self.client.get_object(Bucket=bucket, Key=key)["Body"].read()

    def stop(self) -> None:
        terminate(self.process)
        self.log.close()
