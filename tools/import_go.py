"""Take over a Go FestivalsApp deployment (`flask --app wsgi import-go`, shared/design/go-deployment.md).

Users (bcrypt hashes kept until their first login), API and service keys (stored hashed, found by
api_keys.key_prefix), the file server's originals (by content hash, with their old names as aliases), every
entity with its id, version and owner (map_<entity>_user), and every relation with duplicates collapsed.

Each table is read in chunks of ids, compared with what is already here, and only new or changed rows are
written, one transaction per chunk: a second run writes nothing, an interrupted run finishes on the next, and
--dry-run is the same walk without the writes. What cannot be imported as it is (a relation to a missing row,
an event in two festivals, a to-one relation with several targets, two owners, a name too long, a duplicate
name) is reported, never guessed at: the row or link is left out, or, for a cut name or a second owner, the
report says exactly what was kept."""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass, field

from peewee import BooleanField, CharField, DateTimeField, DoubleField, TextField

from app.db import db, write_transaction
from app.models import ApiKey, Artist, Event, Festival, Image, Link, Location, Place, Tag, User
from app.models.base import utcnow
from app.models.relations import RELATION_TABLES
from app.permissions import SYSTEM
from app.services import api_keys, audit, users
from app.text import name_key
from fileserver import documents, images
from fileserver.http import FilesError
from fileserver.storage import LEGACY_NAME, content_hash, open_store
from tools.bench_seed import BulkWriter
from tools.go_source import API_TABLES, CHUNK, IDENTITY_TABLES, GoDatabase, SourceError

ENTITIES = [
    ("festivals", Festival),
    ("artists", Artist),
    ("locations", Location),
    ("events", Event),
    ("links", Link),
    ("places", Place),
    ("tags", Tag),
    ("images", Image),
]
GO_TABLE = {model.ENTITY: table for table, model in ENTITIES}
GO_RELATIONS = [model for model in RELATION_TABLES if model._meta.table_name in API_TABLES]  # ours has more (videos)


@dataclass
class Count:
    source: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    skipped: int = 0


@dataclass
class Report:
    dry_run: bool
    tables: dict[str, Count] = field(default_factory=dict)
    problems: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def table(self, name: str) -> Count:
        return self.tables.setdefault(name, Count())

    def problem(self, kind: str, message: str) -> None:
        self.problems[kind].append(message)

    @property
    def written(self) -> int:
        return sum(count.new + count.changed for count in self.tables.values())

    def lines(self) -> list[str]:
        head = "would be imported (dry run: nothing written)" if self.dry_run else "imported"
        out = [f"{head}:", f"  {'table':<22}{'in Go':>9}{'new':>9}{'changed':>9}{'unchanged':>11}{'left out':>10}"]
        for name, c in self.tables.items():
            out.append(f"  {name:<22}{c.source:>9}{c.new:>9}{c.changed:>9}{c.unchanged:>11}{c.skipped:>10}")
        total = sum(len(messages) for messages in self.problems.values())
        out.append(f"problems: {total}" if total else "problems: none")
        for kind, messages in self.problems.items():
            out.append(f"  {kind}: {len(messages)}")
            out += [f"    {message}" for message in messages]
        return out


def _write(model, rows: list[dict], conflict: list, update: list) -> None:
    """New and changed rows in one transaction, updating the fields `update` of rows already there."""
    if not rows:
        return
    given = [model._meta.fields[name] for name in rows[0]]
    defaults = [f for f in model._meta.sorted_fields if f.name not in rows[0] and f.default is not None]
    fields = given + defaults  # the model's defaults, as peewee would fill them in
    columns = [field.column_name for field in fields]
    values = []
    for row in rows:
        filled = [row[f.name] for f in given] + [f.default() if callable(f.default) else f.default for f in defaults]
        values.append(tuple(field.db_value(value) for field, value in zip(fields, filled, strict=True)))
    with write_transaction():
        BulkWriter(db.obj).upsert(
            model, columns, values, [field.column_name for field in conflict], [field.column_name for field in update]
        )


def _tally(count: Count, old, new) -> bool:
    """Counts a row as new, changed or unchanged; True when it must be written."""
    if old is None:
        count.new += 1
    elif old != new:
        count.changed += 1
    else:
        count.unchanged += 1
        return False
    return True


