"""Who may do what: one place for roles and ownership. Ownership is always read from the database."""
from __future__ import annotations

from dataclasses import dataclass

from app.errors import Forbidden, Unauthorized


@dataclass(frozen=True)
class Actor:
    """The caller of a service: a user (Bearer token or portal session), an API key, a service key,
    or nobody. Services receive it explicitly and never look at the request."""

    kind: str  # "user" | "api_key" | "service" | "anonymous" | "system"
    user_id: int | None = None
    role: str | None = None
    key_id: int | None = None

    @property
    def is_admin(self) -> bool:
        return (self.kind == "user" and self.role == "admin") or self.kind == "system"

    @property
    def is_user(self) -> bool:
        return self.kind == "user"


ANONYMOUS = Actor("anonymous")
SYSTEM = Actor("system")  # the CLI (demo data, migrations): acts as an admin


def require_reader(actor: Actor) -> None:
    if actor.kind not in ("user", "api_key", "system"):
        raise Unauthorized("an Api-Key or a Bearer token is required")


def require_creator(actor: Actor) -> None:
    require_reader(actor)
    if not (actor.is_admin or (actor.is_user and actor.role == "creator")):
        raise Forbidden("only creators and admins can create entries")


def owns(actor: Actor, owner_id: int | None) -> bool:
    return actor.is_admin or (actor.is_user and owner_id is not None and owner_id == actor.user_id)


def require_owner(actor: Actor, owner_ids: list[int | None], what: str) -> None:
    """Allowed when the actor is an admin or owns one of `owner_ids` (an event may be edited by its
    own owner or by the owner of its festival)."""
    require_reader(actor)
    if not any(owns(actor, owner_id) for owner_id in owner_ids):
        raise Forbidden(f"only the owner of this {what} or an admin can change it")
