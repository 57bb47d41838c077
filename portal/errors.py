"""What a portal page shows when a service refuses: a 403 or 404 page (a fragment for htmx), never a 500."""

from __future__ import annotations

from flask import Blueprint

from app.errors import DomainError
from web.forms import sentence
from web.htmx import render

TITLES = {401: "Please log in", 403: "Not allowed", 404: "Not found", 405: "Read-only mode", 409: "Conflict"}


def problem(status: int, message: str):
    return render(
        "portal/problem.html",
        "portal/_problem.html",
        status,
        title=TITLES.get(status, "This did not work"),
        message=message,
    )


def init_errors(bp: Blueprint) -> None:
    @bp.errorhandler(DomainError)
    def _refused(exc: DomainError):
        return problem(exc.status, sentence(exc.message))
