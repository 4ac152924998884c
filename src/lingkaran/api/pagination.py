"""The pagination convention of the whole API: ``?limit=&offset=`` in, ``{items, count, limit, offset, next}`` out.

``limit`` is 1–500 (default 50); ``next`` is the offset of the following page, or null on the last page.
"""

from typing import Any

from ninja import Field, Schema
from ninja.pagination import PaginationBase


class LimitOffset(PaginationBase):
    class Input(Schema):
        limit: int = Field(50, ge=1, le=500)
        offset: int = Field(0, ge=0)

    class Output(Schema):
        items: list[Any]
        count: int
        limit: int
        offset: int
        next: int | None

    def paginate_queryset(self, queryset, pagination: Input, request, **params):
        count = self._items_count(queryset)
        end = pagination.offset + pagination.limit
        return {
            "items": list(queryset[pagination.offset : end]),
            "count": count,
            "limit": pagination.limit,
            "offset": pagination.offset,
            "next": end if end < count else None,
        }
