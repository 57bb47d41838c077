"""Form helpers of the HTML faces: service messages next to fields, the CSRF-only confirmation form,
and the guard for where a form may send the browser afterwards."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from flask_wtf import FlaskForm
from wtforms import HiddenField

from app.errors import DomainError


def sentence(message: str) -> str:
    """A service's message ("must not be empty") as a sentence for a person ("Must not be empty.")."""
    message = message.strip()
    return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")


def show_errors(
    form, exc: DomainError, aliases: dict[str, str] | None = None, wording: Callable[[str], str] = str
) -> None:
    """The service's field messages next to the matching fields (`aliases`: service key → form field);
    the whole message above the form when no field matches. `wording` rewrites a message first."""
    placed = False
    for name, message in exc.fields.items():
        field = form._fields.get((aliases or {}).get(name, name))
        if field is not None:
            field.errors = [*field.errors, sentence(wording(message))]
            placed = True
    if not placed:
        form.form_errors.append(sentence(wording(exc.message)))


class ConfirmForm(FlaskForm):
    """A POST with nothing but its CSRF token (publish, delete, revoke), and where to go back to."""

    back = HiddenField()


def safe_next(target, default: str = "/", prefix: str = "/") -> str:
    """`target` when it is a path on this site under `prefix`, else `default`: no scheme or host, no "//"
    or "/\\" (which browsers read as another host), no whitespace or control characters (browsers drop
    some of them)."""
    if not isinstance(target, str) or not target.startswith(prefix) or target.startswith(("//", "/\\")):
        return default
    if "\\" in target or any(char.isspace() or ord(char) < 32 or ord(char) == 127 for char in target):
        return default
    parts = urlsplit(target)
    return default if parts.scheme or parts.netloc else target
