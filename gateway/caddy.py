"""Caddy's JSON config, built from Settings: one function per host, the upstream transport in one place
(TLS options belong there), and a small client of Caddy's admin API (load the config, read upstreams).

The registry loads the whole config again (`POST /load`) with the live upstreams whenever they change: one
graceful config change in Caddy for any number of changed groups (a `PATCH /id/...` of one group costs Caddy the
same full config change), no process reload, and in-flight requests finish on the old config. Each balanced
proxy carries an `@id` ("upstreams-<group>"): `GET /id/upstreams-api/upstreams` shows what Caddy balances over."""

from __future__ import annotations

from urllib.parse import urlsplit

import orjson
import requests

from common.http import CLIENT_HEADER, REQUEST_ID_CHARS
from common.logs import REDACTED, SECRET_PATH
from common.pki import FORWARDED_CERT_HEADER
from gateway.settings import Settings, is_local_name

# Which services' live instances each proxy balances over: the first service with a live instance wins
# (identity.<domain> goes to identity processes when some run apart, else to the app's identity blueprint).
GROUPS = {"api": ("app",), "portal": ("app",), "identity": ("identity", "app"), "files": ("files",)}
# Retried on another instance when an upstream fails mid-request: the methods that change nothing.
RETRY_METHODS = ["GET", "HEAD", "OPTIONS"]
YEAR = 365 * 24 * 3600
HSTS = "max-age=31536000; includeSubDomains"
CA_ID = "festivals"  # our CA's name in Caddy's pki app
HEX = "[0-9a-f]"
# Backends get the visitor's address truncated to /24 (IPv4) or /48 (IPv6), never the whole of it.
# Caddy sets X-Forwarded-For to the client address (a client's own header is dropped: no trusted proxies);
# these run after that, in order: IPv4, IPv6 with three leading groups, IPv6 compressed earlier ("a:b::1", "::1").
MASK_FORWARDED_FOR = [
    {"search_regexp": r"^(\d+\.\d+\.\d+)\.\d+$", "replace": "${1}.0"},
    {"search_regexp": r"^([0-9A-Fa-f]{1,4}:[0-9A-Fa-f]{1,4}:[0-9A-Fa-f]{1,4}):.*$", "replace": "${1}::"},
    {"search_regexp": r"^((?:[0-9A-Fa-f]{1,4}:){0,2}):.*$", "replace": "${1}:"},
    {"search_regexp": r"^:$", "replace": "::"},  # "::1" became ":" above: its /48 is "::"
]


# One neutral Server header (Caddy's and gunicorn's would both go out, Caddy's naming itself)
SERVER = "FestivalsApp"
# Set by the first route: the request id every hop logs (the client's X-Request-ID when well-formed, else
# Caddy's UUID of the request) and the host with the public port that the backends build URLs with.
REQUEST_ID_VAR = "{festivals.request_id}"
FORWARDED_HOST_VAR = "{festivals.forwarded_host}"
# Caddy 2.6's access log has no field of its own for it: the request id goes into `user_id` (no handler of
# ours authenticates, so nothing else would use it)
LOG_ID_VAR = "{http.auth.user.id}"

# What the access log leaves out: headers (a client-sent address, credentials; and writing them costs the
# static files a third of their speed), the remote port
UNLOGGED = ("request>headers", "request>remote_port", "resp_headers")


def upstream_id(group: str) -> str:
    return f"upstreams-{group}"


def envelope(status: int, message: str, headers: dict | None = None) -> dict:
    """A response made by Caddy itself, with the API's error envelope."""
    return {
        "handler": "static_response",
        "status_code": status,
        "headers": {"Content-Type": ["application/json"], "Cache-Control": ["no-store"], **(headers or {})},
        "body": orjson.dumps({"error": message}).decode(),
    }


def route(handle: list, match: list | None = None, terminal: bool = False) -> dict:
    built = {"handle": handle}
    if match:
        built["match"] = match
    if terminal:
        built["terminal"] = True
    return built


