"""Test data made through the real services, and credentials as real clients send them."""

from __future__ import annotations

import itertools

from app.models import User
from app.permissions import Actor
from app.services import api_keys, relations, sessions, users, writes
from common.access_tokens import issue_access_token

PASSWORD = "correct horse battery"
_counter = itertools.count(1)


class Factory:
    def __init__(self, app):
        self.app = app

    def user(self, role: str = "creator", email: str | None = None, password: str = PASSWORD) -> User:
        return users.create_user(email or f"{role}{next(_counter)}@example.org", password, role)

    def token(self, user: User) -> str:
        config = self.app.config
        sid = sessions.start_login(user, "test", config["REFRESH_TOKEN_TTL"])
        return issue_access_token(
            user,
            self.app.extensions["identity_keys"],
            issuer=config["TOKEN_ISSUER"],
            audience=config["TOKEN_AUDIENCE"],
            ttl=config["ACCESS_TOKEN_TTL"],
            sid=sid,
        )

    def bearer(self, user: User) -> dict:
        return {"Authorization": f"Bearer {self.token(user)}"}

    def api_key_headers(self) -> dict:
        key, _ = api_keys.create_key("tests")
        return {"Api-Key": key}

    @staticmethod
    def actor(user: User) -> Actor:
        return Actor("user", user_id=user.id, role=user.role)

    def create(self, entity: str, owner: User, **fields) -> dict:
        defaults = {
            "festival": {"festival_name": f"Festival {next(_counter)}", "festival_is_valid": True},
            "artist": {"artist_name": f"Artist {next(_counter)}"},
            "location": {"location_name": f"Location {next(_counter)}"},
            "tag": {"tag_name": f"tag {next(_counter)}"},
            "link": {"link_url": "https://example.org/"},
            "image": {"image_ref": "https://files.example.org/images/abc", "image_hash": "abc"},
            "event": {"event_name": f"Event {next(_counter)}"},
            "place": {"place_town": "Leipzig"},
            "video": {"video_ref": "https://files.example.org/videos/abc", "video_mime": "video/mp4"},
        }[entity]
        payload = {**defaults, **{f"{entity}_{key}": value for key, value in fields.items()}}
        return writes.create(entity, self.actor(owner), payload)

    def link(self, entity: str, entity_id: int, segment: str, related_id: int, owner: User) -> None:
        relations.link(entity, entity_id, segment, related_id, self.actor(owner))
