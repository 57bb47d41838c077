"""Every FESTIVALS_* setting, declared once: its type, default, meaning and the processes that read it.

Each process reads its section once when it starts (`load(AppSettings)`, `load(FilesSettings)`, ...); no other
module reads FESTIVALS_* from the environment. A wrong value stops the start with a SettingsError naming the
variable. An empty value counts as unset (the default applies). docs/configuration.md is generated from this:

    python -m common.settings --markdown > docs/configuration.md

Sections: Shared (every service), Tokens (who verifies access tokens), Heartbeats (instances behind the
gateway), MediaStore (the file server and the gateway, which serves stored files), and one per process: App
(API, portal and the identity blueprint; also `gunicorn wsgi:identity_app`), Files, Gateway (Caddy's config and
the discovery registry). Scripts (scripts/run, scripts/stack, deploy units) name their own ports: Launch."""

from __future__ import annotations

import sys
from typing import Annotated, TypeVar

from pydantic import AfterValidator, BeforeValidator, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PREFIX = "FESTIVALS_"
MIB = 1024 * 1024
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class SettingsError(ValueError):
    """A setting with a value its process cannot run with; the message names the variable."""


def _rate(value: str) -> str:
    from limits import parse

    try:
        parse(value)
    except ValueError:
        raise ValueError("must be a rate such as '10/minute'") from None
    return value


def _words(value) -> tuple[str, ...]:
    """A comma-separated list (or a list) as a tuple of its non-empty parts."""
    if isinstance(value, str):
        value = value.split(",")
    return tuple(str(part).strip() for part in value if str(part).strip())


def _positive_seconds(value: float) -> float:
    if value <= 0:
        raise ValueError("must be a positive number of seconds")
    return value


Seconds = Annotated[float, AfterValidator(_positive_seconds)]


def _choice(*choices: str):
    """A word among `choices`, in any case ("must be local or s3" names them when it is not)."""
    listed = f"{choices[0]} or {choices[1]}" if len(choices) == 2 else f"one of {', '.join(choices)}"

    def check(value: str) -> str:
        if value not in {choice.lower() for choice in choices}:
            raise ValueError(f"must be {listed}")
        return value

    return Annotated[str, BeforeValidator(lambda value: value.strip().lower()), AfterValidator(check)]


Count = Annotated[int, Field(ge=0)]
Url = Annotated[str, Field(pattern=r"^(|https?://\S+)$"), AfterValidator(lambda url: url.rstrip("/"))]


class Section(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=PREFIX, env_ignore_empty=True, str_strip_whitespace=True, extra="ignore", frozen=True
    )


class Shared(Section):
    instance_path: str = Field(
        "instance",
        description="Folder of what a process makes on first start: secret key, "
        "signing keys, the SQLite database, media, metrics (owner only, 0700).",
    )
    log_format: _choice("text", "json") = Field("text", description="Log lines as plain text or one JSON object each.")
    log_level: Annotated[_choice(*LOG_LEVELS), AfterValidator(str.upper)] = Field(
        "INFO", description=f"Lowest level logged: {', '.join(LOG_LEVELS)}."
    )
    log_health: bool = Field(
        False, description="Access lines of /health and /ready too (the gateway asks each second)."
    )
    tls_cert: str = Field(
        "",
        description="This process's certificate (served on its internal port, presented to "
        "peers); with TLS_KEY and TLS_CA, all three or none.",
    )
    tls_key: str = Field("", description="The key of TLS_CERT.")
    tls_ca: str = Field("", description="The CA every peer's certificate must be signed by.")


class Served(Section):
    """A service behind the gateway (the app and the file server)."""

    behind_proxy: bool = Field(
        False, description="Behind the gateway: trust exactly one proxy hop's X-Forwarded-For/-Proto/-Host."
    )
    tls_warn_days: Count = Field(30, description="/ready reports certificates that expire within this many days.")


class Identity(Section):
    identity_url: Url = Field(
        "",
        description="The identity service's base URL (e.g. https://host:5002/identity): "
        "tokens are verified with the keys it publishes (the gateway checks Service-Keys and "
        "admin tokens there); empty: with the instance's key files.",
    )


class Redis(Section):
    redis_url: str = Field(
        "",
        description="Redis shared by the instances (rate limits, read cache, the registry's "
        "state); empty: in-process state.",
    )


class FilesUrl(Section):
    files_url: Url = Field(
        "",
        description="The file server's public base URL (image_ref and pdf_ref, uploads "
        "from the portal); empty: the host a request came to.",
    )


class Tokens(Identity):
    token_issuer: str = Field("festivals-identity", description="`iss` of access tokens (issued and required).")
    token_audience: str = Field("festivals", description="`aud` of access tokens (issued and required).")
    access_token_ttl: Annotated[int, Field(gt=0)] = Field(
        900, description="Seconds an access token lives; a replaced signing key still verifies for this long."
    )


