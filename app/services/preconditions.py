"""Conditional writes: a PATCH or DELETE (or a link change) that names the version it was based on is refused
with 412 when the object changed since, so a client that PATCHes a whole object it read earlier cannot
silently overwrite someone else's change (a lost update).

A version is named by its tag: the row's `version` (the time of its last change, stored to the microsecond) as
microseconds since 1970. The contract's `*_version` field has whole seconds only, too coarse to tell two changes
within one second apart; the API's ETags carry the tag instead (api/conditional.py). The check runs inside the
write's transaction, on the row read there (locked on PostgreSQL, under SQLite's write lock), so two writers
holding the same tag cannot both pass."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from app.errors import PreconditionFailed

EPOCH = datetime(1970, 1, 1)
ANY = "*"


def version_tag(version: datetime) -> str:
    """A row's version as microseconds since 1970 (naive UTC, as versions are stored)."""
    return str((version - EPOCH) // timedelta(microseconds=1))


class Saved(dict):
    """A written object as the contract shows it, plus `tag`, its version to the microsecond (what the answer's
    ETag starts with). It is the plain dict every caller used before; only the API reads `tag`."""

    def __init__(self, values: dict, tag: str):
        super().__init__(values)
        self.tag = tag


@dataclass(frozen=True)
class Precondition:
    """What the client expects of the row it writes: `tags` (If-Match: one of these versions, or `*` for any),
    else `unmodified_since` (If-Unmodified-Since: not changed after this second, naive UTC)."""

    tags: tuple[str, ...] | None = None
    unmodified_since: datetime | None = None

    def check(self, entity: str, row) -> None:
        """Raises PreconditionFailed unless the row (read in the write's transaction) is as expected."""
        if self.tags is not None:
            if ANY in self.tags or version_tag(row.version) in self.tags:
                return
            raise PreconditionFailed(
                f"this {entity} was changed after the version named in If-Match; read it again and retry"
            )
        if self.unmodified_since is not None and row.version.replace(microsecond=0) > self.unmodified_since:
            raise PreconditionFailed(f"this {entity} was changed after If-Unmodified-Since; read it again and retry")


NONE = Precondition()
