"""TLS settings shared by every process: the service's own certificate and key (it serves its internal port
with them and presents them as a client) and the CA that every peer's certificate must be signed by.

FESTIVALS_TLS_CERT / FESTIVALS_TLS_KEY / FESTIVALS_TLS_CA (files, usually made by `flask --app wsgi pki`);
common/launch.py starts gunicorn with the options for them."""

from __future__ import annotations

import os
import ssl
from dataclasses import dataclass


@dataclass(frozen=True)
class TlsFiles:
    cert: str = ""
    key: str = ""
    ca: str = ""

    @classmethod
    def of(cls, settings) -> TlsFiles:
        """The files a settings section names (common/settings.py Shared: tls_cert, tls_key, tls_ca)."""
        return cls(settings.tls_cert, settings.tls_key, settings.tls_ca)

    @property
    def enabled(self) -> bool:
        return bool(self.cert and self.key and self.ca)

    def check(self) -> None:
        """All three or none: a half-configured service would silently talk plain HTTP."""
        given = [name for name, value in (("CERT", self.cert), ("KEY", self.key), ("CA", self.ca)) if value]
        if given and len(given) < 3:
            raise ValueError(
                "FESTIVALS_TLS_CERT, FESTIVALS_TLS_KEY and FESTIVALS_TLS_CA go together "
                f"(only {', '.join('FESTIVALS_TLS_' + g for g in given)} set)"
            )
        for path in (self.cert, self.key, self.ca):
            if path and not os.path.isfile(path):
                raise ValueError(f"TLS file not found: {path}")

    def gunicorn_args(self) -> list[str]:
        """Serve TLS and require a client certificate signed by the CA: a peer without one is refused
        during the handshake, before any request is read."""
        if not self.enabled:
            return []
        return [
            "--certfile",
            self.cert,
            "--keyfile",
            self.key,
            "--ca-certs",
            self.ca,
            "--cert-reqs",
            str(int(ssl.CERT_REQUIRED)),
        ]

    def client_context(self) -> ssl.SSLContext | None:
        """For calls to other services (JWKS, heartbeats): verify the peer against the CA and present our
        own certificate. None without TLS settings (plain HTTP, or the system's CAs for https URLs)."""
        if not self.enabled:
            return None
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=self.ca)
        context.load_cert_chain(self.cert, self.key)
        return context