def transport(settings: Settings) -> dict:
    """How Caddy talks to every backend (the one place for upstream TLS / mTLS settings): with FESTIVALS_TLS_*
    over TLS, presenting the gateway's certificate and accepting only upstream certificates of our CA (for the
    address it dials: the certificates name 127.0.0.1 / the advertised host)."""
    built = {"protocol": "http", "dial_timeout": "1s", "response_header_timeout": "60s"}
    if settings.tls.enabled:
        built["tls"] = {
            "root_ca_pem_files": [settings.tls.ca],
            "client_certificate_file": settings.tls.cert,
            "client_certificate_key_file": settings.tls.key,
        }
    return built


def proxy(settings: Settings, group: str, upstreams: dict) -> dict:
    """A balanced reverse proxy over a group's live instances (`upstreams`: group -> ["host:port", ...])."""
    interval = f"{settings.health_interval_s}s"
    return {
        "handler": "reverse_proxy",
        "@id": upstream_id(group),
        "upstreams": [{"dial": address} for address in upstreams.get(group, [])],
        "transport": transport(settings),
        "load_balancing": {
            "selection_policy": {"policy": "least_conn"},
            "try_duration": f"{settings.try_duration_s}s",
            # short: a retry waiting while the registry loads a new config is cancelled with the old config
            # (a 502), and a master killed with SIGKILL sends its last beat, so a reload, at that very moment
            "try_interval": "10ms",
            "retry_match": [{"method": RETRY_METHODS}],
        },
        "health_checks": {
            # reads only: a database that refuses writes refuses every instance's (web/ops.py)
            "active": {"uri": "/ready?scope=reads", "interval": interval, "timeout": "2s"},
            "passive": {"fail_duration": "5s", "max_fails": 1},
        },
        "headers": forwarded_headers(),
    }


def forwarded_headers() -> dict:
    """What every backend is told: the masked visitor's address, the host with its public port (URLs it
    builds, e.g. a password-reset link, carry the port), the request id, and the whole address in a header
    of its own (set: a client's own is replaced) that rate limits use and nothing logs."""
    return {
        "request": {
            "replace": {"X-Forwarded-For": MASK_FORWARDED_FOR},
            "set": {
                "X-Forwarded-Host": [FORWARDED_HOST_VAR],
                "X-Request-ID": [REQUEST_ID_VAR],
                CLIENT_HEADER: ["{http.request.remote.host}"],
            },
        },
    }


def request_context(settings: Settings) -> dict:
    """The first route of every server: the request id (in the request passed on, the answer and the access
    log) and the forwarded host; every answer gets one neutral Server header and the X-Request-ID."""
    public_port = settings.https_port if settings.https else settings.port
    default_port = 443 if settings.https else 80
    with_port = "${1}" if public_port == default_port else f"${{1}}:{public_port}"
    well_formed = f"^({REQUEST_ID_CHARS})$"
    return route(
        [
            _map("{http.request.header.X-Request-ID}", [REQUEST_ID_VAR, LOG_ID_VAR], [(well_formed, "${1}")], None),
            _map(
                "{http.request.host}|{http.request.port}",
                [FORWARDED_HOST_VAR],
                [(r"^(.*)\|$", with_port), (r"^(.*)\|(\d+)$", "${1}:${2}")],
                "{http.request.host}",
            ),
            answer_headers(),
        ]
    )


def answer_headers() -> dict:
    return {
        "handler": "headers",
        "response": {"set": {"Server": [SERVER], "X-Request-ID": [REQUEST_ID_VAR]}, "deferred": True},
    }


def prefixed(settings: Settings, upstreams: dict, group: str, prefix: str) -> list:
    """`/X` becomes `<prefix>/X` (the existing apps' unprefixed paths); `<prefix>/X` passes as it is."""
    return [
        route([{"handler": "rewrite", "uri": prefix + "{http.request.uri}"}], [{"not": [{"path": [f"{prefix}/*"]}]}]),
        route([proxy(settings, group, upstreams)]),
    ]


def api_routes(settings: Settings, upstreams: dict) -> list:
    return prefixed(settings, upstreams, "api", "/api/v1")


def identity_routes(settings: Settings, upstreams: dict) -> list:
    return prefixed(settings, upstreams, "identity", "/identity")


def portal_routes(settings: Settings, upstreams: dict) -> list:
    return [route([proxy(settings, "portal", upstreams)])]


