"""Writing files so that readers never see half of one: a complete temporary file in the same folder,
then renamed over the target (replace) or hard-linked into place (create once; one winner among racers).
Files are owner-only (0600) and new folders 0700 unless asked otherwise: keys, secrets and media alike are
read only by the service's own user (the file server's visitors get media over HTTP)."""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import BinaryIO


def private_folder(path: str) -> str:
    """`path` (and missing parents) made owner-only, and made so again when an earlier start or another tool
    (`mkdir -p`) left it open to others: the instance folder holds secrets, keys and the SQLite database."""
    os.makedirs(path, mode=0o700, exist_ok=True)
    if os.stat(path).st_mode & 0o077:
        os.chmod(path, 0o700)
    return path


def write_temp(path: str, data: bytes | BinaryIO, mode: int = 0o600) -> str:
    """`data` (bytes, or a file object copied from where it stands in chunks) in a new, flushed temporary file
    beside `path` (same folder: a rename or link is atomic)."""
    directory = os.path.dirname(path)
    os.makedirs(directory, mode=0o700, exist_ok=True)  # folders it creates: owner only
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            if isinstance(data, bytes):
                handle.write(data)
            else:
                shutil.copyfileobj(data, handle, 1024 * 1024)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
    except BaseException:
        os.unlink(tmp)
        raise
    return tmp


def write_atomic(path: str, data: bytes | BinaryIO, mode: int = 0o600) -> None:
    """Replace `path`: readers see the old file or the whole new one, never a part."""
    tmp = write_temp(path, data, mode)
    try:
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def create_exclusive(path: str, data: bytes, mode: int = 0o600) -> bool:
    """Write `path` completely unless it exists; True when this call created it."""
    tmp = write_temp(path, data, mode)
    try:
        os.link(tmp, path)
        return True
    except FileExistsError:
        return False
    finally:
        os.unlink(tmp)
