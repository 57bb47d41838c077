"""The gateway with the media in a bucket (FESTIVALS_MEDIA_STORE=s3): Caddy proxies stored originals and
thumbnails from the suite's S3 server, as it serves them from the media folder otherwise (test_gateway.py)."""

from __future__ import annotations

import pytest

from tests.gateway.conftest import (
    assert_stored_images_come_from_the_gateway,
    assert_stored_videos_come_from_the_gateway,
    new_gateway_database,
    started_stack,
)


@pytest.fixture(scope="module")
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