def refuse_metrics() -> dict:
    """`/metrics` of any service behind the gateway is for loopback callers and admins on its own port: on
    every host it answers 404 here (spelled in any case, with doubled slashes or a trailing part too)."""
    return route(
        [envelope(404, "not found")],
        [{"path": ["/metrics", "/metrics/*"]}, {"path_regexp": {"pattern": "(?i)^/+metrics(?:/|$)"}}],
        terminal=True,
    )


def _map(source: str, destination, mappings: list, default: str | None) -> dict:
    """Caddy's map handler; `destination` one placeholder or several that get the same output; `default`
    None: Caddy's UUID of the request."""
    destinations = [destination] if isinstance(destination, str) else list(destination)
    default = "{http.request.uuid}" if default is None else default
    return {
        "handler": "map",
        "source": source,
        "destinations": destinations,
        "mappings": [
            {"input_regexp": pattern, "outputs": [output] * len(destinations)} for pattern, output in mappings
        ],
        "defaults": [default] * len(destinations),
    }


def files_routes(settings: Settings, upstreams: dict) -> list:
    """Stored originals and thumbnails already made are files in the media folder: Caddy serves them itself
    (with the file server's cache headers); anything else (a thumbnail not made yet, an upload, a delete, a
    size that is not allowed as such) goes to the file server. The file server keeps each image's and video's
    original also under `<hash>.<ext>` so the type is known from the name.

    With the media in a bucket (FESTIVALS_MEDIA_STORE=s3) Caddy proxies the same reads to the bucket by object
    name instead, and hands a miss (a thumbnail not made yet) to the file server. Measured against the file
    server answering presigned redirects (bench/bucket_bench.py, docs/media-store.md): the proxy is one request
    for the client instead of two, no Python in the path of a download, our cache headers on the answer, and the
    bucket's endpoint need not be reachable by visitors; it needs public reads of `images/`, `videos/` and
    `variants/` (a bucket policy), which these files are anyway."""
    query = "{http.request.uri.query.%s}"
    width, height = query % "w" + query % "width", query % "h" + query % "height"
    size, fmt, original = "{festivals.variant}", "{festivals.format}", "{festivals.original}"
    number = "([1-9][0-9]{0,3})"
    maps = [
        # w320-h0-contain: the file server's name of a variant (one side given: always contain)
        _map(
            f"{width}|{height}|{query % 'fit'}",
            size,
            [
                (f"^{number}\\|{number}\\|(contain|cover)$", "w${1}-h${2}-${3}"),
                (f"^{number}\\|{number}\\|$", "w${1}-h${2}-contain"),
                (f"^{number}\\|\\|(contain|cover)?$", "w${1}-h0-contain"),
                (f"^\\|{number}\\|(contain|cover)?$", "w0-h${1}-contain"),
            ],
            "none",
        ),
        # the format asked for, or webp when Accept names it; other negotiations are the file server's
        _map(
            f"{query % 'format'}|{{http.request.header.Accept}}",
            fmt,
            [
                ("^(webp|jpeg|png)\\|", "${1}"),
                ("^jpg\\|", "jpeg"),
                ("^\\|(?:.*,)?\\s*image/webp\\s*(?:,.*)?$", "webp"),
            ],
            "none",
        ),
        _map(f"{width}{height}{query % 'format'}{query % 'fit'}", original, [("^$", "yes")], "no"),
    ]
    image = {
        "path_regexp": {"name": "image", "pattern": f"^/images/({HEX}{{2}})({HEX}{{62}})$"},
        "method": ["GET", "HEAD"],
    }
    stem = "{http.regexp.image.1}/{http.regexp.image.1}{http.regexp.image.2}"
    common = {
        "Cache-Control": [f"public, max-age={YEAR}, immutable"],
        "X-Content-Type-Options": ["nosniff"],
        "Content-Security-Policy": ["default-src 'none'; sandbox"],
        "Access-Control-Allow-Origin": ["*"],
        "Access-Control-Expose-Headers": ["ETag, X-Request-ID"],
    }

    def from_disk(try_files: list, vary: bool, when: dict) -> dict:
        headers = {**common, **({"Vary": ["Accept"]} if vary else {})}
        return route(
            [
                {"handler": "rewrite", "uri": "{http.matchers.file.relative}"},
                {"handler": "headers", "response": {"set": headers}},
                {"handler": "file_server", "root": settings.media_dir},
            ],
            [{**when, "file": {"root": settings.media_dir, "try_files": try_files}}],
            terminal=True,
        )

    def from_bucket(key: str, vary: bool, when: dict) -> dict:
        bucket = urlsplit(settings.bucket_url)
        tls = bucket.scheme == "https"
        hop = {"protocol": "http", "dial_timeout": "3s", "response_header_timeout": "30s"}
        if tls:
            hop["tls"] = {"server_name": bucket.hostname}
        fallback = {k: v for k, v in proxy(settings, "files", upstreams).items() if k != "@id"}  # one @id only
        return route(
            [
                {
                    "handler": "reverse_proxy",
                    "upstreams": [{"dial": f"{bucket.hostname}:{bucket.port or (443 if tls else 80)}"}],
                    "transport": hop,
                    "rewrite": {"uri": f"{bucket.path}/{key}?"},  # the object's name; the query is ours
                    "headers": {
                        "request": {
                            "set": {"Host": [bucket.netloc]},
                            "delete": ["Authorization", "Cookie"],
                        },
                        "response": {
                            "set": {**common, **({"Vary": ["Accept"]} if vary else {})},
                            "delete": ["X-Amz-*", "X-Amzn-*"],
                        },
                    },
                    # not in the bucket (yet): the file server makes the thumbnail or answers 404
                    "handle_response": [{"match": {"status_code": [403, 404]}, "routes": [route([fallback])]}],
                }
            ],
            [when] if when else None,
            terminal=True,
        )

    whole, variant = {"vars": {original: ["yes"]}}, {"not": [{"vars": {size: ["none"]}}, {"vars": {fmt: ["none"]}}]}
    # a video: its `<hash>.mp4` / `<hash>.webm` link (Caddy answers Range, ETag and 304 itself)
    video = {
        "path_regexp": {"name": "video", "pattern": f"^/videos/({HEX}{{2}})({HEX}{{62}})$"},
        "method": ["GET", "HEAD"],
    }
    video_stem = "{http.regexp.video.1}/{http.regexp.video.1}{http.regexp.video.2}"
    if settings.media_store == "s3":
        stored = [
            from_bucket(f"images/{stem}", False, whole),
            from_bucket(f"variants/{stem}/{size}.{fmt}", True, variant),
        ]
        videos = [from_bucket(f"videos/{video_stem}", False, {})]
    else:  # nested: a matcher set's matchers run in no set order, and the file matcher needs the path's captures
        stored = [
            from_disk([f"/images/{stem}.{ext}" for ext in ("jpg", "png", "webp", "gif")], False, whole),
            from_disk([f"/variants/{stem}/{size}.{fmt}"], True, variant),
        ]
        videos = [from_disk([f"/videos/{video_stem}.{ext}" for ext in ("mp4", "webm")], False, {})]
    return [
        route(maps),
        route([{"handler": "subroute", "routes": stored}], [image]),
        route([{"handler": "subroute", "routes": videos}], [video]),
        route([proxy(settings, "files", upstreams)]),
    ]


