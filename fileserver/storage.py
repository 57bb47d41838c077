"""The media store: originals named by content hash, a small JSON record beside each (content type, size,
uploader), and cached variants (thumbnails). Two implementations behind one interface (MediaStore):

- LocalStore (the embedded default): `<media>/<kind>/<h[:2]>/<hash>` with a sidecar `<hash>.json`, variants in
  `<media>/variants/<h[:2]>/<hash>/<name>`. An image is also linked as `<hash>.<ext>` (a hard link, no copy), so
  the gateway can serve it from disk with its type known.
- S3Store (fileserver/s3.py, FESTIVALS_MEDIA_STORE=s3): the same names as object keys in a bucket.

A file imported from the Go file server (tools/import_go.py) keeps its old name as an alias: `legacy/<name>.json`
says which stored file `upload-123.jpg` is (its kind and hash).

A name is only ever built from a hash that matched HASH or a Go name that matched LEGACY_NAME: user input never
reaches the file system or a key otherwise.
`put_file` streams: the content is hashed and stored from a (spooled) file, never read into memory whole."""

from __future__ import annotations

import fcntl
import hashlib
import io
import os
import re
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from typing import BinaryIO

import orjson

from common.files import create_exclusive, write_atomic
from fileserver.http import FilesError

KINDS = ("images", "pdf", "videos")
PUBLIC = ("images", "videos")  # kinds also linked as `<hash>.<ext>` and having variants (thumbnails, posters)
# The Go file server's names: upload-<digits> and an extension that says nothing reliable about the type.
LEGACY_NAME = re.compile(r"^upload-[0-9]{1,30}\.[a-z]{2,4}$")
# The extension of an image's public name, by its type (what Caddy's file server reads the type from).
EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp", "image/gif": ".gif"}
EXTENSIONS.update({"video/mp4": ".mp4", "video/webm": ".webm"})
CHUNK = 1024 * 1024
SPOOL_BYTES = 8 * 1024 * 1024  # smaller files stay in memory while they are hashed and stored


class StoreUnavailable(FilesError):
    """The media store cannot be reached or refuses us (bucket missing, credentials wrong, endpoint down):
    answered as 503 with the error envelope, never as a 500."""

    def __init__(self, message: str):
        super().__init__(503, message)


@dataclass
class Stored:
    """An open stored file: a readable, seekable file object with its size and last change (unix seconds)."""

    file: BinaryIO
    size: int
    mtime: float


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def hash_file(fileobj: BinaryIO, rewind: bool = True) -> tuple[str, int]:
    """(sha256 hex, size) of a file object read in chunks; a seekable one (`rewind`) is read from its start
    and left positioned there."""
    if rewind:
        fileobj.seek(0)
    digest, size = hashlib.sha256(), 0
    while chunk := fileobj.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
    if rewind:
        fileobj.seek(0)
    return digest.hexdigest(), size


def check_name(kind: str, digest: str) -> None:
    if kind not in KINDS or len(digest) != 64 or digest.strip("0123456789abcdef"):
        raise ValueError("not a stored file's name")


def object_name(kind: str, digest: str) -> str:
    """`images/ab/abcdef...`: the original's name in the store (a relative path or an object key)."""
    check_name(kind, digest)
    return f"{kind}/{digest[:2]}/{digest}"


def alias_name(name: str) -> str:
    """`legacy/upload-123.jpg.json`: the record of a Go file server's name (ValueError for any other name)."""
    if not LEGACY_NAME.fullmatch(name):
        raise ValueError("not a Go file server's name")
    return f"legacy/{name}.json"


def variants_name(digest: str) -> str:
    check_name("images", digest)  # a video's posters too: a hash names one file whatever its kind
    return f"variants/{digest[:2]}/{digest}"