class Beat(Section):
    heartbeat_s: Seconds = Field(
        5.0, description="Seconds between heartbeats (instances) and expected between them (registry)."
    )


class Heartbeats(Beat):
    discovery_url: Url = Field(
        "",
        description="The gateway's discovery registry: heartbeats go there (with "
        "SERVICE_KEY); /admin/services lists what it knows.",
    )
    service_key: str = Field(
        "",
        description="This instance's Service-Key (heartbeats; with IDENTITY_URL, asking identity for a login's token).",
    )
    advertise_host: str = Field("127.0.0.1", description="The address a heartbeat gives for this instance.")
    service_name: str = Field(
        "", description="The service a heartbeat names; empty: the process's (app, files, identity)."
    )
    drain_file: str = Field(
        "", description="While this file exists /ready answers 503 (a rolling restart drains the instance)."
    )
    metrics_dir: str = Field(
        "", description="Where gunicorn's workers keep their metric files; empty: <instance>/metrics."
    )


class InstanceSettings(Shared, Heartbeats):
    """What gunicorn's master of any instance reads (common/gunicorn_hooks.py) and its heartbeat process."""


class MediaStore(Section):
    media_dir: str = Field("", description="The media folder of the local store; empty: <instance>/media.")
    media_store: _choice("local", "s3") = Field(
        "local",
        description="Where originals and thumbnails live: local "
        "(MEDIA_DIR) or s3 (the bucket; credentials as boto3 reads them).",
    )
    s3_endpoint: Url = Field("", description="An S3-compatible endpoint; empty: AWS.")
    s3_bucket: str = Field("", description="The bucket of MEDIA_STORE=s3.")
    s3_region: str = Field("", description="The bucket's region.")


class AppSettings(Shared, Served, Tokens, Heartbeats, Redis, FilesUrl):
    """The app: API, portal and identity (the blueprint, or `gunicorn wsgi:identity_app` on its own)."""

    database_url: str = Field(
        "", description="peewee database URL (sqlite:///..., postgresql://...); empty: <instance>/festivals.sqlite3."
    )
    secret_key: str = Field(
        "",
        description="Secret of sessions and CSRF tokens, the same on every host; empty: "
        "SECRET_KEY_FILE, else one made on first start in the instance folder (one host only).",
    )
    secret_key_file: str = Field(
        "", description="A file holding SECRET_KEY (32 characters or more), e.g. a mounted secret."
    )
    read_only: bool = Field(False, description="Refuse every write with 503 (maintenance, a replica).")
    db_pool_size: Annotated[int, Field(gt=0)] = Field(16, description="PostgreSQL connections per process.")
    db_lock_timeout: Seconds = Field(5.0, description="Seconds a write waits for a lock before answering 503.")
    db_read_lock_timeout: Seconds = Field(0.2, description="PostgreSQL: seconds any other statement waits for a lock.")
    db_statement_timeout: Seconds = Field(30.0, description="PostgreSQL: longest run of any statement, seconds.")
    db_writers: Annotated[int, Field(gt=0)] = Field(
        2, description="Write transactions per process at once (the rest wait their turn)."
    )
    refresh_token_ttl: Annotated[int, Field(gt=0)] = Field(30 * 24 * 3600, description="Seconds a refresh token lives.")
    signup: bool = Field(True, description="Anyone may sign up (on) or only admins create accounts (off).")
    signup_role: _choice("creator", "user") = Field(
        "creator", description="The role of a new signed-up account: creator or user."
    )
    read_cache_bytes: Count = Field(64 * MIB, description="In-process read cache per worker, bytes (0: off).")
    read_cache_prefix: str = Field("festivals:read:", description="Key prefix of the read cache in Redis.")
    read_cache_ttl: Annotated[int, Field(gt=0)] = Field(3600, description="Seconds a cached read lives (at most 6 h).")
    login_rate_limit: str = Field("10/minute", description="Password checks per account.")
    login_ip_rate_limit: str = Field("30/minute", description="Password checks per client address.")
    signup_rate_limit: str = Field("10/hour", description="Signups per client address.")
    rate_limit_prefix: str = Field("festivals", description="Key prefix of the rate limits in Redis.")
    argon2_time_cost: Annotated[int, Field(gt=0)] = Field(3, description="argon2 passes (tests lower it).")
    argon2_memory_cost: Annotated[int, Field(ge=8)] = Field(65536, description="argon2 memory, KiB.")
    max_import_bytes: Annotated[int, Field(gt=0)] = Field(32 * MIB, description="Largest CSV import, bytes.")

    _rates = field_validator("login_rate_limit", "login_ip_rate_limit", "signup_rate_limit")(_rate)