def discovery_routes(settings: Settings, upstreams: dict) -> list:
    """To the registry, with the client certificate Caddy verified for this connection (discovery_tls): set,
    so a client's own header is replaced (empty without a verified certificate, and the registry refuses)."""
    headers = forwarded_headers()
    headers["request"]["set"][FORWARDED_CERT_HEADER] = ["{http.request.tls.client.certificate_der_base64}"]
    return [
        route(
            [
                {
                    "handler": "reverse_proxy",
                    "upstreams": [{"dial": settings.registry}],
                    "transport": transport(settings),
                    "headers": headers,
                }
            ]
        )
    ]


def discovery_tls(settings: Settings) -> list:
    """TLS connection policies: a client of discovery.<domain> must present a certificate of our CA (a service
    beating through the gateway); every other name takes visitors without one."""
    if not settings.tls.ca:
        return []  # no CA to verify against: nothing is forwarded, beats go straight to the registry
    client_auth = {"trusted_ca_certs_pem_files": [settings.tls.ca], "mode": "require_and_verify"}
    return [{"match": {"sni": [f"discovery.{settings.domain}"]}, "client_authentication": client_auth}, {}]


def gateway_routes(settings: Settings, upstreams: dict) -> list:
    info = orjson.dumps({"service": "festivals-gateway", "engine": "caddy", "domain": settings.domain}).decode()
    return [
        route([{"handler": "static_response", "status_code": 200}], [{"path": ["/health"]}], terminal=True),
        route(
            [
                {
                    "handler": "static_response",
                    "status_code": 200,
                    "body": info,
                    "headers": {"Content-Type": ["application/json"]},
                }
            ],
            [{"path": ["/info"]}],
            terminal=True,
        ),
        route([envelope(404, "not found")]),
    ]


