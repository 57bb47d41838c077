"""`flask --app wsgi:files media-to-s3 FOLDER`: copy a local media folder (FESTIVALS_MEDIA_DIR's layout) into the
bucket the file server's settings name (FESTIVALS_MEDIA_STORE=s3 ...).

Every original is hashed in the folder (its name is its sha256: a file that does not match is reported, not
copied) and again as the bucket holds it after the copy. Safe to run again and to stop at any point: an object
already in the bucket is read back and hashed, and sent again only when its hash is wrong; a record already in the
bucket is kept (its uploader stays). The Go file server's old names (`legacy/`, tools/import_go.py) are copied too.
Thumbnails are not copied: the file server makes them again on first request.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass

import click
import orjson
from flask import current_app
from flask.cli import with_appcontext

from fileserver.storage import KINDS, LEGACY_NAME, StoreUnavailable, hash_file

NAME = re.compile(r"^[0-9a-f]{64}$")


@dataclass
class Original:
    kind: str
    digest: str
    path: str

    @property
    def record(self) -> str:
        return self.path + ".json"


def originals(folder: str):
    """The stored originals of a local media folder, by kind, in a stable order."""
    for kind in KINDS:
        root = os.path.join(folder, kind)
        for prefix in sorted(os.listdir(root)) if os.path.isdir(root) else []:
            for name in sorted(os.listdir(os.path.join(root, prefix))):
                if NAME.fullmatch(name):  # not the .json records, <hash>.<ext> links or temporary files
                    yield Original(kind, name, os.path.join(root, prefix, name))


def copy_one(store, original: Original) -> str:
    """Copy one original and its record; the outcome's name for the summary."""
    with open(original.path, "rb") as handle:
        digest, size = hash_file(handle)
        if digest != original.digest:
            return "damaged in the folder (hash differs from its name; not copied)"
        try:
            with open(original.record, "rb") as record:
                meta = orjson.loads(record.read())
        except (FileNotFoundError, orjson.JSONDecodeError):
            return "without a readable record in the folder (not copied)"
        in_bucket = store.stored_hash(original.kind, digest)
        outcome = "already in the bucket"
        if in_bucket != digest:
            store.upload(original.kind, digest, handle, meta.get("mimetype") or "application/octet-stream")
            if store.stored_hash(original.kind, digest) != digest:
                return "FAILED: the bucket's copy has another hash"
            outcome = "copied" if in_bucket is None else "copied again (the bucket's copy had another hash)"
    store.put_meta(original.kind, digest, {**meta, "size": size})
    return outcome


def aliases(folder: str):
    """(old name, its record) of every alias in the folder's `legacy/`."""
    root = os.path.join(folder, "legacy")
    for entry in sorted(os.listdir(root)) if os.path.isdir(root) else []:
        name = entry.removesuffix(".json")
        if LEGACY_NAME.fullmatch(name):
            with open(os.path.join(root, entry), "rb") as handle:
                yield name, orjson.loads(handle.read())


@click.command("media-to-s3")
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
@with_appcontext
def media_to_s3(folder: str) -> None:
    """Copy the media FOLDER (originals and their records) into the configured bucket, verifying every hash."""
    store = current_app.extensions["files_storage"]
    if current_app.config["MEDIA_STORE"] != "s3":
        raise click.UsageError("set FESTIVALS_MEDIA_STORE=s3 and FESTIVALS_S3_* to the bucket to copy into")
    counts, problems, total = Counter(), [], 0
    try:
        for original in originals(folder):
            outcome = copy_one(store, original)
            counts[outcome] += 1
            total += 1
            if outcome not in ("copied", "already in the bucket"):
                problems.append(f"{original.kind}/{original.digest}: {outcome}")
        for name, alias in aliases(folder):
            if store.read_alias(name) != alias:
                store.write_alias(name, alias)
            counts["old names (aliases) in the bucket"] += 1
    except StoreUnavailable as exc:
        raise click.ClickException(f"stopped after {total} originals: {exc.message} (run again to resume)") from None
    click.echo(f"{total} originals in {folder} -> bucket {store.bucket}")
    for outcome, count in sorted(counts.items()):
        click.echo(f"  {count:6d} {outcome}")
    for problem in problems:
        click.echo(f"  {problem}", err=True)
    if any(outcome.startswith(("FAILED", "damaged", "without")) for outcome in counts):
        raise SystemExit(1)
