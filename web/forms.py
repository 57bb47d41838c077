"""Form helpers of the HTML faces: service messages next to fields, the CSRF-only confirmation form,
and the guard for where a form may send the browser afterwards."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from flask import flash, request
from flask_wtf import FlaskForm
from wtforms import HiddenField

from app.errors import DomainError
from web.htmx import is_htmx, render


def sentence(message: str) -> str:
    """A service's message ("must not be empty") as a sentence for a person ("Must not be empty.")."""
    message = message.strip()
    return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")


def show_errors(
    form, exc: DomainError, aliases: dict[str, str] | None = None, wording: Callable[[str], str] = str
) -> None:
    """The service's field messages next to the matching fields (`aliases`: service key → form field);
    the whole message above the form when no field matches. `wording` rewrites a message first."""
    placed, elsewhere = False, []
    for name, message in exc.fields.items():
        field = form._fields.get((aliases or {}).get(name, name)) or form._fields.get(name)
        if field is not None:
            field.errors = [*field.errors, sentence(wording(message))]
            placed = True
        else:  # a field this form does not show: named in words ("artist name must …"), not by its key
            elsewhere.append(sentence(wording(f"{name.replace('_', ' ')} {message}")))
    if not placed:
        form.form_errors.extend(elsewhere or [sentence(wording(exc.message))])


class PlainWords:
    """WTForms' own messages ("Not a valid float value.") in the portal's words; a form uses it as its
    `Meta.get_translations` answer."""

    MESSAGES = {
        "Not a valid datetime value.": "Enter a date and a time.",
        "Not a valid date value.": "Enter a date.",
        "Not a valid float value.": "Enter a number, like 51.34.",
        "Not a valid decimal value.": "Enter a number, like 51.34.",
        "Not a valid integer value.": "Enter a whole number.",
        "This field is required.": "Please fill this in.",
        "Not a valid choice.": "Choose one of the options.",
    }

    def gettext(self, text: str) -> str:
        return self.MESSAGES.get(text, text)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.gettext(singular if n == 1 else plural)


def flash_at(place: str, message: str) -> str:
    """Flash `message` to be shown next to `place` on the next page (portal/_macros.html `notice`), not above
    it; returns the URL fragment that scrolls there."""
    flash(message, f"at:{place}")
    return f"#{place}-notice"


def confirmed() -> bool:
    """A delete goes ahead once the person said yes: htmx asked (hx-confirm) before sending it, or, without
    JavaScript, the confirmation page's own form sent `confirmed=1`."""
    return is_htmx() or request.form.get("confirmed") == "1"


def confirmation(question: str, action: str, back: str, explanation: str = "", button: str = "Delete"):
    """The page that asks `question` before a delete, when JavaScript did not ask it already."""
    return render(
        "portal/confirm.html", question=question, action=action, back=back, explanation=explanation, button=button
    )


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
