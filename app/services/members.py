"""A festival's members: its owner and its editors. The owner (or an admin) adds an editor by the email address
of an existing account, and removes one; an editor may leave. Who may do what is app/permissions.py's answer;
each change is one transaction with one audit row.

A member is {"member_user_id", "member_email", "member_role": "owner" | "editor"}, the owner first."""

from __future__ import annotations

from peewee import IntegrityError

from app.db import write_transaction
from app.errors import Conflict, Invalid, NotFound
from app.models import FestivalMember, User
from app.models.members import EDITOR
from app.permissions import Actor, can_manage, require_festival_owner, require_reader
from app.registry import ENTITIES
from app.services import audit, writes
from app.services.users import normalize_email

OWNER = "owner"


def _member(user_id: int, email: str, role: str) -> dict:
    return {"member_user_id": user_id, "member_email": email, "member_role": role}


def members_of(festival_id: int, actor: Actor) -> list[dict]:
    """The owner, then the editors by email: for the festival's owner, editors and admins (Forbidden for others,
    NotFound for a draft they may not see). One query for the editors, one for the owner."""
    return _listed(writes.require_editable("festival", festival_id, actor))


def roster(festival_id: int, actor: Actor) -> tuple[list[dict], bool]:
    """`members_of`, and whether the actor may manage them (and publish and delete the festival): for pages
    that offer those buttons only to whom they work for."""
    festival = writes.require_editable("festival", festival_id, actor)
    return _listed(festival), can_manage(actor, festival)


def _listed(festival) -> list[dict]:
    festival_id = festival.id
    owner = User.get_or_none(User.id == festival.owner_id) if festival.owner_id is not None else None
    editors = (
        User.select(User.id, User.email)
        .join(FestivalMember, on=(FestivalMember.user == User.id))
        .where(FestivalMember.festival == festival_id)
        .order_by(User.email)
    )
    listed = [_member(owner.id, owner.email, OWNER)] if owner is not None else []
    return listed + [_member(user.id, user.email, EDITOR) for user in editors]


def account_for(email: str) -> User:
    """The account an owner names by its email address; Invalid with the message for the field otherwise."""
    address = normalize_email(email) if isinstance(email, str) else ""
    if not address or "\x00" in address or len(address) > 254:
        raise Invalid("name the new editor by the email address of their account", {"member_email": "is required"})
    user = User.get_or_none(User.email == address)
    if user is None or user.suspended:
        raise Invalid(
            f"there is no account with the email address {address}",
            {"member_email": "no account has this email address; they sign up first"},
        )
    if user.role == "user":
        raise Invalid(
            f"the account {address} may only read (role user); an admin can make it a creator",
            {"member_email": "this account may only read (role user): an admin can make it a creator"},
        )
    return user


def add_editor(festival_id: int, email: str, actor: Actor) -> dict:
    """Make the account with this email an editor of the festival (its owner or an admin only)."""
    require_reader(actor)
    try:
        with write_transaction():
            festival = writes.editable(ENTITIES["festival"], festival_id, actor)
            require_festival_owner(actor, festival, "manage its members")
            user = account_for(email)
            if user.id == festival.owner_id:
                raise Conflict(f"{user.email} owns this festival", {"member_email": "owns this festival already"})
            if (
                FestivalMember.select()
                .where((FestivalMember.festival == festival_id) & (FestivalMember.user == user.id))
                .exists()
            ):
                raise Conflict(
                    f"{user.email} is already an editor of this festival",
                    {"member_email": "is already an editor of this festival"},
                )
            FestivalMember.create(festival=festival_id, user=user.id, role=EDITOR)
            details = {"member": user.id, "email": user.email, "role": EDITOR}
            audit.record(actor, "festival", festival_id, "member_add", details)
    except IntegrityError:  # added at the same time by another request
        raise Conflict("this account was just added as an editor", {"member_email": "is already an editor"}) from None
    return _member(user.id, user.email, EDITOR)


def remove_editor(festival_id: int, user_id: int, actor: Actor) -> dict:
    """Take an editor off the festival: its owner or an admin, or the editor themselves (leaving). Returns
    the member that was."""
    require_reader(actor)
    with write_transaction():
        festival = writes.editable(ENTITIES["festival"], festival_id, actor)
        leaving = actor.is_user and user_id == actor.user_id
        if not leaving:
            require_festival_owner(actor, festival, "manage its members")
        row = (
            FestivalMember.select(FestivalMember, User.email)
            .join(User, on=(FestivalMember.user == User.id))
            .where((FestivalMember.festival == festival_id) & (FestivalMember.user == user_id))
            .objects()
            .first()
        )
        if row is None:
            raise NotFound(f"user {user_id} is not an editor of festival {festival_id}")
        row.delete_instance()
        details = {"member": user_id, "email": row.email, "role": row.role}
        audit.record(actor, "festival", festival_id, "member_leave" if leaving else "member_remove", details)
    return _member(user_id, row.email, row.role)
