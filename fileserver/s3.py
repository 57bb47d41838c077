"""The media store in an S3-compatible bucket (AWS S3, DigitalOcean Spaces, MinIO, Garage, Ceph RGW) through
boto3. Object keys are the local store's relative names: `images/ab/<hash>`, `pdf/ab/<hash>`,
`variants/ab/<hash>/<name>`; each original's record (type, size, uploader) is `meta/<kind>/ab/<hash>.json`, kept
apart so that a bucket policy can make `images/`, `videos/` and `variants/` public while the records stay private.
Objects carry their Content-Type and the file server's Cache-Control, so the gateway can proxy them as they are.

Every call has bounded timeouts and retries; a failure of the store (unreachable, bucket missing, credentials
refused) is StoreUnavailable: a 503 with the error envelope, never a 500 or a hang."""

from __future__ import annotations

import os
import tempfile
from contextlib import closing, contextmanager
from typing import BinaryIO

import boto3
import orjson
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from fileserver.storage import (
    PUBLIC,
    SPOOL_BYTES,
    MediaStore,
    Stored,
    StoreUnavailable,
    alias_name,
    hash_file,
    object_name,
    variants_name,
)

YEAR = 365 * 24 * 3600
CACHE_CONTROL = f"public, max-age={YEAR}, immutable"
MISSING = ("404", "NoSuchKey", "NotFound")
PUBLIC_PREFIXES = ("images", "videos", "variants")  # what the gateway reads from the bucket
# Large uploads go in 8 MiB parts (several at once); smaller ones in one PUT.
TRANSFER = TransferConfig(multipart_threshold=8 * 1024 * 1024, multipart_chunksize=8 * 1024 * 1024, max_concurrency=4)


def public_read_policy(bucket: str) -> str:
    """The bucket policy the gateway's downloads need (docs/media-store.md): anyone may read the images, videos
    and thumbnails, which are public anyway; records and everything else stay private (the file server reads them)."""
    resources = [f"arn:aws:s3:::{bucket}/{prefix}/*" for prefix in PUBLIC_PREFIXES]
    statement = {"Sid": "PublicMedia", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject"}
    return orjson.dumps({"Version": "2012-10-17", "Statement": [{**statement, "Resource": resources}]}).decode()


def client_config(endpoint: str) -> Config:
    return Config(
        # a call gives up within about 22 s (2 tries of 2 s connect + 8 s without a byte, and a back-off): well
        # inside gunicorn's 30 s worker timeout, so a hung store is a 503, never a killed worker and a reset
        connect_timeout=2,
        read_timeout=8,
        retries={"total_max_attempts": 2, "mode": "standard"},
        # S3-compatible stores (MinIO, Ceph, moto) address a bucket by path; AWS decides itself
        s3={"addressing_style": "path" if endpoint else "auto"},
        # Checksums only where S3 requires them: several S3-compatible stores refuse the newer default trailers
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        max_pool_connections=20,
    )


def make_client(endpoint: str, region: str):
    return boto3.session.Session().client(
        "s3", endpoint_url=endpoint or None, region_name=region or None, config=client_config(endpoint)
    )


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _status(exc: ClientError) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)


class S3Body:
    """A stored object as a readable, seekable file: it streams from where it stands with one ranged GET,
    and a seek (a Range request) only moves where the next GET starts. Opened with its first GET's body."""

    def __init__(self, store: S3Store, key: str, size: int, body=None):
        self.store, self.key, self.size = store, key, size
        self._body, self._pos = body, 0

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._pos, os.SEEK_END: self.size}[whence]
        position = max(0, base + offset)
        if position != self._pos:
            self._drop()
            self._pos = position
        return position

    def read(self, size: int = -1) -> bytes:
        if self._pos >= self.size:
            return b""
        if self._body is None:
            with self.store.calls():
                self._body = self.store.client.get_object(
                    Bucket=self.store.bucket, Key=self.key, Range=f"bytes={self._pos}-"
                )["Body"]
        data = self._body.read(size if size is not None and size >= 0 else None)
        self._pos += len(data)
        return data

    def _drop(self) -> None:
        if self._body is not None:
            self._body.close()
            self._body = None

    def close(self) -> None:
        self._drop()


