"""Our gunicorn config's response (common/gunicorn_response.py): headers and the first body bytes in one write,
so a worker killed mid-answer leaves no headers without a body. Driven through gunicorn's own request parser
and `wsgi.create`, over a real socket pair; what the client reads is parsed by http.client."""

from __future__ import annotations

import http.client
import socket

import pytest
from gunicorn.config import Config
from gunicorn.http import wsgi
from gunicorn.http.parser import RequestParser

from common import gunicorn_response

BODY = "Größenwahn & Gemütlichkeit – Bühne Süd".encode()


class RecordingSocket:
    """The worker's side of the connection, noting each write."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.writes: list[bytes] = []

    def sendall(self, data) -> None:
        self.writes.append(bytes(data))
        self.sock.sendall(data)

    def __getattr__(self, name):
        return getattr(self.sock, name)


@pytest.fixture
def exchange(monkeypatch):
    """exchange(app, method) -> (the worker's writes, the client's parsed answer)."""
    monkeypatch.setattr(wsgi, "Response", wsgi.Response)  # restored after the test
    gunicorn_response.install()
    pairs = []

    def run(app, method="GET"):
        worker, client = socket.socketpair()
        pairs.append((worker, client))
        client.sendall(f"{method} /api/v1/festivals/7 HTTP/1.1\r\nHost: festivals.example\r\n\r\n".encode())
        cfg = Config()
        request = next(iter(RequestParser(cfg, worker, ("127.0.0.1", 50000))))
        recording = RecordingSocket(worker)
        response, environ = wsgi.create(request, recording, ("127.0.0.1", 50000), ("127.0.0.1", 8000), cfg)
        assert isinstance(response, gunicorn_response.OneWriteResponse)
        answer = app(environ, response.start_response)
        if isinstance(answer, environ["wsgi.file_wrapper"]):
            response.write_file(answer)
        else:
            for part in answer:
                response.write(part)
        response.close()
        if hasattr(answer, "close"):
            answer.close()
        worker.shutdown(socket.SHUT_WR)
        parsed = http.client.HTTPResponse(client, method=method)
        parsed.begin()
        return recording.writes, parsed

    yield run
    for worker, client in pairs:
        worker.close()
        client.close()


def test_an_answer_goes_out_in_one_write(exchange):
    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(BODY)))])
        return [BODY]

    writes, answer = exchange(app)
    assert len(writes) == 1
    assert writes[0].startswith(b"HTTP/1.1 200 OK\r\n") and writes[0].endswith(b"\r\n\r\n" + BODY)
    assert answer.status == 200 and answer.getheader("Content-Length") == str(len(BODY))
    assert answer.read() == BODY


def test_a_body_in_parts_sends_the_headers_with_the_first(exchange):
    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/csv"), ("Content-Length", str(2 * len(BODY)))])
        return iter([BODY, BODY])

    writes, answer = exchange(app)
    assert len(writes) == 2 and writes[0].endswith(b"\r\n\r\n" + BODY) and writes[1] == BODY
    assert answer.read() == BODY + BODY


@pytest.mark.parametrize("method, status", [("GET", "304 Not Modified"), ("HEAD", "200 OK")])
def test_an_answer_without_body_sends_its_headers_when_it_closes(exchange, method, status):
    def app(environ, start_response):
        start_response(status, [("ETag", '"3.abc"'), ("Content-Length", "0" if status[:3] == "304" else "42")])
        return [b""]

    writes, answer = exchange(app, method)
    assert len(writes) == 1 and writes[0].endswith(b"\r\n\r\n")
    assert answer.status == int(status[:3]) and answer.getheader("ETag") == '"3.abc"'


def test_a_chunked_answer_and_a_file_arrive_whole(exchange, tmp_path):
    def chunked(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return iter([BODY, b"", BODY])

    writes, answer = exchange(chunked)
    assert answer.getheader("Transfer-Encoding") == "chunked" and answer.read() == BODY + BODY

    path = tmp_path / "Plakat Süd.txt"
    path.write_bytes(BODY * 100)

    def file(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(BODY) * 100))])
        return environ["wsgi.file_wrapper"](open(path, "rb"))

    writes, answer = exchange(file)
    assert answer.read() == BODY * 100
