from __future__ import annotations

from typing import Any

from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from rest_framework import pagination

# Offsets beyond a signed 64-bit integer are refused by the database itself.
_LARGEST_SQL_INTEGER = 2**63 - 1


class LastPageCountingPaginator(Paginator[Any]):
    """A paginator that counts the rows only when the page asked for is full.

    A page with fewer rows than a page holds is the last one, so the total is the rows before
    it plus its own: most lists (an account's uploads or analyses) fit on their first page and
    need one query instead of a COUNT and a page. A full page, or one past the end, still runs
    the COUNT (the response's `count` and `next` need it). Orphans are not supported.
    """

    def page(self, number: int | str) -> Page[Any]:
        try:
            number = int(number)
        except (TypeError, ValueError) as error:
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from error
        if number < 1:
            raise EmptyPage(self.error_messages["min_page"])
        bottom = (number - 1) * self.per_page
        if bottom + self.per_page > _LARGEST_SQL_INTEGER:
            # No table holds that many rows: the COUNT tells the page is past the end.
            self.validate_number(number)
        rows = list(self.object_list[bottom : bottom + self.per_page])
        if 0 < len(rows) < self.per_page or (not rows and number == 1):
            self.__dict__["count"] = bottom + len(rows)  # count is a cached_property
        elif not rows:
            # Past the end: EmptyPage unless rows arrived since the page was read.
            self.validate_number(number)
        return Page(rows, number, self)


class PageNumberPagination(pagination.PageNumberPagination):
    """Page-numbered lists: `?page=N&page_size=M` (at most 100 a page)."""

    django_paginator_class = LastPageCountingPaginator
    page_size_query_param = "page_size"
    max_page_size = 100
