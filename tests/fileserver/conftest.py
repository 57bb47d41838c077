"""The file server as a real separate process: `gunicorn wsgi:files` with 2 workers on a free port (with our
gunicorn hooks config), its own instance and media folders, and an identity-keys folder holding a key these
tests sign tokens with."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests
from PIL import Image

from app import ROOT
from identity.keys import KeyStore
from identity.tokens import issue_access_token
from tests.processes import free_port, wait_for

ISSUER = "festivals-identity"
AUDIENCE = "festivals"


class FileServer:
    """A running file server process and what tests need around it: its URL, media folder, tokens."""

    def __init__(self, instance: Path, keys: KeyStore | None, env: dict):
        self.instance = instance
        self.media = instance / "media"
        self.keys = keys
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(instance / "files.log", "w+")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [
                os.path.join(os.path.dirname(sys.executable), "gunicorn"),
                "-c",
                "python:common.gunicorn_hooks",  # metrics of both workers in every scrape
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "2",
                "--no-control-socket",
                "wsgi:files",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            wait_for(f"{self.url}/health", self.process, name="file server", log=self.log)
        except Exception:
            self.stop()
            raise

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
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

    def stored(self, kind: str = "images") -> list[Path]:
        """Stored files of a kind (not their .json sidecars, not temporary files)."""
        root = self.media / kind
        return (
            sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith(".") and p.suffix != ".json")
            if root.exists()
            else []
        )

    def variants(self, digest: str) -> list[Path]:
        folder = self.media / "variants" / digest[:2] / digest
        return sorted(p for p in folder.iterdir() if not p.name.startswith(".")) if folder.exists() else []


def server_env(instance: Path, **settings: str) -> dict:
    env = {key: value for key, value in os.environ.items() if not key.startswith("FESTIVALS_")}
    env.update({"FESTIVALS_INSTANCE_PATH": str(instance), "FESTIVALS_PORTAL_ORIGIN": "http://portal.test", **settings})
    return env


def start_server(tmp_path_factory, name: str, **settings: str) -> FileServer:
    instance = tmp_path_factory.mktemp(name)
    keys = KeyStore(str(instance / "identity-keys"))  # the embedded default: keys in the shared instance folder
    return FileServer(instance, keys, server_env(instance, **settings))


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    server = start_server(tmp_path_factory, "files")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def small_files(tmp_path_factory):
    """A file server with low limits: 200 kB uploads, 1 megapixel images, thumbnail sizes 32 and 64."""
    server = start_server(
        tmp_path_factory,
        "small-files",
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
