"""Command line (these names are an interface): migrate, create-user, create-api-key, demo-data,
bootstrap-dev, bench-seed, rotate-keys, pki, import-go."""

from __future__ import annotations

import os
import secrets
import sys
import time

import click
from flask import current_app
from flask.cli import with_appcontext

from app.db import db
from app.errors import DomainError
from app.migrations import migrate as apply_migrations
from app.models import User
from app.models.user import ROLES
from app.services.api_keys import create_key
from app.services.users import create_user, set_password
from common import pki
from tools.bench_seed import bench_seed
from tools.demo import load_demo_data


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

    load_demo_data(echo=click.echo, progress=click.progressbar)


@click.command("bootstrap-dev")
@with_appcontext
def bootstrap_dev_command():
    """Development only: an admin and an API key, created once and kept in the instance folder."""

    path = os.path.join(current_app.instance_path, "dev-credentials")
    if not os.path.exists(path):
        email = "admin@festivals.local"
        password = secrets.token_urlsafe(12)
        if User.get_or_none(User.email == email) is None:
            create_user(email, password, "admin")
        else:
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
@click.option(
    "--names",
    type=click.Choice(["words", "realistic"]),
    default="words",
    show_default=True,
    help="event and artist names from a 40-word list, or like a line-up's (1-5 words)",
)
@with_appcontext
def bench_seed_command(festivals, events, names):
    """Benchmark data: festivals with events (each with an artist and a stage), places, links, images, tags;
    COPY on PostgreSQL (10,000 festivals / 1,000,000 events in minutes)."""

    started = time.monotonic()
    with click.progressbar(length=festivals, label="festivals", file=sys.stderr) as bar:
        done = bench_seed(festivals, events, progress=bar.update, realistic=names == "realistic")
    click.echo(
        f"seeded {festivals} festivals and {events} events ({done['rows']} rows) in {time.monotonic() - started:.1f} s"
    )


@click.command("rotate-keys")
@with_appcontext
def rotate_keys_command():
    """A new token signing key signs from now on; the old one verifies until its tokens expire."""
    keys = current_app.extensions["identity_keys"]
    if keys is None:
        raise click.ClickException(
            f"this app holds no signing keys: the identity service at {current_app.config['IDENTITY_URL']} signs"
            " (FESTIVALS_IDENTITY_URL); rotate them there: flask --app wsgi:identity_app rotate-keys"
        )
    key, removed = keys.rotate()
    click.echo(f"new signing key {key.kid}" + (f"; removed retired {', '.join(removed)}" if removed else ""))


def _pki_dir(directory: str | None) -> str:
    return directory or os.path.join(current_app.instance_path, "pki")


_dir_option = click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False),
    help="where the CA and certificates live  [default: <instance>/pki]",
)


@click.group("pki")
def pki_command():
    """A private CA and service certificates for TLS between the gateway and the services."""


@pki_command.command("init")
@_dir_option
@click.option("--days", default=pki.CA_DAYS, show_default=True, type=click.IntRange(1, 36500))
@click.option("--replace", is_flag=True, help="make a new CA; the old one is moved to old/<time>/")
@click.option(
    "--import",
    "imported",
    nargs=2,
    type=click.Path(exists=True, dir_okay=False),
    metavar="CA.pem CA.key",
    help="use an existing root CA (its certificate and unencrypted key), e.g. the one a Go deployment's apps trust",
)
@with_appcontext
def pki_init_command(directory, days, replace, imported):
    """Create the CA, or import one (an existing one is kept unless --replace)."""
    directory = _pki_dir(directory)
    if imported:
        try:
            path = pki.import_ca(directory, *imported, replace=replace)
        except pki.PkiError as exc:
            raise click.ClickException(str(exc)) from None
        info = pki.describe(path)
        click.echo(f"CA {path} is {info.subject}, valid until {info.not_after:%Y-%m-%d}")
        click.echo("issue the service certificates again (pki issue) and restart the gateway and services")
        return
    path, created = pki.init_ca(directory, days=days, replace=replace)
    info = pki.describe(path)
    if not created:
        click.echo(
            f"CA exists, kept: {path} ({info.subject}, valid until {info.not_after:%Y-%m-%d}); "
            "--replace makes a new one"
        )
        return
    click.echo(f"created CA {path} ({info.subject}, valid until {info.not_after:%Y-%m-%d})")
    if replace:
        click.echo("issue every service certificate again (pki issue) and restart the services")