def hosts(settings: Settings, upstreams: dict) -> dict:
    """host name -> its routes."""
    domain = settings.domain
    return {
        f"api.{domain}": api_routes(settings, upstreams),
        f"identity.{domain}": identity_routes(settings, upstreams),
        f"files.{domain}": files_routes(settings, upstreams),
        f"discovery.{domain}": discovery_routes(settings, upstreams),
        f"gateway.{domain}": gateway_routes(settings, upstreams),
        domain: portal_routes(settings, upstreams),
    }


def error_routes() -> list:
    """Errors Caddy raises itself (no live instance, every try failed) answer with the envelope."""
    return [
        route([answer_headers()]),
        route(
            [envelope(503, "no live instance of this service is available; try again shortly")],
            [{"vars": {"{http.error.status_code}": ["503"]}}],
            terminal=True,
        ),
        route(
            [
                {
                    **envelope(502, "the gateway could not get an answer from the service"),
                    "status_code": "{http.error.status_code}",
                }
            ]
        ),
    ]


def server(settings: Settings, upstreams: dict) -> dict:
    logs = {"default_logger_name": "festivals"}
    if not settings.log_files:
        # Logging a request costs Caddy about as much as serving a small file from disk (bench/gateway_bench.py):
        # the public, immutable files are not in the access log unless asked for; the file server logs what
        # reaches it (uploads, deletes, thumbnails made).
        logs["skip_hosts"] = [f"files.{settings.domain}"]
    routes = [
        route([{"handler": "subroute", "routes": [refuse_metrics(), *host_routes]}], [{"host": [host]}], terminal=True)
        for host, host_routes in hosts(settings, upstreams).items()
    ]
    routes.insert(0, request_context(settings))
    routes.append(route([envelope(403, "unknown host")]))  # nothing upstream is contacted
    extra = {}
    if not settings.https:
        port, automatic_https = settings.port, {"disable": True}
    else:  # our redirect_server answers plain HTTP, so Caddy must not add its own redirects
        port, automatic_https = settings.https_port, {"disable_redirects": True}
        policies = discovery_tls(settings)
        if policies:
            extra["tls_connection_policies"] = policies
            # Caddy would turn strict SNI-Host matching on (client auth on one name): clients that connect to an
            # address without a name would get 421. Not needed: what client auth guards is the forwarded
            # certificate, which is empty on a connection that did not go through discovery's policy.
            extra["strict_sni_host"] = False
        if settings.hsts:
            hsts = {"handler": "headers", "response": {"set": {"Strict-Transport-Security": [HSTS]}}}
            routes.insert(0, route([hsts]))
    return {
        "listen": [f":{port}"],
        "routes": routes,
        "errors": {"routes": error_routes()},
        "automatic_https": automatic_https,
        "logs": logs,
        **extra,
    }


def redirect_server(settings: Settings) -> dict:
    """Plain HTTP on the gateway's port: every known host is redirected to HTTPS (308 keeps the method)."""
    port = "" if settings.https_port == 443 else f":{settings.https_port}"
    location = f"https://{{http.request.host}}{port}{{http.request.uri}}"
    redirect = {"handler": "static_response", "status_code": 308, "headers": {"Location": [location]}}
    return {
        "listen": [f":{settings.port}"],
        "logs": {"default_logger_name": "festivals"},
        "routes": [
            request_context(settings),
            route([redirect], [{"host": list(hosts(settings, {}))}], terminal=True),
            route([envelope(403, "unknown host")]),
        ],
    }


