"""The OpenAPI document and its docs page (Swagger UI from npm, served by our own static route)."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from api.openapi import build_document
from web.responses import json_response

bp = Blueprint("api_docs", __name__, url_prefix="/api")


@bp.get("/v1/openapi.json")
def openapi_document():
    return json_response(build_document(current_app.config["VERSION"]))


@bp.get("/docs")
def docs_page():
    return render_template("api/docs.html")
