"""Rows to contract dicts: `<entity>_<field>` keys, RFC 3339 UTC versions, real booleans."""
from __future__ import annotations

from datetime import datetime

from app.registry import EntitySpec


def format_version(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def columns(spec: EntitySpec) -> list:
    return [getattr(spec.model, attr) for attr in spec.fields]


def from_tuple(spec: EntitySpec, values) -> dict:
    """A row selected with `columns(spec)` (as a tuple, in that order) as a contract dict."""
    out = {}
    for attr, value in zip(spec.fields, values):
        out[f"{spec.name}_{attr}"] = format_version(value) if attr == "version" else value
    return out


def from_row(spec: EntitySpec, row) -> dict:
    return from_tuple(spec, [getattr(row, attr) for attr in spec.fields])
