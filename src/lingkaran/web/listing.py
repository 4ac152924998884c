"""What the paged, filtered lists of the back office share: the query string their pager links keep, and answering
an HTMX request with the rows alone (``web/partials/_pager.html`` draws the pager)."""

from __future__ import annotations

from django.shortcuts import render
from django.utils.cache import patch_vary_headers


def query_without_page(request, *drop: str) -> str:
    """The request's parameters for pager links: without ``page`` and ``format`` (and ``drop``), urlencoded."""
    query = request.GET.copy()
    for key in ("page", "format", *drop):
        query.pop(key, None)
    return query.urlencode()


def rows_or_page(request, rows_template: str, page_template: str, context: dict):
    """The rows alone for an HTMX request that swaps them (not a history restore), else the whole page; varies on
    ``HX-Request`` so a cache never serves one for the other."""
    partial = request.htmx and not request.htmx.history_restore_request
    response = render(request, rows_template if partial else page_template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response
