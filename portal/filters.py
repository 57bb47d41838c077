"""Template filters for the portal's times: unix seconds shown in UTC (the contract's times)."""

from __future__ import annotations

from datetime import UTC, datetime


def _format(seconds, pattern: str) -> str:
    if not seconds:
        return "—"
    return datetime.fromtimestamp(seconds, UTC).strftime(pattern)


def init_filters(bp) -> None:
    bp.add_app_template_filter(lambda s: _format(s, "%Y-%m-%d"), "day")
    bp.add_app_template_filter(lambda s: _format(s, "%Y-%m-%d %H:%M"), "when")
    bp.add_app_template_filter(lambda s: _format(s, "%H:%M"), "clock")