DEFAULT_THUMB_SIZES = (64, 160, 320, 640, 1280, 1920)
DEFAULT_PORTAL_ORIGINS = ("http://127.0.0.1:5000", "http://localhost:5000")


class FilesSettings(Shared, Served, Tokens, Heartbeats, MediaStore, FilesUrl):
    """The file server (`gunicorn wsgi:files`)."""

    account_check_seconds: Annotated[float, Field(ge=0)] = Field(
        5.0, description="With IDENTITY_URL: how long identity's answer about a login is reused."
    )
    max_upload_bytes: Annotated[int, Field(gt=0)] = Field(20 * MIB, description="Largest image or PDF upload.")
    max_video_bytes: Annotated[int, Field(gt=0)] = Field(200 * MIB, description="Largest video upload.")
    max_video_seconds: Annotated[int, Field(gt=0)] = Field(600, description="Longest video.")
    max_image_pixels: Annotated[int, Field(gt=0)] = Field(50_000_000, description="Largest image, pixels.")
    thumb_sizes: Annotated[tuple[int, ...], NoDecode] = Field(
        DEFAULT_THUMB_SIZES, description="Thumbnail widths made, comma-separated (1-10000)."
    )
    portal_origin: Annotated[tuple[str, ...], NoDecode] = Field(
        DEFAULT_PORTAL_ORIGINS, description="Origins whose pages may upload and delete (CORS), comma-separated."
    )

    @field_validator("thumb_sizes", mode="before")
    @classmethod
    def _sizes(cls, value) -> tuple[int, ...]:
        sizes = sorted({int(part) for part in _words(value)})
        if not sizes or sizes[0] < 1 or sizes[-1] > 10000:
            raise ValueError("must list sizes between 1 and 10000")
        return tuple(sizes)

    @field_validator("portal_origin", mode="before")
    @classmethod
    def _origins(cls, value) -> tuple[str, ...]:
        return tuple(origin.rstrip("/") for origin in _words(value))


class GatewaySettings(Shared, Identity, Beat, MediaStore, Redis):
    """The gateway: Caddy's config (loaded through its admin API) and the discovery registry (`wsgi:registry`)."""

    domain: str = Field(
        "festivals.localhost",
        description="Hosts api.<domain>, identity.<domain>, files.<domain>, "
        "discovery.<domain>; the portal on <domain>.",
    )
    gateway_port: Annotated[int, Field(gt=0, lt=65536)] = Field(
        8080, description="Where Caddy listens for plain HTTP (redirected to HTTPS unless PUBLIC_TLS=off)."
    )
    gateway_https_port: Annotated[int, Field(gt=0, lt=65536)] = Field(8443, description="Where Caddy serves HTTPS.")
    gateway_admin: str = Field("127.0.0.1:2019", description="Caddy's admin API.")
    registry_address: str = Field("127.0.0.1:8090", description="The discovery registry (host:port).")
    public_tls: _choice("auto", "internal", "acme", "off") = Field(
        "auto", description="Visitors' HTTPS: auto (internal for local names, else acme), internal, acme or off."
    )
    acme_email: str = Field("", description="The ACME account's email.")
    gateway_ca_key: str = Field("", description="Our CA's key for Caddy's internal issuer; empty: next to TLS_CA.")
    gateway_storage: str = Field("", description="Caddy's data (certificates); empty: <instance>/caddy/data.")
    gateway_access_log: str = Field("", description="File of Caddy's (masked) access log; empty: stderr.")
    gateway_log_files: bool = Field(False, description="files.<domain> in the access log too.")
    registry_prefix: str = Field("festivals:registry:", description="Key prefix of the registry's state in Redis.")
    heartbeat_grace_s: Seconds = Field(1.0, description="An instance is stale after two missed beats plus this.")
    registry_forget_s: Seconds = Field(600.0, description="Seconds a stale instance is kept before it is forgotten.")
    registry_max_instances: Annotated[int, Field(gt=0)] = Field(64, description="Instances per service.")
    registry_beat_limit: str = Field("10/second", description="Beats per Service-Key.")
    registry_join_limit: str = Field("5/minute", description="New instances per Service-Key.")
    registry_lookup_limit: str = Field(
        "20/minute", description="Identity lookups of unknown keys per client certificate."
    )
    registry_upstreams: str = Field(
        "127.0.0.0/8,::1",
        description="Where instances may be: networks or host names, each with an optional :PORT or :LOW-HIGH.",
    )
    alert_webhook: Url = Field("", description="URL the registry posts alerts to.")
    alert_error_ratio: Annotated[float, Field(gt=0, le=1)] = Field(
        0.05, description="error_rate_high fires at this share of 5xx answers ..."
    )
    alert_error_window_s: Seconds = Field(300.0, description="... over this window, seconds ...")
    alert_min_answers: Annotated[int, Field(gt=0)] = Field(20, description="... with at least this many answers.")

    _rates = field_validator("registry_beat_limit", "registry_join_limit", "registry_lookup_limit")(_rate)

    @field_validator("domain", mode="before")
    @classmethod
    def _lower_words(cls, value):
        return value.strip().lower() if isinstance(value, str) else value


