"""Files on disk, named by content hash: `<media>/<kind>/<h[:2]>/<hash>` with a sidecar `<hash>.json`
(content type, size, uploader), and cached variants in `<media>/variants/<h[:2]>/<hash>/`. An image is also
linked as `<hash>.<ext>` (a hard link, no copy), so the gateway can serve it from disk with its type known.

A path is only ever built from a hash that matched HASH: user input never reaches the file system."""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import tempfile
from contextlib import contextmanager

import orjson

from common.files import create_exclusive, write_atomic

HASH = re.compile(r"^[0-9a-f]{64}$")
KINDS = ("images", "pdf")
# The extension of an image's public name, by its type (what Caddy's file server reads the type from).
EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp", "image/gif": ".gif"}


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Storage:
    def __init__(self, root: str):
        self.root = root
        try:  # owner-only from the top, so every folder below is private too
            os.makedirs(root, mode=0o700, exist_ok=True)
        except OSError:  # not writable: /ready says so
            pass

    def _check(self, kind: str, digest: str) -> None:
        if kind not in KINDS or not HASH.fullmatch(digest):
            raise ValueError("not a stored file's name")

    def path(self, kind: str, digest: str) -> str:
        self._check(kind, digest)
        return os.path.join(self.root, kind, digest[:2], digest)

    def meta_path(self, kind: str, digest: str) -> str:
        return self.path(kind, digest) + ".json"

    def variants_dir(self, digest: str) -> str:
        self._check("images", digest)
        return os.path.join(self.root, "variants", digest[:2], digest)

    def link_public(self, digest: str, mimetype: str) -> None:
        """`<hash>.<ext>` beside a stored image (made once; an image stored before links existed gets it
        at its next download)."""
        path = self.path("images", digest)
        try:
            os.link(path, path + EXTENSIONS[mimetype])
        except (FileExistsError, FileNotFoundError, KeyError):
            pass

    def exists(self, kind: str, digest: str) -> bool:
        return os.path.isfile(self.path(kind, digest))

    def read_meta(self, kind: str, digest: str) -> dict | None:
        try:
            with open(self.meta_path(kind, digest), "rb") as handle:
                return orjson.loads(handle.read())
        except FileNotFoundError:
            return None

    def store(self, kind: str, data: bytes, meta: dict) -> tuple[str, bool]:
        """Store `data` once under its hash; (hash, True) when it was new. The sidecar is created
        exclusively first, so of two simultaneous uploads exactly one is the uploader of record."""
        digest = content_hash(data)
        path = self.path(kind, digest)
        created = create_exclusive(self.meta_path(kind, digest), orjson.dumps({**meta, "size": len(data)}))
        if created or not os.path.isfile(path):
            write_atomic(path, data)
        if kind == "images":
            self.link_public(digest, meta.get("mimetype", ""))
        return digest, created

    def delete(self, kind: str, digest: str) -> None:
        stored = self.path(kind, digest)
        links = [stored + extension for extension in EXTENSIONS.values()] if kind == "images" else []
        for path in (stored, self.meta_path(kind, digest), *links):
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
        if kind == "images":
            shutil.rmtree(self.variants_dir(digest), ignore_errors=True)

    @contextmanager
    def variant_lock(self, digest: str, name: str):
        """An exclusive lock per variant, shared by every worker process (flock on a lock file)."""
        directory = self.variants_dir(digest)
        os.makedirs(directory, mode=0o700, exist_ok=True)
        fd = os.open(os.path.join(directory, f".{name}.lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def writable(self) -> bool:
        try:
            os.makedirs(self.root, mode=0o700, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self.root, prefix=".ready-"):
                pass
            return True
        except OSError:
            return False
