"""Who may do what: the one place for roles, ownership and draft visibility. Services ask these named
questions and never compare roles or owners themselves. Ownership is always read from the database.

- read:  `require_reader` (any key or login), drafts through `visible` (a query condition) and
  `visibility_class` (who sees the same answer: the cache key's part);
- the portal's library: `own_library` / `library_rows` / `library_of` — each organizer works with their own artists,
  locations, links and tags (the API keeps sharing them: anyone may link them, only owners edit);
- edit:  `can_edit` / `require_edit` — the row's owner or an admin; a festival also by its editors (its members),
  an event also by its festival's owner and editors;
- the festival's owner (or an admin) only: publish or unpublish, delete, manage members — `require_change`,
  `require_delete`, `require_festival_owner`; `can_manage` for pages that offer those buttons;
- link:  `require_link` — edit the owning side; putting an event into a festival needs the event too;
- create: `can_create` / `require_creator`;
- administer: `require_admin`; the last admin stays one: `require_another_admin`."""

from __future__ import annotations

from dataclasses import dataclass

from peewee import SQL, fn

from app.db import is_sqlite
from app.errors import Conflict, Forbidden, Unauthorized
from app.models import Event, Festival, User
from app.models.members import FestivalMember
from app.models.relations import FestivalEvent


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


# --- reading ------------------------------------------------------------------------------------------


def can_read(actor: Actor) -> bool:
    return actor.kind in ("user", "api_key", "system")


def require_reader(actor: Actor) -> None:
    if not can_read(actor):
        raise Unauthorized("an Api-Key or a Bearer token is required")


def membership(actor: Actor):
    """The ids of the festivals the actor is an editor of, as a subquery (run once, not per row)."""
    return FestivalMember.select(FestivalMember.festival).where(FestivalMember.user == actor.user_id)


def festival_visible(actor: Actor):
    """Drafts are seen by their owner, their editors and admins only: a condition on Festival, None for no
    restriction."""
    if actor.is_admin:
        return None
    if actor.is_user:
        # Never NULL: `owner = id` is NULL for a draft without owner, and the event rule negates this condition
        # (NOT NULL would not hide it). FALSE AND NULL is FALSE; `IN` a list of non-NULL ids is never NULL.
        owned = Festival.owner.is_null(False) & (Festival.owner == actor.user_id)
        return (Festival.is_valid == True) | owned | Festival.id.in_(membership(actor))  # noqa: E712
    return Festival.is_valid == True  # noqa: E712


def visible(spec, actor: Actor):
    """The rows of `spec` the actor may see, as a query condition (None: all). An event of a draft
    festival is as hidden as the festival."""
    rule = festival_visible(actor)
    if rule is None:
        return None
    if spec.name == "festival":
        return rule
    if spec.name == "event":
        # Correlated NOT EXISTS: one index probe per candidate row (a NOT IN list of every draft's events
        # made PostgreSQL scan all events for a festival's 100).
        hidden = (
            FestivalEvent.select(SQL("1"))
            .join(Festival, on=(FestivalEvent.owner == Festival.id))
            .where((FestivalEvent.related == Event.id) & ~rule)
        )
        return ~fn.EXISTS(hidden)
    return None


def draft_rule(actor: Actor) -> str:
    """Which draft rule `festival_visible` applies: "admin" (none), "user" (own drafts and those one edits too)
    or "public"."""
    return "admin" if actor.is_admin else "user" if actor.is_user else "public"


def visibility_class(actor: Actor) -> str:
    """Callers who see the same festivals and events (drafts differ): the public, each user, or admins."""
    rule = draft_rule(actor)
    return f"user:{actor.user_id}" if rule == "user" else rule


def my_festivals(actor: Actor):
    """The festivals the actor owns or edits (a dashboard), as a query condition; None for an admin (all)."""
    if actor.is_admin:
        return None
    return (Festival.owner == actor.user_id) | Festival.id.in_(membership(actor))


def own_library(actor: Actor, model):
    """The artists, locations, links or tags that are the actor's own (a condition on `model`): what the
    portal suggests as one types, and where a typed name is looked up before a new one is made, so that
    no organizer's event is tied to (and renamed with) another organizer's location. Admins too."""
    return model.owner.is_null() if actor.user_id is None else (model.owner == actor.user_id)


def library_of(actor: Actor, festival_owner_id: int | None) -> Actor:
    """Whose library the names typed for a festival's events resolve in, and who owns what they create: the
    festival's owner (an admin or an editor adding events to someone's festival works in that organizer's
    library, so the festival's artists and stages stay one set). Callers have checked that the actor edits it."""
    if festival_owner_id is None or festival_owner_id == actor.user_id:
        return actor
    return Actor("user", user_id=festival_owner_id, role="creator")