class Launch(Section):
    """Read by scripts and units, not by Python: where each process of a machine listens."""

    port: int = Field(5000, description="scripts/run: the app's port.")
    files_port: int = Field(5001, description="scripts/run and the file server's unit: its port.")
    identity_port: int = Field(5002, description="The identity service's unit: its port.")
    stack_port: int = Field(5100, description="scripts/stack: first of five loopback ports behind Caddy.")
    bind: str = Field("", description="Units: the address the services listen on (a host's private address).")


class Suite(Section):
    """Read by the test suite (tests/conftest.py) and the bench's helper processes, never by a service."""

    test_postgres_url: str = Field(
        "", description="A PostgreSQL server for the few tests that need one on a SQLite run (scripts/test sets it)."
    )
    test_redis_url: str = Field(
        "redis://127.0.0.1:6379/15", description="The Redis database the tests share counters in (scripts/test)."
    )
    schemathesis_examples: Annotated[int, Field(gt=0)] = Field(
        6, description="Examples per operation and mode of the API probe (tests/api/test_schemathesis.py)."
    )
    bench_bodies: str = Field("", description="bench/constant_app.py: the folder of the bodies it answers with.")


S = TypeVar("S", bound=Section)

SECTIONS = {
    "app": AppSettings,
    "files": FilesSettings,
    "gateway": GatewaySettings,
    "scripts": Launch,
    "tests": Suite,
}


def load(section: type[S], **values) -> S:
    """The section from the environment (`values` first: tests and tools give settings directly)."""
    try:
        return section(**values)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            variable = PREFIX + str(error["loc"][0] if error["loc"] else "").upper()
            got = "(hidden)" if "KEY" in variable or "SECRET" in variable else repr(error.get("input"))
            if error["type"] == "value_error":  # our own checks: "FESTIVALS_X must be ..., not 'y'"
                problems.append(f"{variable} {error['ctx']['error']}, not {got}")
            else:
                problems.append(f"{variable}={got}: {error['msg']}")
        raise SettingsError("; ".join(problems)) from None


PARTS = (Shared, Served, Identity, Tokens, FilesUrl, Redis, Beat, Heartbeats, MediaStore)


def variables() -> dict[str, dict]:
    """Every variable once: {name: {type, default, processes, meaning}}, the shared parts first."""
    table: dict[str, dict] = {}
    for part in (*PARTS, *SECTIONS.values()):
        for name in vars(part).get("__annotations__", {}):
            field = part.model_fields[name]
            table[PREFIX + name.upper()] = {
                "type": _type_name(field.annotation),
                "default": field.default,
                "processes": [process for process, section in SECTIONS.items() if name in section.model_fields],
                "meaning": field.description or "",
            }
    return table


def _type_name(annotation) -> str:
    text = getattr(annotation, "__name__", None) or str(annotation)
    return {"tuple": "list"}.get(text, text).replace("typing.", "")


def markdown() -> str:
    lines = [
        "# Configuration",
        "",
        "Every setting is an environment variable. Generated from `common/settings.py` by",
        "`python -m common.settings --markdown > docs/configuration.md` (a test fails when this file differs).",
        "An empty value counts as unset; a wrong value stops the process with a message naming the variable.",
        "Read by: app (API, portal and identity, also `gunicorn wsgi:identity_app`), files (the file server),",
        "gateway (Caddy's config and the discovery registry), scripts (scripts/run, scripts/stack, deploy units),",
        "tests (the suite and the bench).",
        "",
        "| Variable | Type | Default | Read by | Meaning |",
        "|---|---|---|---|---|",
    ]
    for name, entry in variables().items():
        default = entry["default"]
        if isinstance(default, tuple):
            default = ",".join(map(str, default))
        shown = f"`{str(default).lower() if isinstance(default, bool) else default}`" if default != "" else ""
        meaning = entry["meaning"].replace("<", "&lt;")  # <instance> is not an HTML tag
        lines.append(f"| `{name}` | {entry['type']} | {shown} | {', '.join(entry['processes'])} | {meaning} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    if argv == ["--markdown"]:
        sys.stdout.write(markdown())
        return 0
    print("usage: python -m common.settings --markdown", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
