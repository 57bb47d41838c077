"""Data steps of migrations that plain SQL cannot do the same way on both databases, run after the
migration's SQL in its transaction. They use raw SQL, not the models, so they never change later."""

from __future__ import annotations

from app.text import name_key


def _name_keys(database, table: str, prefix: str) -> None:
    """Keys of existing unique names. Two old names with one key (they differed only in case or
    normalisation) both stay: the later row's key gets its id appended, so nothing is lost or renamed."""
    mark = "%s" if database.param == "%s" else "?"
    # Placeholders first, so no new key collides with an old one not yet recomputed (a zero-width space
    # never survives name_key, so no real key can equal a placeholder).
    database.execute_sql(f'UPDATE "{table}" SET "{prefix}_name_key" = {mark} || "{prefix}_id"', ("\u200b",))
    rows = database.execute_sql(f'SELECT "{prefix}_id", "{prefix}_name" FROM "{table}" ORDER BY "{prefix}_id"')
    seen: set[str] = set()
    for row_id, name in rows.fetchall():
        key = name_key(name) or f"#{row_id}"
        if key in seen:
            key = f"{key}#{row_id}"
        seen.add(key)
        database.execute_sql(
            f'UPDATE "{table}" SET "{prefix}_name_key" = {mark} WHERE "{prefix}_id" = {mark}', (key, row_id)
        )


def security_0005(database) -> None:
    _name_keys(database, "festival", "festival")
    _name_keys(database, "tag", "tag")


STEPS = {"0005_security": security_0005}
