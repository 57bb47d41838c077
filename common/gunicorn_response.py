"""gunicorn's HTTP/1 response, sending its status line and headers in the same write as the first body bytes.

gunicorn writes the headers, then the body: two writes. A worker killed between them (kill -9, the OOM killer)
leaves the gateway an answer already begun, with a Content-Length and no body; Caddy passes those headers on and
cannot retry, so the client's read fails. With one write an answer reaches the gateway whole or not at all, and
Caddy retries a GET that got nothing on another instance. It also saves a system call and a TCP segment per
answer. Installed by the gunicorn config (common/gunicorn_hooks.py) before the workers are forked."""

from __future__ import annotations

from gunicorn import util
from gunicorn.http import wsgi


class OneWriteResponse(wsgi.Response):
    held = b""  # the status line and headers, waiting for the first body bytes
    sending_file = False

    def send_headers(self):
        if self.headers_sent:
            return
        # built as gunicorn's own send_headers builds them
        lines = self.default_headers()
        lines.extend([f"{name}: {value}\r\n" for name, value in self.headers])
        self.held = util.to_bytestring("".join(lines) + "\r\n", "latin-1")
        self.headers_sent = True
        if self.sending_file:  # gunicorn sends the file straight to the socket next: the headers go first
            self.flush_headers()

    def flush_headers(self):
        held, self.held = self.held, b""
        if held:
            util.write(self.sock, held)

    def _emit_body(self, data):
        if self.held and not self.chunked:
            held, self.held = self.held, b""
            util.write(self.sock, held + data)
        else:
            self.flush_headers()
            super()._emit_body(data)

    def sendfile(self, respiter):
        self.sending_file = True
        try:
            return super().sendfile(respiter)
        finally:
            self.sending_file = False

    def close(self):
        self.send_headers()  # an answer without body bytes (a 304, HEAD, an empty body) has its headers sent here
        self.flush_headers()
        super().close()


def install() -> None:
    """Every HTTP/1 response of this process's workers (gunicorn's `wsgi.create` makes them from this name)."""
    wsgi.Response = OneWriteResponse
