"""The portal's identity forms (flask-wtf: every form carries a CSRF token). Only presence and the
repeat check live here; the account rules (email shape, password length, ...) are the services'."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length

REQUIRED = "Please fill in this field."
PASSWORD_HINT = "At least 10 characters, and not your email address."


def _email():
    return EmailField(
        "Email",
        validators=[DataRequired(REQUIRED), Length(max=254, message="Is too long.")],
        render_kw={"autocomplete": "email", "spellcheck": "false", "autocapitalize": "none"},
    )


def _new_password(label: str):
    return PasswordField(
        label,
        validators=[DataRequired(REQUIRED)],
        description=PASSWORD_HINT,
        render_kw={"autocomplete": "new-password"},
    )


def _repeat(other: str, label: str = "Repeat the new password"):
    return PasswordField(
        label,
        validators=[DataRequired(REQUIRED), EqualTo(other, message="Does not match the password above.")],
        render_kw={"autocomplete": "new-password"},
    )


class LoginForm(FlaskForm):
    email = _email()
    password = PasswordField(
        "Password", validators=[DataRequired(REQUIRED)], render_kw={"autocomplete": "current-password"}
    )
    remember = BooleanField("Keep me logged in on this device", default=False)
    next = HiddenField()


class SignupForm(FlaskForm):
    email = _email()
    password = _new_password("Password")
    repeat = _repeat("password", "Repeat the password")


class PasswordChangeForm(FlaskForm):
    old_password = PasswordField(
        "Current password", validators=[DataRequired(REQUIRED)], render_kw={"autocomplete": "current-password"}
    )
    new_password = _new_password("New password")
    repeat = _repeat("new_password")


class ResetForm(FlaskForm):
    new_password = _new_password("New password")
    repeat = _repeat("new_password")


class LogoutForm(FlaskForm):
    """No fields: the CSRF token is the point."""
