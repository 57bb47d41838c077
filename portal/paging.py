"""Page numbers from the query string, for every paginated portal and admin list."""

from __future__ import annotations

from dataclasses import dataclass

from app.text import whole_number

PER_PAGE = 50


@dataclass
class Paging:
    """`?page=N` (50 rows a page); anything else is page 1 with a message saying so."""

    number: int = 1
    per_page: int = PER_PAGE
    total: int = 0
    message: str = ""

    @classmethod
    def parse(cls, args, per_page: int = PER_PAGE) -> Paging:
        raw = (args.get("page") or "1").strip()
        number = whole_number(raw, max_digits=6)
        if number:
            return cls(number, per_page)
        return cls(1, per_page, message=f"“{raw[:20]}” is not a page number; showing the first page.")

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.per_page

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number * self.per_page < self.total

    @property
    def last(self) -> int:
        return max(1, -(-self.total // self.per_page))