class S3Store(MediaStore):
    def __init__(self, settings: dict):
        super().__init__(os.path.join(settings["INSTANCE_PATH"], "locks"))
        self.endpoint = settings.get("S3_ENDPOINT", "")
        self.bucket = settings.get("S3_BUCKET", "")
        self.region = settings.get("S3_REGION", "")
        self.client = make_client(self.endpoint, self.region)

    # --- errors -------------------------------------------------------------------------------------------

    def problem(self, exc: Exception) -> str:
        """What is wrong, naming the setting to fix."""
        where = self.endpoint or "AWS S3"
        if isinstance(exc, NoCredentialsError):
            return "the media store needs credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        if isinstance(exc, ClientError):
            code, status = _code(exc), _status(exc)
            if code in ("NoSuchBucket",) or (status == 404 and code in ("404", "NotFound")):
                return f"the media store has no bucket {self.bucket!r} (FESTIVALS_S3_BUCKET) at {where}"
            if code in ("InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "403") or status == 403:
                return (
                    f"the media store refused the credentials for bucket {self.bucket!r} at {where} ({code}): "
                    "check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
                )
            if code in ("PermanentRedirect", "AuthorizationHeaderMalformed", "301") or status == 301:
                return f"bucket {self.bucket!r} is in another region than FESTIVALS_S3_REGION={self.region!r}"
            return f"the media store at {where} answered {status} {code}"
        return f"the media store at {where} (FESTIVALS_S3_ENDPOINT) cannot be reached: {type(exc).__name__}"

    @contextmanager
    def calls(self):
        try:
            yield
        except (BotoCoreError, ClientError) as exc:
            raise StoreUnavailable(self.problem(exc)) from exc

    def check(self) -> None:
        if not self.bucket:
            raise StoreUnavailable("FESTIVALS_MEDIA_STORE=s3 needs FESTIVALS_S3_BUCKET (the bucket's name)")
        with self.calls():
            self.client.head_bucket(Bucket=self.bucket)

    def writable(self) -> bool:
        try:
            self.check()
            return True
        except StoreUnavailable:
            return False

    # --- objects --------------------------------------------------------------------------------------------

    def _get(self, key: str):
        """get_object, or None when the object is not there."""
        try:
            with self.calls():
                return self.client.get_object(Bucket=self.bucket, Key=key)
        except StoreUnavailable as exc:
            if isinstance(exc.__cause__, ClientError) and _code(exc.__cause__) in MISSING:
                return None
            raise

    def _head(self, key: str) -> bool:
        try:
            with self.calls():
                self.client.head_object(Bucket=self.bucket, Key=key)
            return True
        except StoreUnavailable as exc:
            if isinstance(exc.__cause__, ClientError) and _code(exc.__cause__) in MISSING:
                return False
            raise

    @staticmethod
    def meta_key(kind: str, digest: str) -> str:
        return f"meta/{object_name(kind, digest)}.json"

    def exists(self, kind: str, digest: str) -> bool:
        return self._head(object_name(kind, digest))

    def read_meta(self, kind: str, digest: str) -> dict | None:
        found = self._get(self.meta_key(kind, digest))
        if found is None:
            return None
        with self.calls():
            return orjson.loads(found["Body"].read())

    def put_file(self, kind: str, fileobj: BinaryIO, meta: dict) -> tuple[str, bool]:
        digest, size = hash_file(fileobj)
        if not self.exists(kind, digest):  # stored once: the same content uploaded again is not sent again
            self.upload(kind, digest, fileobj, meta.get("mimetype") or "application/octet-stream")
        return digest, self.put_meta(kind, digest, {**meta, "size": size})

    def upload(self, kind: str, digest: str, fileobj: BinaryIO, mimetype: str) -> None:
        """The content (already hashed to `digest`) as the original's object; returns when it is stored."""
        extra = {"ContentType": mimetype, "CacheControl": CACHE_CONTROL}
        with self.calls():
            self.client.upload_fileobj(
                fileobj, self.bucket, object_name(kind, digest), ExtraArgs=extra, Config=TRANSFER
            )

    def put_meta(self, kind: str, digest: str, meta: dict) -> bool:
        """Write the original's record unless one exists; True when this call wrote it (the uploader of record)."""
        with self.calls():
            try:
                self.client.put_object(
                    Bucket=self.bucket,
                    Key=self.meta_key(kind, digest),
                    Body=orjson.dumps(meta),
                    ContentType="application/json",
                    IfNoneMatch="*",
                )
                return True
            except ClientError as exc:
                if _status(exc) in (409, 412):  # 412: it exists; 409: a simultaneous writer won
                    return False
                raise

    def stored_hash(self, kind: str, digest: str) -> str | None:
        """The sha256 of the original's object as the bucket holds it (read through), None when it is missing."""
        found = self._get(object_name(kind, digest))
        if found is None:
            return None
        with self.calls(), closing(found["Body"]) as body:
            return hash_file(body, rewind=False)[0]

    def read_alias(self, name: str) -> dict | None:
        try:
            key = alias_name(name)
        except ValueError:
            return None
        found = self._get(key)
        if found is None:
            return None
        with self.calls():
            return orjson.loads(found["Body"].read())

    def write_alias(self, name: str, alias: dict) -> None:
        with self.calls():
            self.client.put_object(
                Bucket=self.bucket, Key=alias_name(name), Body=orjson.dumps(alias), ContentType="application/json"
            )

    def open(self, kind: str, digest: str) -> Stored:
        key = object_name(kind, digest)
        found = self._get(key)
        if found is None:
            raise FileNotFoundError(key)
        return Stored(S3Body(self, key, found["ContentLength"], found["Body"]), found["ContentLength"], _mtime(found))

    @contextmanager
    def local_copy(self, kind: str, digest: str):
        key = object_name(kind, digest)
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
            try:
                with self.calls():
                    self.client.download_fileobj(self.bucket, key, spool)
            except StoreUnavailable as exc:
                if isinstance(exc.__cause__, ClientError) and _code(exc.__cause__) in MISSING:
                    raise FileNotFoundError(key) from None
                raise
            spool.seek(0)
            yield spool

    def open_variant(self, digest: str, name: str) -> Stored | None:
        key = f"{variants_name(digest)}/{name}"
        found = self._get(key)
        if found is None:
            return None
        return Stored(S3Body(self, key, found["ContentLength"], found["Body"]), found["ContentLength"], _mtime(found))

    def put_variant(self, digest: str, name: str, data: bytes, mimetype: str) -> None:
        with self.calls():
            self.client.put_object(
                Bucket=self.bucket,
                Key=f"{variants_name(digest)}/{name}",
                Body=data,
                ContentType=mimetype,
                CacheControl=CACHE_CONTROL,
            )

    def delete(self, kind: str, digest: str) -> None:
        keys = [object_name(kind, digest), self.meta_key(kind, digest)]
        with self.calls():
            if kind in PUBLIC:  # thumbnails, posters
                pages = self.client.get_paginator("list_objects_v2").paginate(
                    Bucket=self.bucket, Prefix=variants_name(digest) + "/"
                )
                keys += [item["Key"] for page in pages for item in page.get("Contents", [])]
            for start in range(0, len(keys), 1000):  # DeleteObjects takes 1000 keys at most
                self.client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": [{"Key": key} for key in keys[start : start + 1000]]}
                )


def _mtime(found: dict) -> float:
    return found["LastModified"].timestamp()
