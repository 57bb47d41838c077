"""The gateway with the media in a bucket (FESTIVALS_MEDIA_STORE=s3): Caddy proxies stored originals and
thumbnails from the suite's S3 server, as it serves them from the media folder otherwise (test_gateway.py)."""

from __future__ import annotations

import pytest

from common import pki
from gateway.caddy import build_config
from gateway.settings import Settings
from tests.gateway.conftest import (
    assert_stored_images_come_from_the_gateway,
    assert_stored_videos_come_from_the_gateway,
    new_gateway_database,
    started_stack,
)
from tests.processes import starts_process
from tests.s3 import MotoServer


@pytest.fixture(scope="module")
@starts_process
def bucket_stack(tmp_path_factory, webhook, moto):
    """The stack on a bucket of its own and a database of its own."""
    bucket, database = moto.new_bucket(), new_gateway_database(tmp_path_factory, "_s3")
    with started_stack(tmp_path_factory.mktemp("bucket-stack"), database, webhook, **moto.settings(bucket)) as stack:
        stack.moto, stack.bucket = moto, bucket
        yield stack


def test_files_come_from_the_bucket_with_the_file_servers_headers(bucket_stack):
    assert_stored_images_come_from_the_gateway(bucket_stack)
    originals = bucket_stack.moto.keys(bucket_stack.bucket, "images/")
    thumbnails = bucket_stack.moto.keys(bucket_stack.bucket, "variants/")
    assert len(originals) == 1 and [key.rpartition("/")[2] for key in thumbnails] == ["w320-h0-contain.webp"]
    assert not (bucket_stack.instance / "media" / "images").exists()  # nothing of it on the host's disk


def test_videos_come_from_the_bucket_with_range_and_posters_from_the_file_server(bucket_stack, tmp_path):
    assert_stored_videos_come_from_the_gateway(bucket_stack, tmp_path)
    assert len(bucket_stack.moto.keys(bucket_stack.bucket, "videos/")) == 1


@pytest.fixture(scope="module")
@starts_process
def https_bucket_stack(tmp_path_factory, webhook):
    """The stack on a bucket served over HTTPS, as Spaces and AWS serve theirs: moto with a certificate for
    127.0.0.1 from a CA of its own, which Caddy and the file server trust as they would a public one (Go's
    SSL_CERT_FILE, boto3's AWS_CA_BUNDLE); nothing of the gateway's config is made for the test."""
    authority = tmp_path_factory.mktemp("public-ca")
    pki.init_ca(authority, "Öffentliche Zertifizierungsstelle für Festspiele")
    pki.issue(authority, "s3", ips=["127.0.0.1"])
    ca = str(authority / "ca.pem")
    moto = MotoServer(authority, tls=(str(authority / "s3.pem"), str(authority / "s3.key"), ca))
    try:
        bucket, database = moto.new_bucket(), new_gateway_database(tmp_path_factory, "_s3tls")
        folder = tmp_path_factory.mktemp("https-bucket-stack")
        settings = {**moto.settings(bucket), "SSL_CERT_FILE": ca, "AWS_CA_BUNDLE": ca}
        with started_stack(folder, database, webhook, **settings) as stack:
            stack.moto, stack.bucket = moto, bucket
            yield stack
    finally:
        moto.stop()


def test_files_come_from_a_bucket_over_https(https_bucket_stack):
    assert https_bucket_stack.env["FESTIVALS_S3_ENDPOINT"].startswith("https://127.0.0.1:")
    assert_stored_images_come_from_the_gateway(https_bucket_stack)
    assert len(https_bucket_stack.moto.keys(https_bucket_stack.bucket, "images/")) == 1


def bucket_proxies(settings) -> list[dict]:
    """The reverse proxies of files.<domain> that read from the bucket, from the config the registry loads."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("handler") == "reverse_proxy" and "rewrite" in node:
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(build_config(settings, {"files": ["127.0.0.1:5001"]}))
    return found


@pytest.mark.parametrize(
    ("endpoint", "dial", "host", "prefix"),
    [
        ("https://fra1.digitaloceanspaces.com", "fra1.digitaloceanspaces.com:443", "fra1.digitaloceanspaces.com", "/f"),
        ("http://minio.internal:9000", "minio.internal:9000", "minio.internal:9000", "/f"),
        ("", "f.s3.eu-central-1.amazonaws.com:443", "f.s3.eu-central-1.amazonaws.com", ""),  # AWS: virtual host
    ],
)
def test_gateway_reads_real_stores_by_object_name(endpoint, dial, host, prefix):
    settings = Settings(
        domain="festivals.example", media_store="s3", s3_endpoint=endpoint, s3_bucket="f", s3_region="eu-central-1"
    )
    proxies = bucket_proxies(settings)
    assert [p["rewrite"]["uri"].split("/{http.regexp")[0] for p in proxies] == [
        f"{prefix}/images",
        f"{prefix}/variants",
        f"{prefix}/videos",
    ]
    for p in proxies:
        assert p["upstreams"] == [{"dial": dial}] and p["headers"]["request"]["set"]["Host"] == [host]
        assert ("tls" in p["transport"]) == dial.endswith(":443")
        assert p["headers"]["request"]["delete"] == ["Authorization", "Cookie"]  # nothing of the visitor's
