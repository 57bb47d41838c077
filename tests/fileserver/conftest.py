"""The file server as a real separate process: `gunicorn wsgi:files` with 2 workers on a free port (with our
gunicorn hooks config), its own instance and media folders, and an identity-keys folder holding a key these
tests sign tokens with. The `files` and `small_files` servers run once with each media store: the local folder
and a bucket of the suite's S3 server (tests/s3.py)."""

from __future__ import annotations

import io
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests
from PIL import Image

from app import ROOT
from common.access_tokens import issue_access_token
from common.launch import gunicorn_command, process_env
from identity.keys import KeyStore
from tests.processes import free_port, starts_process, terminate, wait_for

ISSUER = "festivals-identity"
AUDIENCE = "festivals"


@dataclass(frozen=True)
class BucketObject:
    """An object in a test bucket, with what tests use of a local file's Path."""

    key: str
    moto: object = field(compare=False, repr=False)
    bucket: str = field(compare=False, repr=False)

    @property
    def name(self) -> str:
        return self.key.rpartition("/")[2]

    def read_bytes(self) -> bytes:
        return self.moto.read(self.bucket, self.key)

    def version(self):
        head = self.moto.client.head_object(Bucket=self.bucket, Key=self.key)
        return head["LastModified"], head["ETag"]


class FileServer:
    """A running file server process and what tests need around it: its URL, media folder (or bucket), tokens."""

    def __init__(self, instance: Path, keys: KeyStore | None, env: dict, moto=None):
        self.instance = instance
        self.media = instance / "media"
        self.keys = keys
        self.moto, self.bucket = moto, env.get("FESTIVALS_S3_BUCKET")
        self.store = "s3" if moto is not None else "local"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(instance / "files.log", "w+")  # noqa: SIM115 - closed in stop()
        command = gunicorn_command("files", f"127.0.0.1:{self.port}", workers=2, threads=1)  # hooks: metrics of both
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=process_env(env), stdout=self.log, stderr=subprocess.STDOUT, text=True
        )
        try:
            wait_for(f"{self.url}/health", self.process, name="file server", log=self.log)
        except Exception:
            self.stop()
            raise

    def stop(self) -> None:
        terminate(self.process)  # SIGKILL when a busy machine keeps it past its graceful stop
        self.log.close()

    def token(
        self,
        role: str = "creator",
        sub: str = "1",
        ttl: int = 900,
        keys: KeyStore | None = None,
        issuer: str = ISSUER,
        audience: str = AUDIENCE,
    ) -> str:
        user = SimpleNamespace(id=sub, role=role)
        return issue_access_token(user, keys or self.keys, issuer=issuer, audience=audience, ttl=ttl, sid="0" * 32)

    def bearer(self, role: str = "creator", sub: str = "1", **kwargs) -> dict:
        return {"Authorization": f"Bearer {self.token(role, sub, **kwargs)}"}

    def upload(
        self,
        data: bytes,
        filename: str = "photo.jpg",
        headers: dict | None = None,
        field: str = "image",
        path: str = "/images/upload",
        content_type: str = "image/jpeg",
    ):
        return requests.post(
            f"{self.url}{path}",
            files={field: (filename, data, content_type)},
            headers=self.bearer() if headers is None else headers,
            timeout=30,
        )

    def stored(self, kind: str = "images") -> list:
        """Stored files of a kind (not their .json sidecars, not temporary files)."""
        if self.moto is not None:
            return [BucketObject(key, self.moto, self.bucket) for key in self.moto.keys(self.bucket, f"{kind}/")]
        root = self.media / kind
        return (
            sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith(".") and p.suffix != ".json")
            if root.exists()
            else []
        )

    def variants(self, digest: str) -> list:
        prefix = f"variants/{digest[:2]}/{digest}"
        if self.moto is not None:
            return [BucketObject(key, self.moto, self.bucket) for key in self.moto.keys(self.bucket, prefix + "/")]
        folder = self.media / prefix
        return sorted(p for p in folder.iterdir() if not p.name.startswith(".")) if folder.exists() else []

    def meta(self, kind: str, digest: str) -> bytes:
        """The stored record of an original (type, size, uploader)."""
        name = f"{kind}/{digest[:2]}/{digest}.json"
        if self.moto is not None:
            return self.moto.read(self.bucket, f"meta/{name}")
        return (self.media / name).read_bytes()

    @staticmethod
    def version(stored):
        """Changes when a stored file is written again."""
        return stored.version() if isinstance(stored, BucketObject) else stored.stat().st_mtime_ns


def server_env(instance: Path, **settings: str) -> dict:
    return {"FESTIVALS_INSTANCE_PATH": str(instance), "FESTIVALS_PORTAL_ORIGIN": "http://portal.test", **settings}


def start_server(tmp_path_factory, name: str, moto=None, **settings: str) -> FileServer:
    """A file server on the local folder, or with `moto` (tests/s3.py) on a new bucket of it."""
    instance = tmp_path_factory.mktemp(name)
    keys = KeyStore(str(instance / "identity-keys"))  # the embedded default: keys in the shared instance folder
    if moto is not None:
        settings = {**moto.settings(moto.new_bucket()), **settings}
    return FileServer(instance, keys, server_env(instance, **settings), moto=moto)


def store_of(request):
    """The parametrized fixture's media store: None for the local folder, else the suite's S3 server."""
    return request.getfixturevalue("moto") if request.param == "s3" else None


@pytest.fixture(scope="module", params=["local", "s3"])
@starts_process
def files(tmp_path_factory, request):
    server = start_server(tmp_path_factory, "files", store_of(request))
    yield server
    server.stop()


@pytest.fixture(scope="module")
@starts_process
def local_files(tmp_path_factory):
    """A file server on the local folder (for what only a folder has: file modes)."""
    server = start_server(tmp_path_factory, "local-files")
    yield server
    server.stop()


@pytest.fixture(scope="module", params=["local", "s3"])
@starts_process
def small_files(tmp_path_factory, request):
    """A file server with low limits: 200 kB uploads, 1 megapixel images, thumbnail sizes 32 and 64."""
    server = start_server(
        tmp_path_factory,
        "small-files",
        store_of(request),
        FESTIVALS_MAX_UPLOAD_BYTES="200000",
        FESTIVALS_MAX_IMAGE_PIXELS="1000000",
        FESTIVALS_THUMB_SIZES="32,64",
    )
    yield server
    server.stop()


def image_bytes(fmt: str = "JPEG", size: tuple[int, int] = (1200, 800), mode: str = "RGB", **save) -> bytes:
    """A new picture each call (random noise in one channel): gradients left to right and top to bottom,
    so crops and rotations show."""
    red = Image.linear_gradient("L").rotate(90).resize(size)
    green = Image.linear_gradient("L").resize(size)
    blue = Image.effect_noise(size, 60)
    image = Image.merge("RGB", (red, green, blue))
    if mode != "RGB":
        image = image.convert(mode)
    out = io.BytesIO()
    image.save(out, fmt, **save)
    return out.getvalue()
