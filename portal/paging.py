"""Page numbers from the query string, for every paginated portal list."""
from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Page:
    number: int
    per_page: int
    total: int | None = None

    @classmethod
    def from_args(cls, args, per_page: int = 20) -> Page:
        """`?page=N`; anything that is not a positive number is page 1 (never an error page)."""
        raw = args.get("page", "1")
        number = int(raw) if raw.isdigit() and 0 < len(raw) < 7 else 1
        return cls(max(1, number), per_page)

    def with_total(self, total: int) -> Page:
        return replace(self, total=total)

    @property
    def limit(self) -> int:
        return self.per_page

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.per_page

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.total is not None and self.number * self.per_page < self.total