def tls_apps(settings: Settings) -> dict:
    """Certificates for the public names: Caddy's internal issuer for local names (under our CA when its key
    is given, so clients trust one `ca.pem`; never installed into the system's trust store), ACME otherwise."""
    names = list(hosts(settings, {}))
    if settings.public_tls == "acme":
        issuer = {"module": "acme", **({"email": settings.acme_email} if settings.acme_email else {})}
        return {"tls": {"automation": {"policies": [{"subjects": names, "issuers": [issuer]}]}}}
    # Clients that connect to a loopback address without a server name are served a certificate for it.
    names += ["127.0.0.1", "::1"] if is_local_name(settings.domain) else []
    authorities = {"local": {"install_trust": False}}
    issuer = {"module": "internal"}
    if settings.ca_key:
        authorities[CA_ID] = {
            "name": "FestivalsApp",
            "install_trust": False,
            "root": {"certificate": settings.tls.ca, "private_key": settings.ca_key, "format": "pem_file"},
        }
        issuer["ca"] = CA_ID
    return {
        "pki": {"certificate_authorities": authorities},
        "tls": {
            "certificates": {"automate": names},
            "automation": {"policies": [{"subjects": names, "issuers": [issuer]}]},
        },
    }


def logging_config(settings: Settings) -> dict:
    """The access log names only the masked address (ip_mask), never a client-sent address or a credential
    (nor the password-reset token of a URL); `user_id` is the request id (request_context)."""
    writer = {"output": "file", "filename": settings.access_log} if settings.access_log else {"output": "stderr"}
    access = "http.log.access.festivals"
    return {
        "logs": {
            "default": {"exclude": [access]},
            "access": {
                "include": [access],
                "writer": writer,
                "encoder": {
                    "format": "filter",
                    "wrap": {"format": "json"},
                    "fields": {
                        "request>remote_ip": {"filter": "ip_mask", "ipv4_cidr": 24, "ipv6_cidr": 48},
                        "request>uri": {"filter": "regexp", "regexp": SECRET_PATH, "value": "${1}" + REDACTED},
                        **{field: {"filter": "delete"} for field in UNLOGGED},
                    },
                },
            },
        }
    }


def build_config(settings: Settings, upstreams: dict | None = None) -> dict:
    config = {
        "admin": {"listen": settings.admin, "config": {"persist": False}},
        "logging": logging_config(settings),
        "apps": {"http": {"servers": {"festivals": server(settings, upstreams or {})}}},
    }
    if settings.https:
        config["apps"]["http"].update({"http_port": settings.port, "https_port": settings.https_port})
        config["apps"]["http"]["servers"]["redirect"] = redirect_server(settings)
        config["apps"].update(tls_apps(settings))
        if settings.storage:
            config["storage"] = {"module": "file_system", "root": settings.storage}
    return config


class CaddyAdmin:
    """Caddy's admin API (loopback only)."""

    def __init__(self, address: str, timeout: float = 5.0):
        self.base = f"http://{address}"
        self.timeout = timeout
        self.session = requests.Session()

    def _send(self, method: str, path: str, body) -> None:
        response = self.session.request(
            method,
            self.base + path,
            data=orjson.dumps(body),
            timeout=self.timeout,
            headers={"Content-Type": "application/json"},
        )
        if response.status_code >= 400:
            raise RuntimeError(f"Caddy admin {method} {path}: {response.status_code} {response.text.strip()}")

    def load(self, config: dict) -> None:
        self._send("POST", "/load", config)

    def has_config(self) -> bool:
        try:
            response = self.session.get(f"{self.base}/id/{upstream_id('api')}", timeout=self.timeout)
        except requests.RequestException:
            return False
        return response.status_code == 200

    def upstreams(self, group: str) -> list[str]:
        response = self.session.get(f"{self.base}/id/{upstream_id(group)}/upstreams", timeout=self.timeout)
        response.raise_for_status()
        return [upstream["dial"] for upstream in response.json() or []]
