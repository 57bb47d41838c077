"""JSON responses of the API and identity routes: the `{"data": [...]}` and `{"error": ...}` envelopes."""

from __future__ import annotations

import orjson
from flask import Response, g

from common.http import json_response

__all__ = ["json_response", "data_envelope", "data_response", "error_response"]


def data_envelope(objects: list) -> dict:
    """The `{"data": [...]}` envelope: also of the reads api/fast_reads.py makes below Flask (api/resources.py)."""
    return {"data": objects}


def data_response(objects: list, status: int = 200, headers: dict | None = None) -> Response:
    return json_response(data_envelope(objects), status, headers)


def error_response(status: int, message: str, fields: dict | None = None) -> Response:
    body = {"error": message}
    if fields:
        body["fields"] = fields
    response = json_response(body, status)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="festivals"'
    if status == 500:
        body["request_id"] = g.get("request_id", "")
        response.set_data(orjson.dumps(body))
    return response