@pki_command.command("issue")
@click.argument("name")
@click.option("--dns", multiple=True, help="a DNS name the service is reached by (repeatable)")
@click.option("--ip", multiple=True, help="an IP address the service is reached by (repeatable)")
@click.option("--days", default=pki.CERT_DAYS, show_default=True, type=click.IntRange(1, 3650))
@click.option(
    "--role", default="", help="app, identity, files, gateway or metrics (a Prometheus scraper; default: NAME)"
)
@_dir_option
@with_appcontext
def pki_issue_command(name, dns, ip, days, role, directory):
    """A key and certificate for service NAME (server and client use), signed by the CA."""
    try:
        cert, key = pki.issue(_pki_dir(directory), name, dns=dns, ips=ip, days=days, role=role)
    except pki.PkiError as exc:
        raise click.ClickException(str(exc)) from None
    info = pki.describe(cert)
    names = ", ".join(info.dns + info.ips) or "no alternative names"
    click.echo(f"issued {cert} and {key} for {info.subject} ({names}), valid until {info.not_after:%Y-%m-%d}")


@pki_command.command("list")
@_dir_option
@with_appcontext
def pki_list_command(directory):
    """Subjects, names and expiry of the CA and every certificate; flags those close to expiry."""
    directory = _pki_dir(directory)
    certificates = pki.list_certificates(directory)
    if not certificates:
        raise click.ClickException(f"no certificates in {directory}: run `flask --app wsgi pki init` first")
    warn_days = current_app.config["TLS_WARN_DAYS"]
    for info in certificates:
        flag = "EXPIRED" if info.days_left <= 0 else "EXPIRES SOON" if info.expiring(warn_days) else "ok"
        names = ",".join(info.dns + info.ips) or "-"
        click.echo(
            f"{info.name:<12} {flag:<12} until {info.not_after:%Y-%m-%d %H:%M}Z "
            f"({int(info.days_left // 1)} days)  {info.subject}  {'CA' if info.is_ca else names}"
        )


@click.command("import-go")
@click.option("--api-db", required=True, help="the Go API database: mysql://USER[:PASSWORD]@HOST[:PORT]/DATABASE")
@click.option("--identity-db", required=True, help="the Go identity database: mysql://...")
@click.option("--media", required=True, help="the Go file server's originals folder (upload-*.jpg, upload-*.pdf)")
@click.option("--dry-run", is_flag=True, help="read and check everything, print what would change, write nothing")
@with_appcontext
def import_go_command(api_db, identity_db, media, dry_run):
    """Take over a Go FestivalsApp deployment: users, keys, media, entities with their ids, owners, relations.
    Safe to run again (writes only what is new or changed); docs/migrating-from-go.md."""
    from fileserver.config import load_files_config
    from tools.import_go import SourceError, import_go

    files = load_files_config({"INSTANCE_PATH": current_app.instance_path})
    try:
        report = import_go(api_db, identity_db, media, files, dry_run)
    except SourceError as exc:
        raise click.ClickException(f"{exc}; nothing was written") from None
    for line in report.lines():
        click.echo(line)


commands = [
    import_go_command,
    pki_command,
    rotate_keys_command,
    migrate_command,
    create_user_command,
    create_api_key_command,
    demo_data_command,
    bootstrap_dev_command,
    bench_seed_command,
]