class GoImport:
    def __init__(self, api_url: str, identity_url: str, media: str, files: dict, dry_run: bool):
        """`files`: the file server's settings (fileserver.config): its media store and image limits."""
        if not os.path.isdir(media):
            raise SourceError(f"--media: {media} is not a folder (the Go file server's originals, upload-*.jpg)")
        self.media, self.max_pixels = media, files["MAX_IMAGE_PIXELS"]
        local_missing = files.get("MEDIA_STORE", "local") == "local" and not os.path.isdir(files["MEDIA_DIR"])
        self.storage = None if dry_run and local_missing else open_store(files)  # a dry run creates no folder
        self.report = Report(dry_run)
        self.dry_run = dry_run
        self.api = GoDatabase(api_url, "--api-db")
        try:
            self.identity = GoDatabase(identity_url, "--identity-db")
            self.api.check_schema(API_TABLES)
            self.identity.check_schema(IDENTITY_TABLES)
        except SourceError:
            self.close()
            raise
        self.user_ids: set[int] = set()
        self.uploads: dict[str, str] = {}  # Go file name -> our content hash
        self.owner_rows: dict[str, int] = defaultdict(int)

    def close(self) -> None:
        for source in ("api", "identity"):
            if hasattr(self, source):
                getattr(self, source).close()

    def run(self) -> Report:
        self.import_users()
        self.import_keys()
        self.import_media()
        for table, model in ENTITIES:
            self.import_entities(table, model)
        for model in GO_RELATIONS:
            self.import_relation(model)
        if not self.dry_run and self.report.written:
            with write_transaction():
                # PostgreSQL's sequences continue after the highest id (SQLite's rowids do by themselves)
                BulkWriter(db.obj).finish([User, *(model for _, model in ENTITIES), *GO_RELATIONS])
                totals = {name: c.new + c.changed for name, c in self.report.tables.items() if c.new + c.changed}
                audit.record(SYSTEM, "import", None, "import-go", totals)
        return self.report

    # --- identity ------------------------------------------------------------------------------------------

    def import_users(self) -> None:
        count = self.report.table("users")
        ours = {row.id: row for row in User.select(User.id, User.email, User.role, User.password_hash)}
        by_email = {row.email: row.id for row in ours.values()}
        columns = IDENTITY_TABLES["users"].replace(" ", ", ")
        for _, _, rows in self.identity.chunks("users", "user_id", columns):
            out = []
            for user_id, email, password, created, updated, go_role in rows:
                count.source += 1
                email = users.normalize_email(email or "")
                if by_email.setdefault(email, user_id) != user_id:
                    self.report.problem(
                        "email already taken",
                        f"user {user_id} ({email}): the address belongs to user {by_email[email]}; left out",
                    )
                    count.skipped += 1
                    continue
                role = users.GO_ROLES.get(go_role)
                if role is None:
                    self.report.problem("unknown role", f"user {user_id} ({email}): role {go_role} imported as user")
                    role = "user"
                if not (password or "").startswith(users.BCRYPT_PREFIXES):
                    self.report.problem(
                        "password not bcrypt", f"user {user_id} ({email}): cannot log in until an admin resets it"
                    )
                old = ours.get(user_id)
                if old is not None and not old.password_hash.startswith(users.BCRYPT_PREFIXES):
                    password = old.password_hash  # logged in here since (argon2 now): that one is current
                self.user_ids.add(user_id)
                was = (old.email, old.role, old.password_hash) if old else None
                if _tally(count, was, (email, role, password or "!")):
                    now = utcnow()
                    out.append(
                        {
                            "id": user_id,
                            "email": email,
                            "role": role,
                            "password_hash": password or "!",
                            "created": created or now,
                            "updated": updated or now,
                        }
                    )
            if not self.dry_run:
                _write(User, out, [User.id], [User.email, User.role, User.password_hash])
        self.user_ids |= set(ours)

    def import_keys(self) -> None:
        ours = {row.prefix: row for row in ApiKey.select()}
        for kind, table in (("api", "api_keys"), ("service", "service_keys")):
            count = self.report.table(table)
            out = []
            columns = IDENTITY_TABLES[table].replace(" ", ", ")
            for key_id, key, comment in self.identity.rows(f"SELECT {columns} FROM {table}"):
                count.source += 1
                key = (key or "").strip()
                prefix = api_keys.key_prefix(key, kind)
                if prefix is None or any(row["prefix"] == prefix for row in out):
                    self.report.problem("empty or repeated key", f"{table} {key_id}: left out")
                    count.skipped += 1
                    continue
                comment = (comment or "")[:255]
                old = ours.get(prefix)
                if old is not None and (old.kind != kind or old.key_hash != api_keys.key_digest(key)):
                    self.report.problem("key clash", f"{table} {key_id}: another key has its prefix {prefix}; left out")
                    count.skipped += 1
                    continue
                if _tally(count, old and old.comment, comment):
                    digest = api_keys.key_digest(key)
                    out.append({"kind": kind, "prefix": prefix, "key_hash": digest, "comment": comment})
            if not self.dry_run:
                _write(ApiKey, out, [ApiKey.prefix], [ApiKey.comment])

    # --- media ---------------------------------------------------------------------------------------------

    def _stored_form(self, name: str, data: bytes) -> tuple[str, bytes, dict] | None:
        """(kind, bytes to store, metadata) by the content, whatever the name says; None: neither kind."""
        if data[:1024].find(b"%PDF-") >= 0:
            try:
                return "pdf", data, {"mimetype": documents.PDF_MIMETYPE, "pages": documents.check_pdf(data)}
            except FilesError as exc:
                self.report.problem("unreadable file", f"{name}: {exc.message}; left out")
                return None
        try:
            image = images.normalize_upload(data, self.max_pixels)
        except FilesError as exc:
            self.report.problem("unreadable file", f"{name}: {exc.message}; left out")
            return None
        meta = {"mimetype": image.mimetype, "width": image.width, "height": image.height, "alpha": image.alpha}
        return "images", image.data, meta

    def _note_type(self, name: str, kind: str, mimetype: str) -> None:
        if (kind == "pdf") != name.endswith(".pdf"):
            what = "a PDF document" if kind == "pdf" else f"an image ({mimetype})"
            self.report.problem("type differs from the name", f"{name} is {what}: stored so, its name answers")

    def import_media(self) -> None:
        count = self.report.table("media files")
        for name in sorted(os.listdir(self.media)):
            path = os.path.join(self.media, name)
            if not os.path.isfile(path):
                continue  # resized/: the Go file server's caches, made again here on demand
            count.source += 1
            if not LEGACY_NAME.fullmatch(name):
                self.report.problem("not a Go upload", f"{name}: not named upload-<digits>.<ext>; left out")
                count.skipped += 1
                continue
            stat = os.stat(path)
            alias = self.storage.read_alias(name) if self.storage else None
            source = {"size": stat.st_size, "mtime": int(stat.st_mtime)}
            same = alias and {k: alias.get(k) for k in source} == source
            if same and self.storage.exists(alias["kind"], alias["hash"]):
                self._note_type(name, alias["kind"], alias.get("mimetype", ""))
                self.uploads[name] = alias["hash"]
                count.unchanged += 1
                continue
            with open(path, "rb") as handle:
                stored = self._stored_form(name, handle.read())
            if stored is None:
                count.skipped += 1
                continue
            kind, data, meta = stored
            digest = content_hash(data)
            self._note_type(name, kind, meta["mimetype"])
            self.uploads[name] = digest
            _tally(count, alias.get("hash") if alias else None, digest)
            if not self.dry_run:
                self.storage.store(kind, data, {**meta, "uploader": "import-go", "uploaded_at": source["mtime"]})
                self.storage.write_alias(name, {"kind": kind, "hash": digest, "mimetype": meta["mimetype"], **source})

    # --- entities ------------------------------------------------------------------------------------------

    def owners(self, entity: str, ids: set[int], first: int, last: int) -> dict[int, int | None]:
        """Owner of each entity in [first, last] by map_<entity>_user (its first row: the creator's)."""
        found: dict[int, list[int]] = {}
        for entity_id, user_id in self.identity.rows(
            f"SELECT associated_{entity}, associated_user FROM map_{entity}_user "
            f"WHERE associated_{entity} BETWEEN %s AND %s ORDER BY map_id",
            (first, last),
        ):
            if entity_id in ids:
                self.owner_rows[entity] += 1
                if user_id not in found.setdefault(entity_id, []):
                    found[entity_id].append(user_id)
        owners = {}
        for entity_id, user_ids in found.items():
            if len(user_ids) > 1:
                self.report.problem(
                    "several owners",
                    f"{entity} {entity_id}: owned by users {', '.join(map(str, user_ids))}; kept user {user_ids[0]}",
                )
            owner = user_ids[0]
            if owner not in self.user_ids:
                self.report.problem("owner missing", f"{entity} {entity_id}: user {owner} does not exist; no owner")
                owner = None
            owners[entity_id] = owner
        return owners

    def _convert(self, model, entity_id: int, name: str, value):
        spec = model._meta.fields[name]
        if isinstance(spec, BooleanField):
            return bool(value)
        if isinstance(spec, DoubleField):
            return float(value or 0)
        if isinstance(spec, DateTimeField):
            return value or utcnow()
        if isinstance(spec, CharField | TextField):
            value = value or ""
            if isinstance(spec, CharField) and len(value) > spec.max_length:
                self.report.problem(
                    "text too long",
                    f"{model.ENTITY} {entity_id}: {spec.column_name} has {len(value)} characters; "
                    f"cut to {spec.max_length}",
                )
                value = value[: spec.max_length]
            return value
        return value

    def _unique_keys(self, model, rows: list[dict]) -> None:
        """name_key of festivals and tags; a key another row here already has is reported (a festival keeps
        no key, a tag gets its id added: both stay readable under their own names)."""
        wanted = {row["id"]: name_key(row["name"]) for row in rows}
        query = model.select(model.name_key, model.id).where(model.name_key.in_(list(set(wanted.values()))))
        taken = dict(query.tuples())
        for row in rows:
            key = wanted[row["id"]]
            holder = taken.setdefault(key, row["id"])
            if holder != row["id"]:
                kept = None if model is Festival else f"{key} #{row['id']}"
                self.report.problem(
                    "name taken",
                    f"{model.ENTITY} {row['id']} '{row['name']}': the same name as {model.ENTITY} {holder} "
                    "(compared as our unique names are)" + ("" if kept is None else f"; stored with key '{kept}'"),
                )
                key = kept
            row["name_key"] = key

    def _image_hash(self, row: dict) -> None:
        """An image whose ref names a Go upload gets our file's hash; its ref (an old name) keeps answering."""
        name = row["ref"].split("?")[0].rstrip("/").rpartition("/")[2]
        if name in self.uploads:
            row["hash"] = self.uploads[name]
        elif LEGACY_NAME.fullmatch(name):
            self.report.problem("file missing", f"image {row['id']}: {name} is not in the media folder")

    def import_entities(self, table: str, model) -> None:
        entity = model.ENTITY
        count = self.report.table(model._meta.table_name)
        go_columns = API_TABLES[table].split()
        names = [model._meta.columns[column].name for column in go_columns]
        compared = [name for name in names if name != "id"] + ["owner"]
        if model in (Festival, Tag):
            compared.append("name_key")
        selected = [model._meta.fields["owner" if name == "owner" else name] for name in compared]
        for first, last, rows in self.api.chunks(table, f"{entity}_id", ", ".join(go_columns)):
            count.source += len(rows)
            ids = {row[0] for row in rows}
            owners = self.owners(entity, ids, first, last)
            fresh = []
            for row in rows:
                values = {name: self._convert(model, row[0], name, v) for name, v in zip(names, row, strict=True)}
                values["owner"] = owners.get(row[0])
                fresh.append(values)
            if model in (Festival, Tag):
                self._unique_keys(model, fresh)
            if model is Image:
                for values in fresh:
                    self._image_hash(values)
            existing = {
                row[0]: row[1:]
                for row in model.select(model.id, *selected).where(model.id.between(first, last)).tuples()
            }
            out = []
            for values in fresh:
                if _tally(count, existing.get(values["id"]), tuple(values[name] for name in compared)):
                    now = utcnow()  # tags and images have no version in Go: the time of their first import
                    values["created"] = values.get("version", now)
                    values.setdefault("version", now)
                    out.append(values)
            if not self.dry_run:
                update = [model._meta.fields[name] for name in compared]
                _write(model, out, [model.id], update)
        total = self.identity.value(f"SELECT COUNT(*) FROM map_{entity}_user")
        if total > self.owner_rows[entity]:
            self.report.problem(
                "owner of a missing row",
                f"map_{entity}_user: {total - self.owner_rows[entity]} row(s) for {entity} ids that do not exist",
            )

    # --- relations -----------------------------------------------------------------------------------------

    def import_relation(self, model) -> None:
        table = model._meta.table_name  # the same names as Go's map_<a>_<b>
        a, b = model.owner.rel_model.ENTITY, model.related.rel_model.ENTITY
        unique = "owner" if model.owner.unique else "related" if model.related.unique else None
        side = unique or ("related" if b == "event" else "owner")
        go_side = f"associated_{a if side == 'owner' else b}"
        ours_side = model.owner if side == "owner" else model.related
        count = self.report.table(table)
        for low, high in self.api.ranges(table, go_side):
            rows = self.api.rows(
                f"SELECT m.map_id, m.associated_{a}, m.associated_{b}, x.{a}_id IS NULL, y.{b}_id IS NULL "
                f"FROM `{table}` m LEFT JOIN `{GO_TABLE[a]}` x ON x.{a}_id = m.associated_{a} "
                f"LEFT JOIN `{GO_TABLE[b]}` y ON y.{b}_id = m.associated_{b} "
                f"WHERE m.{go_side} >= %s AND m.{go_side} < %s ORDER BY m.map_id",
                (low, high),
            )
            pairs: dict[tuple, None] = {}
            for map_id, x, y, x_missing, y_missing in rows:
                count.source += 1
                if x_missing or y_missing:
                    gone = f"{a} {x}" if x_missing else f"{b} {y}"
                    message = f"{table} row {map_id}: {a} {x} → {b} {y}: no {gone}"
                    self.report.problem("relation to a missing row", message)
                    count.skipped += 1
                elif (x, y) in pairs:
                    message = f"{table} row {map_id}: {a} {x} → {b} {y} again; collapsed"
                    self.report.problem("duplicate relation row", message)
                    count.skipped += 1
                else:
                    pairs[(x, y)] = None
            query = model.select(model.owner, model.related).where((ours_side >= low) & (ours_side < high))
            existing = set(query.tuples())
            if unique:
                self._to_one(model, table, unique, list(pairs), existing, count)
                continue
            out = [
                {"owner": x, "related": y}
                for x, y in pairs
                if _tally(count, (x, y) if (x, y) in existing else None, (x, y))
            ]
            if not self.dry_run:
                _write(model, out, [model.owner, model.related], [])

    def _to_one(self, model, table: str, unique: str, pairs: list[tuple], existing: set, count: Count) -> None:
        """One target per key (a festival's image, an event's festival): a key with several is left unlinked."""
        a, b = model.owner.rel_model.ENTITY, model.related.rel_model.ENTITY
        index = 0 if unique == "owner" else 1
        targets: dict[int, list[int]] = {}
        for pair in pairs:
            targets.setdefault(pair[index], []).append(pair[1 - index])
        linked = {pair[index]: pair[1 - index] for pair in existing}
        out = []
        for key, found in targets.items():
            if len(found) > 1:
                keyed, other = (a, b) if unique == "owner" else (b, a)
                self.report.problem(
                    "several targets of a to-one relation",
                    f"{table}: {keyed} {key} has {other}s {', '.join(map(str, found))}; linked to none",
                )
                count.skipped += len(found)
                continue
            if _tally(count, linked.get(key), found[0]):
                pair = (key, found[0]) if unique == "owner" else (found[0], key)
                out.append({"owner": pair[0], "related": pair[1]})
        if not self.dry_run:
            keyed = model.owner if unique == "owner" else model.related
            _write(model, out, [keyed], [model.related if unique == "owner" else model.owner])


def import_go(api_url: str, identity_url: str, media: str, files: dict, dry_run: bool) -> Report:
    """Runs the whole import (see the module's docstring); SourceError when the input cannot be read."""
    importer = GoImport(api_url, identity_url, media, files, dry_run)
    try:
        return importer.run()
    finally:
        importer.close()


__all__ = ["CHUNK", "Report", "SourceError", "import_go"]
