"""Helpers for tests that start real server processes (gunicorn) and talk to them over HTTP."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.request


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _output(process: subprocess.Popen, log) -> str:
    if log is not None:
        log.flush()
        log.seek(0)
        return log.read()
    return process.stdout.read() if process.stdout is not None else ""


def wait_for(
    url: str, process: subprocess.Popen, seconds: float = 30, name: str = "server", log=None, context=None
) -> None:
    """Until `url` answers; fails loudly with the process's output when it exits or stays silent.
    `context`: an ssl.SSLContext for https URLs (e.g. with a client certificate for an mTLS port)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}: {_output(process, log)}")
        try:
            with urllib.request.urlopen(url, timeout=1, context=context):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{name} did not answer {url} within {seconds}s")