class MediaStore:
    """What the file server needs of a store. Every method that touches the store may raise StoreUnavailable."""

    def __init__(self, lock_root: str):
        self.lock_root = lock_root  # per-host lock files: a variant is made once per host at most at a time

    def store(self, kind: str, data: bytes, meta: dict) -> tuple[str, bool]:
        """Store `data` once under its hash; (hash, True) when it was new."""
        return self.put_file(kind, io.BytesIO(data), meta)

    def put_file(self, kind: str, fileobj: BinaryIO, meta: dict) -> tuple[str, bool]:
        """Store a seekable file's content once under its hash, streaming; (hash, True) when it was new.
        Of two simultaneous uploads of the same content exactly one is the uploader of record. Returns only
        when the content is stored."""
        raise NotImplementedError

    def exists(self, kind: str, digest: str) -> bool:
        raise NotImplementedError

    def read_meta(self, kind: str, digest: str) -> dict | None:
        raise NotImplementedError

    def open(self, kind: str, digest: str) -> Stored:
        """The stored original; FileNotFoundError when there is none. The caller closes `.file`."""
        raise NotImplementedError

    @contextmanager
    def local_copy(self, kind: str, digest: str):
        """A seekable local file object of the original (for Pillow); FileNotFoundError when there is none."""
        stored = self.open(kind, digest)
        try:
            yield stored.file
        finally:
            stored.file.close()

    def open_variant(self, digest: str, name: str) -> Stored | None:
        raise NotImplementedError

    def put_variant(self, digest: str, name: str, data: bytes, mimetype: str) -> None:
        raise NotImplementedError

    def delete(self, kind: str, digest: str) -> None:
        raise NotImplementedError

    def read_alias(self, name: str) -> dict | None:
        """{"kind", "hash", ...} of a Go file server's name (storage.LEGACY_NAME), or None."""
        raise NotImplementedError

    def write_alias(self, name: str, alias: dict) -> None:
        raise NotImplementedError

    def link_public(self, digest: str, mimetype: str, kind: str = "images") -> None:
        """A store that the gateway reads from disk keeps `<hash>.<ext>` beside each image; others need none."""

    def writable(self) -> bool:
        raise NotImplementedError

    def check(self) -> None:
        """Raise StoreUnavailable with a message naming the setting to fix when the store cannot be used."""

    @contextmanager
    def variant_lock(self, digest: str, name: str):
        """An exclusive lock per variant, shared by every worker process on this host (flock on a lock file)."""
        directory = os.path.join(self.lock_root, variants_name(digest))
        os.makedirs(directory, mode=0o700, exist_ok=True)
        fd = os.open(os.path.join(directory, f".{name}.lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


def _open_file(path: str) -> Stored:
    handle = open(path, "rb")  # noqa: SIM115 - the response closes it
    stat = os.fstat(handle.fileno())
    return Stored(handle, stat.st_size, stat.st_mtime)


class LocalStore(MediaStore):
    def __init__(self, root: str):
        super().__init__(root)
        self.root = root
        try:  # owner-only from the top, so every folder below is private too
            os.makedirs(root, mode=0o700, exist_ok=True)
        except OSError:  # not writable: /ready says so
            pass

    def path(self, kind: str, digest: str) -> str:
        return os.path.join(self.root, object_name(kind, digest))

    def meta_path(self, kind: str, digest: str) -> str:
        return self.path(kind, digest) + ".json"

    def variants_dir(self, digest: str) -> str:
        return os.path.join(self.root, variants_name(digest))

    def link_public(self, digest: str, mimetype: str, kind: str = "images") -> None:
        """`<hash>.<ext>` beside a stored image or video (made once; an image stored before links existed gets
        it at its next download)."""
        path = self.path(kind, digest)
        try:
            os.link(path, path + EXTENSIONS[mimetype])
        except (FileExistsError, FileNotFoundError, KeyError):
            pass

    def exists(self, kind: str, digest: str) -> bool:
        return os.path.isfile(self.path(kind, digest))

    def alias_path(self, name: str) -> str:
        return os.path.join(self.root, alias_name(name))

    def read_alias(self, name: str) -> dict | None:
        try:
            with open(self.alias_path(name), "rb") as handle:
                return orjson.loads(handle.read())
        except (FileNotFoundError, ValueError):
            return None

    def write_alias(self, name: str, alias: dict) -> None:
        write_atomic(self.alias_path(name), orjson.dumps(alias))

    def read_meta(self, kind: str, digest: str) -> dict | None:
        try:
            with open(self.meta_path(kind, digest), "rb") as handle:
                return orjson.loads(handle.read())
        except FileNotFoundError:
            return None

    def put_file(self, kind: str, fileobj: BinaryIO, meta: dict) -> tuple[str, bool]:
        # The sidecar is created exclusively first: its creator is the uploader of record.
        digest, size = hash_file(fileobj)
        path = self.path(kind, digest)
        created = create_exclusive(self.meta_path(kind, digest), orjson.dumps({**meta, "size": size}))
        if created or not os.path.isfile(path):
            write_atomic(path, fileobj)
        if kind in PUBLIC:
            self.link_public(digest, meta.get("mimetype", ""), kind)
        return digest, created

    def open(self, kind: str, digest: str) -> Stored:
        return _open_file(self.path(kind, digest))

    def open_variant(self, digest: str, name: str) -> Stored | None:
        try:
            return _open_file(os.path.join(self.variants_dir(digest), name))
        except FileNotFoundError:
            return None

    def put_variant(self, digest: str, name: str, data: bytes, mimetype: str) -> None:
        write_atomic(os.path.join(self.variants_dir(digest), name), data)

    def delete(self, kind: str, digest: str) -> None:
        stored = self.path(kind, digest)
        links = [stored + extension for extension in EXTENSIONS.values()] if kind in PUBLIC else []
        for path in (stored, self.meta_path(kind, digest), *links):
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
        if kind in PUBLIC:
            shutil.rmtree(self.variants_dir(digest), ignore_errors=True)

    def writable(self) -> bool:
        try:
            os.makedirs(self.root, mode=0o700, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self.root, prefix=".ready-"):
                pass
            return True
        except OSError:
            return False


# Set in a gunicorn master that checked the store before forking (gunicorn_files.py): its workers
# inherit it and do not check again, so a worker started during an outage of the store boots (and answers 503)
# instead of failing to boot, which makes gunicorn stop the whole server.
checked_at_start = False


def open_store(settings: dict) -> MediaStore:
    """The store FESTIVALS_MEDIA_STORE names: `local` (MEDIA_DIR) or `s3` (the bucket; checked here, so a
    file server with a wrong bucket, credentials or endpoint refuses to start with a message saying which)."""
    if settings.get("MEDIA_STORE", "local") == "s3":
        from fileserver.s3 import S3Store  # boto3 is imported only by servers that use a bucket

        store = S3Store(settings)
        if not checked_at_start:
            store.check()
        return store
    return LocalStore(settings["MEDIA_DIR"])


def check_at_start(settings: dict) -> None:
    """The store's check, once in the process that forks the workers (raises StoreUnavailable)."""
    global checked_at_start
    open_store(settings)
    checked_at_start = True
