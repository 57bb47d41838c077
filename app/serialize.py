"""Rows to contract dicts: `<entity>_<field>` keys, RFC 3339 UTC versions, real booleans."""

from __future__ import annotations

from datetime import datetime
from functools import cache

from peewee import BooleanField

from app.registry import EntitySpec


def format_version(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def columns(spec: EntitySpec) -> list:
    return [getattr(spec.model, attr) for attr in spec.fields]


def _version(value) -> str:
    if isinstance(value, str):  # SQLite hands back its stored text "YYYY-MM-DD HH:MM:SS[.ffffff]"
        return f"{value[:10]}T{value[11:19]}Z"
    return format_version(value)


@cache
def raw_converter(spec: EntitySpec):
    """A function turning a raw database row (the `columns(spec)` values as the driver returns them)
    into a contract dict; skips peewee's per-row model machinery on the hot read path."""
    keys = [spec.key(attr) for attr in spec.fields]
    version = spec.key("version") if "version" in spec.fields else None
    booleans = [spec.key(attr) for attr in spec.fields if isinstance(getattr(spec.model, attr), BooleanField)]

    def convert(values) -> dict:
        out = dict(zip(keys, values, strict=True))
        if version is not None and out[version] is not None:
            out[version] = _version(out[version])
        for key in booleans:  # SQLite answers 0/1
            if out[key] is not None:
                out[key] = bool(out[key])
        return out

    return convert


def from_tuple(spec: EntitySpec, values) -> dict:
    """A row selected with `columns(spec)` (as a tuple, in that order) as a contract dict."""
    out = {}
    for attr, value in zip(spec.fields, values, strict=True):
        out[f"{spec.name}_{attr}"] = format_version(value) if attr == "version" else value
    return out


def from_row(spec: EntitySpec, row) -> dict:
    return from_tuple(spec, [getattr(row, attr) for attr in spec.fields])