def library_rows(actor: Actor, model, owner_id: int | None = None):
    """The rows a library page lists (a condition, None for all): one's own; an admin's shows everyone's,
    or one owner's with `owner_id`."""
    if actor.is_admin:
        return None if owner_id is None else (model.owner == owner_id)
    return own_library(actor, model)


# --- creating, editing, linking ---------------------------------------------------------------------------


def can_create(actor: Actor) -> bool:
    return actor.is_admin or (actor.is_user and actor.role == "creator")


def require_creator(actor: Actor) -> None:
    require_reader(actor)
    if not can_create(actor):
        raise Forbidden("only creators and admins can create entries")


def _owns(actor: Actor, owner_id: int | None) -> bool:
    return actor.is_admin or (actor.is_user and owner_id is not None and owner_id == actor.user_id)


def edits_festival_of(actor: Actor, spec, row) -> bool:
    """Is the actor the owner or an editor of the festival `row` (an event: of its festival)? One query."""
    if not actor.is_user or spec.name not in ("festival", "event"):
        return False
    editor = FestivalMember.select(SQL("1")).where(
        (FestivalMember.festival == Festival.id) & (FestivalMember.user == actor.user_id)
    )
    query = Festival.select(SQL("1")).where((Festival.owner == actor.user_id) | fn.EXISTS(editor))
    if spec.name == "festival":
        query = query.where(Festival.id == row.id)
    else:
        query = query.join(FestivalEvent, on=(FestivalEvent.owner == Festival.id)).where(
            FestivalEvent.related == row.id
        )
    return query.exists()


def can_edit(actor: Actor, spec, row) -> bool:
    """May the actor change this row? Its owner or an admin; a festival also its editors; an event also its
    festival's owner and editors."""
    if not can_read(actor):
        return False
    if _owns(actor, row.owner_id):  # the common case needs no query
        return True
    return edits_festival_of(actor, spec, row)


def require_edit(actor: Actor, spec, row) -> None:
    require_reader(actor)
    if not can_edit(actor, spec, row):
        if spec.name in ("festival", "event"):
            raise Forbidden(f"only the owner of this {spec.name}, its festival's editors or an admin can change it")
        raise Forbidden(f"only the owner of this {spec.name} or an admin can change it")


def can_manage(actor: Actor, festival) -> bool:
    """The festival's owner or an admin: may publish, unpublish, delete it and choose its editors."""
    return _owns(actor, festival.owner_id)


def require_festival_owner(actor: Actor, festival, what: str) -> None:
    """Only the festival's owner or an admin; `what` completes "… can …" (e.g. "manage its members")."""
    require_reader(actor)
    if not can_manage(actor, festival):
        raise Forbidden(f"only the owner of this festival or an admin can {what}")


def require_change(actor: Actor, spec, row, changed: set[str]) -> None:
    """Editing is allowed (`require_edit` passed); publishing or unpublishing a festival (a change of
    `festival_is_valid`) is its owner's."""
    if spec.name == "festival" and "festival_is_valid" in changed:
        require_festival_owner(actor, row, "publish or unpublish it")


def require_delete(actor: Actor, spec, row) -> None:
    """Delete: who may edit the row; a festival only its owner or an admin (its editors may not)."""
    require_edit(actor, spec, row)
    if spec.name == "festival":
        require_festival_owner(actor, row, "delete it")


def require_link(actor: Actor, spec, row, target, load_related):
    """Linking changes the owning side, so the actor must be able to edit `row`; then the related row
    (`load_related()`, which may answer NotFound) is returned. Putting an event into a festival also hands
    the event's editing to the festival's owner, so the actor must be allowed to edit the event too."""
    require_edit(actor, spec, row)
    related = load_related()
    if target.name == "event":
        require_edit(actor, target, related)
    return related


# --- administering ------------------------------------------------------------------------------------


def require_admin(actor: Actor, what: str) -> None:
    """Admins only; `what` completes "only admins can …" (e.g. "manage keys")."""
    if not actor.is_admin:
        raise Forbidden(f"only admins can {what}")


def require_another_admin(user: User) -> None:
    """Refuse to demote or suspend the last active admin (nobody could manage users but the command line).
    Called inside the write transaction; on PostgreSQL the admin rows are locked, so two admins demoting each
    other at once cannot both succeed (SQLite's write lock already serialises writers)."""
    if user.role != "admin" or user.suspended:
        return
    others = User.select(User.id).where((User.role == "admin") & ~User.suspended & (User.id != user.id))
    if not is_sqlite():
        others = others.for_update()
    if not list(others):
        raise Conflict("this is the last admin: make another user admin first", {"role": "last admin"})
