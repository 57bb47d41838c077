"""The public schedule page for visitors, on the portal host: `/<festival id>` or `/<slug of its name>`,
published festivals only (a draft is a 404 like any unknown address). Phone-first: days, a stage filter, a
search, what is on now and next, and a link to subscribe to the festival's calendar. No session and no CSRF
token in the page, so caches may keep it for a minute (with an ETag)."""

from __future__ import annotations

import time

from flask import abort, make_response, render_template, request, url_for

from app.permissions import ANONYMOUS
from app.services import exports
from portal import bp

CACHE_SECONDS = 60


def _matches(event: dict, words: str) -> bool:
    text = " ".join([event["event_name"], exports.stage_name(event), *exports.artist_names(event)]).casefold()
    return all(word in text for word in words.casefold().split())


def _page(festival_id: int):
    program = exports.load(festival_id, ANONYMOUS, parts=True)  # NotFound for a draft
    stages = sorted({exports.stage_name(event) for event in program.events}, key=str.casefold)
    stage = request.args.get("stage", "")[:255]
    words = request.args.get("q", "")[:100].strip()
    shown = [
        event
        for event in program.timed
        if (not stage or exports.stage_name(event) == stage) and (not words or _matches(event, words))
    ]
    now = int(time.time())
    on_now = [event for event in shown if event["event_start"] <= now < (event["event_end"] or event["event_start"])]
    coming = [event for event in shown if event["event_start"] > now][:3]
    if not on_now and not (coming and coming[0]["event_start"] - now < 86400):
        coming = []  # "next" only while the festival runs (today)
    calendar = url_for("api.festival_export", festival_id=festival_id, kind="schedule.ics", _external=True)
    filters = {"stages": stages, "stage": stage, "words": words}
    page = render_template(
        "web/schedule.html",
        program=program,
        festival=program.festival,
        days=program.days(shown),
        **filters,
        on_now=on_now,
        coming=coming,
        calendar=calendar,
        stage_name=exports.stage_name,
    )
    response = make_response(page)
    response.headers["Cache-Control"] = f"public, max-age={CACHE_SECONDS}"
    response.add_etag()
    return response.make_conditional(request)


@bp.get("/<id:festival_id>")
def public_schedule(festival_id: int):
    return _page(festival_id)


@bp.get("/<slug>")
def public_schedule_by_slug(slug: str):
    festival_id = exports.published_by_slug(slug.lower())
    if festival_id is None:
        abort(404)
    return _page(festival_id)
