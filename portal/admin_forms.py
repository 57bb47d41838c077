"""The admin pages' forms. Only input parsing lives here (text to numbers and dates); the rules (which
roles exist, who may be suspended, which emails have accounts) are the services'."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask_wtf import FlaskForm
from wtforms import EmailField, Form, HiddenField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError

from app.models.user import ROLES
from app.services.audit import AuditFilter
from app.text import whole_number


class RoleForm(FlaskForm):
    # No choice check here: an unknown role reaches the service, whose message the row then shows.
    role = SelectField("Role", choices=[SelectChoice(role) for role in ROLES], validate_choice=False)
    back = HiddenField()


class SuspendForm(FlaskForm):
    suspend = HiddenField()  # "1" suspends, "0" lifts the suspension
    back = HiddenField()


def _printable(form, field) -> None:
    if field.data and not field.data.isprintable():
        raise ValidationError("Only printable characters, on one line.")


class KeyForm(FlaskForm):
    comment = StringField(
        "Comment",
        validators=[Length(max=255, message="At most 255 characters."), _printable],
        description="Who or what uses the key, e.g. “iOS app 2.3”.",
        render_kw={"maxlength": 255, "autocomplete": "off"},
    )
    kind = HiddenField()


class RevokeForm(FlaskForm):
    confirmed = HiddenField()  # "1" after the confirmation (the page's second step, or hx-confirm)


class TransferForm(FlaskForm):
    email = EmailField(
        "New owner's email",
        validators=[DataRequired("Please enter an email address.")],
        render_kw={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "none", "list": "owner-emails"},
    )
    back = HiddenField()


class AuditFilterForm(Form):
    """The audit log's filters, read from the query string (a GET form: no CSRF token)."""

    user = StringField("User (email or id)", render_kw={"autocomplete": "off", "spellcheck": "false"})
    entity = SelectField("Entity", choices=[SelectChoice("", "Any")], validate_choice=False)
    since = StringField("From (UTC)", render_kw={"type": "date"})
    until = StringField("To (UTC, inclusive)", render_kw={"type": "date"})

    def parse(self, entities: list[str]) -> AuditFilter | None:
        """The filter, or None with messages on the fields that could not be read."""
        self.entity.choices = [SelectChoice("", "Any")] + [SelectChoice(name) for name in entities]
        since, until = self._day(self.since), self._day(self.until)
        entity = (self.entity.data or "").strip()
        if entity and entity not in entities:
            self.entity.errors = [f"No entries for the entity “{entity[:40]}”."]
        if since and until and until < since:
            self.until.errors = ["Must not be before “From”."]
        user = (self.user.data or "").strip()
        if len(user) > 254 or "\x00" in user:
            self.user.errors = ["Is not an email address or a user id."]
        if any(f.errors for f in self):
            return None
        actor_id = whole_number(user, max_digits=9)
        return AuditFilter(
            actor_id=actor_id,
            actor_email=None if actor_id is not None or not user else user,
            entity=entity or None,
            since=datetime.combine(since, datetime.min.time()) if since else None,
            until=datetime.combine(until + timedelta(days=1), datetime.min.time()) if until else None,
        )

    @staticmethod
    def _day(f) -> date | None:
        raw = (f.data or "").strip()
        if not raw:
            return None
        try:
            day = date.fromisoformat(raw)
        except ValueError:
            day = None
        if day is None or len(raw) != 10 or not 1970 <= day.year <= 9998:
            f.errors = [f"“{raw[:20]}” is not a date (YYYY-MM-DD)."]
            return None
        return day

    def query(self) -> dict:
        """The filters as query-string arguments (for the pager's links)."""
        return {f.name: f.data for f in self if f.data}
