"""URL converters every face's routes use (registered by create_app)."""

from __future__ import annotations

from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter

from web.params import MAX_ID


class IdConverter(IntegerConverter):
    """`<id:...>`, a database id: 0 .. 2**31-1 (larger numbers cannot exist and would overflow the column). A
    larger one is a 404 for every method: a ValidationError would make werkzeug answer 405 when another rule of
    the same path takes other methods (PATCH beside GET)."""

    regex = r"[0-9]{1,100}"  # ASCII only: \d would also take other scripts' digits

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > MAX_ID:
            raise NotFound()
        return number
