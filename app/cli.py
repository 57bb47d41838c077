"""Command line (these names are an interface): migrate, create-user, create-api-key, demo-data,
bootstrap-dev, bench-seed."""
from __future__ import annotations

import os
import secrets

import click
from flask import current_app
from flask.cli import with_appcontext

from app.db import db
from app.errors import DomainError
from app.migrations import migrate as apply_migrations
from app.models import User
from app.models.user import ROLES


def _fail(exc: DomainError):
    details = "; ".join(f"{k}: {v}" for k, v in exc.fields.items())
    raise click.ClickException(exc.message + (f" ({details})" if details else ""))


@click.command("migrate")
@with_appcontext
def migrate_command():
    """Apply the database migrations that are missing (safe to run again)."""
    done = apply_migrations(db.obj)
    click.echo(f"applied: {', '.join(done)}" if done else "database schema is up to date")


@click.command("create-user")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), default="creator", show_default=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@with_appcontext
def create_user_command(email, role, password):
    """Create an account."""
    from app.services.users import create_user

    try:
        user = create_user(email, password, role)
    except DomainError as exc:
        _fail(exc)
    click.echo(f"created {user.role} {user.email} (id {user.id})")


@click.command("create-api-key")
@click.option("--comment", required=True, help="who or what the key is for")
@click.option("--service", is_flag=True, help="a Service-Key for service-to-service calls")
@with_appcontext
def create_api_key_command(comment, service):
    """Create an API key; the key is printed once, alone on the last line."""
    from app.services.api_keys import create_key

    try:
        key, row = create_key(comment, "service" if service else "api")
    except DomainError as exc:
        _fail(exc)
    click.echo(f"created {row.kind} key {row.prefix} ({comment}); it is shown only now:")
    click.echo(key)


@click.command("demo-data")
@with_appcontext
def demo_data_command():
    """Load realistic demo festivals (skipped when they are already there)."""
    from app.demo import load_demo_data

    load_demo_data(echo=click.echo, progress=click.progressbar)


@click.command("bootstrap-dev")
@with_appcontext
def bootstrap_dev_command():
    """Development only: an admin and an API key, created once and kept in the instance folder."""
    from app.services.api_keys import create_key
    from app.services.users import create_user

    path = os.path.join(current_app.instance_path, "dev-credentials")
    if not os.path.exists(path):
        email = "admin@festivals.local"
        password = secrets.token_urlsafe(12)
        if User.get_or_none(User.email == email) is None:
            create_user(email, password, "admin")
        else:
            from app.services.users import set_password
            set_password(User.get(User.email == email), password)
        key, _ = create_key("development (bootstrap-dev)")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(f"{email}\n{password}\n{key}\n")
    with open(path) as handle:
        email, password, key = handle.read().split()
    click.echo(f"Admin login: {email} {password}")
    click.echo(f"API key: {key}")


@click.command("bench-seed")
@click.option("--festivals", default=100, show_default=True)
@click.option("--events", default=5000, show_default=True)
@with_appcontext
def bench_seed_command(festivals, events):
    """Benchmark data: many published festivals with events, links, tags, places and images."""
    from app.demo import bench_seed

    bench_seed(festivals, events)
    click.echo(f"seeded {festivals} festivals and {events} events")


@click.command("rotate-keys")
@with_appcontext
def rotate_keys_command():
    """A new token signing key signs from now on; the old one verifies until its tokens expire."""
    key, removed = current_app.extensions["identity_keys"].rotate()
    click.echo(f"new signing key {key.kid}" + (f"; removed retired {', '.join(removed)}" if removed else ""))


commands = [rotate_keys_command, migrate_command, create_user_command, create_api_key_command, demo_data_command,
            bootstrap_dev_command, bench_seed_command]
